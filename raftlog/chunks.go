package raftlog

import (
	"fmt"
	"slices"

	"github.com/snaptool/snaptool/decode"
)

// Consul applies a request larger than raft's SuggestedMaxDataSize (512 KiB)
// through hashicorp/go-raftchunking: several command entries whose
// Extensions is a protobuf ChunkInfo {1: OpNum, 2: SequenceNum, 3: NumChunks,
// 4: NextExtensions} and whose Data are consecutive pieces of the request.
// The FSM applies the whole request at the index of the chunk that completes
// the op; a term change drops incomplete ops. The reader does the same: a
// chunk entry shows as op "chunk", and the completing entry is decoded from
// the joined data.

// maxChunkBytes bounds the data held for incomplete ops.
const maxChunkBytes = 64 << 20

type chunkInfo struct {
	op, seq, n uint64
	next       []byte
}

type chunkOp struct {
	n     uint64
	parts map[uint64][]byte
}

type chunkState struct {
	term  uint64
	ops   map[uint64]*chunkOp
	bytes int
	// done caches the last completed op so that decoding the same entry
	// twice (the scanner's filter pass, then its tree pass) joins it once.
	doneIndex uint64
	done      []byte
	doneNext  []byte
}

// parseChunkInfo reads ChunkInfo with decode's protobuf reader (as a
// Peering: field 4 lands in Name, the varints in Extra).
// TODO(decode): an exported protobuf field reader would replace this.
func parseChunkInfo(ext []byte) (chunkInfo, error) {
	d, err := protoAs(decode.TypePeering, ext)
	if err != nil {
		return chunkInfo{}, err
	}
	p := d.Data.(*decode.Peering)
	u := func(k string) uint64 { v, _ := p.Extra[k].(uint64); return v }
	ci := chunkInfo{op: u("proto.1"), seq: u("proto.2"), n: u("proto.3")}
	if p.Name != "" {
		ci.next = []byte(p.Name)
	}
	if ci.n == 0 || ci.seq >= ci.n {
		return ci, fmt.Errorf("chunk %d of %d", ci.seq, ci.n)
	}
	return ci, nil
}

// add stores one chunk. It returns the joined data and the NextExtensions
// when the op is complete, nil otherwise.
func (c *chunkState) add(idx, term uint64, ci chunkInfo, data []byte) ([]byte, []byte, error) {
	if c.doneIndex == idx && c.done != nil {
		return c.done, c.doneNext, nil
	}
	if c.ops == nil || term != c.term {
		c.ops, c.term, c.bytes = map[uint64]*chunkOp{}, term, 0
	}
	op := c.ops[ci.op]
	if op == nil {
		op = &chunkOp{n: ci.n, parts: map[uint64][]byte{}}
		c.ops[ci.op] = op
	}
	if op.n != ci.n {
		return nil, nil, fmt.Errorf("chunk op %d: %d chunks, earlier chunks said %d", ci.op, ci.n, op.n)
	}
	if _, dup := op.parts[ci.seq]; !dup {
		if c.bytes+len(data) > maxChunkBytes {
			return nil, nil, fmt.Errorf("chunk op %d: more than %d MiB of incomplete chunks", ci.op, maxChunkBytes>>20)
		}
		op.parts[ci.seq] = append([]byte(nil), data...) // data aliases the file's map
		c.bytes += len(data)
	}
	if uint64(len(op.parts)) < op.n {
		return nil, nil, nil
	}
	seqs := make([]uint64, 0, len(op.parts))
	for s := range op.parts {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	var all []byte
	for _, s := range seqs {
		all = append(all, op.parts[s]...)
		c.bytes -= len(op.parts[s])
	}
	delete(c.ops, ci.op)
	c.doneIndex, c.done, c.doneNext = idx, all, ci.next
	return all, ci.next, nil
}
