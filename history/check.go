package history

import (
	"fmt"
	"time"
)

// Check is the cron rule set: MaxAge (0: off) for the newest intact
// backup's saved time, MaxGrowth (negative: off) in percent for the last
// step (LastGrowth). Now is the clock.
type Check struct {
	MaxAge    time.Duration
	MaxGrowth float64
	Now       time.Time
}

// Rule names of a Finding.
const (
	RuleDamaged   = "damaged"    // the newest backup is not intact (exit 3)
	RuleMaxAge    = "max-age"    // the newest intact backup is too old (exit 1)
	RuleMaxGrowth = "max-growth" // the last step grew too much (exit 1)
)

// Finding is one rule that fired, with a one-line reason.
type Finding struct {
	Rule    string
	Message string
}

// Evaluate applies the rules to r. Newest damaged always fires; the age
// and growth rules only when set. No intact backup at all fires max-age
// when it is set (there is nothing recent).
func (c Check) Evaluate(r *Result) []Finding {
	var out []Finding
	if n := r.Newest(); n != nil && !n.Intact() {
		out = append(out, Finding{RuleDamaged, fmt.Sprintf("newest backup %s is %s", n.File, verdictWords(n.Verdict))})
	}
	ni := r.NewestIntact()
	if c.MaxAge > 0 {
		switch {
		case ni < 0:
			out = append(out, Finding{RuleMaxAge, fmt.Sprintf("no intact backup among %d (limit %s)", len(r.Snapshots), c.MaxAge)})
		case r.Snapshots[ni].Saved == nil:
			out = append(out, Finding{RuleMaxAge, fmt.Sprintf("newest intact backup %s has no time in its ID %q", r.Snapshots[ni].File, r.Snapshots[ni].ID)})
		default:
			s := r.Snapshots[ni]
			if age := c.Now.Sub(*s.Saved); age > c.MaxAge {
				out = append(out, Finding{RuleMaxAge, fmt.Sprintf("newest intact backup %s was saved %s (%s ago), more than --max-age %s", s.File, s.Saved.Format(time.RFC3339), age.Round(time.Second), c.MaxAge)})
			}
		}
	}
	if c.MaxGrowth >= 0 {
		if from, to, delta, pct, ok := r.LastGrowth(); ok && pct > c.MaxGrowth {
			out = append(out, Finding{RuleMaxGrowth, fmt.Sprintf("%s grew %+.1f%% (%+d bytes) over %s, more than --max-growth %g%%", r.Snapshots[to].File, pct, delta, r.Snapshots[from].File, c.MaxGrowth)})
		}
	}
	return out
}

// verdictWords says a verdict in words: an empty or foreign file in the
// backup folder is a failed backup like a damaged one, and says so.
func verdictWords(v string) string {
	if v == VerdictNotSnapshot {
		return "not a Consul snapshot"
	}
	return v
}
