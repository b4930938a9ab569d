package diff

import (
	"fmt"
	"strings"
)

// maxLCSCells bounds the LCS table of a line diff (lines of A × lines of B
// left after trimming the common head and tail); beyond it the differing
// middle is shown as all removed then all added.
const maxLCSCells = 4 << 20

// unifiedDiff returns a unified diff (3 lines of context) of two texts, or
// "" when they are equal.
func unifiedDiff(a, b, nameA, nameB string) string {
	if a == b {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	ops := lineOps(al, bl)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	const ctx = 3
	// Group ops into hunks.
	i := 0
	for i < len(ops) {
		// find next change
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i >= len(ops) {
			break
		}
		start := i - ctx
		if start < 0 {
			start = 0
		}
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			// run of context: does another change follow within 2*ctx?
			j := end
			for j < len(ops) && ops[j].kind == ' ' {
				j++
			}
			if j < len(ops) && j-end <= 2*ctx {
				end = j
				continue
			}
			end += ctx
			if end > len(ops) {
				end = len(ops)
			}
			break
		}
		aStart, bStart, aN, bN := -1, -1, 0, 0
		for _, op := range ops[start:end] {
			if op.kind != '+' {
				if aStart < 0 {
					aStart = op.ai
				}
				aN++
			}
			if op.kind != '-' {
				if bStart < 0 {
					bStart = op.bi
				}
				bN++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aN, ops[start].ai), hunkRange(bStart, bN, ops[start].bi))
		for _, op := range ops[start:end] {
			out.WriteByte(op.kind)
			out.WriteString(op.line)
			out.WriteByte('\n')
		}
		i = end
	}
	return out.String()
}

func hunkRange(start, n, fallback int) string {
	if start < 0 {
		start = fallback
	}
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type lineOp struct {
	kind   byte // ' ', '-', '+'
	line   string
	ai, bi int // index in A / B of this line (or of the next line for inserts/deletes on the other side)
}

func lineOps(a, b []string) []lineOp {
	var ops []lineOp
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		ops = append(ops, lineOp{' ', a[p], p, p})
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	am, bm := a[p:len(a)-s], b[p:len(b)-s]
	n, m := len(am), len(bm)
	if n*m <= maxLCSCells && n > 0 && m > 0 {
		// LCS lengths of suffixes.
		l := make([][]int32, n+1)
		for i := range l {
			l[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if am[i] == bm[j] {
					l[i][j] = l[i+1][j+1] + 1
				} else if l[i+1][j] >= l[i][j+1] {
					l[i][j] = l[i+1][j]
				} else {
					l[i][j] = l[i][j+1]
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && am[i] == bm[j]:
				ops = append(ops, lineOp{' ', am[i], p + i, p + j})
				i++
				j++
			case j >= m || (i < n && l[i+1][j] >= l[i][j+1]):
				ops = append(ops, lineOp{'-', am[i], p + i, p + j})
				i++
			default:
				ops = append(ops, lineOp{'+', bm[j], p + i, p + j})
				j++
			}
		}
	} else {
		for i, x := range am {
			ops = append(ops, lineOp{'-', x, p + i, p})
		}
		for j, x := range bm {
			ops = append(ops, lineOp{'+', x, p + n, p + j})
		}
	}
	for k := 0; k < s; k++ {
		ops = append(ops, lineOp{' ', a[len(a)-s+k], len(a) - s + k, len(b) - s + k})
	}
	return ops
}
