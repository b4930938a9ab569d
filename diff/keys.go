package diff

import "github.com/snaptool/snaptool/decode"

// Records are merged in Consul's write order: by type rank, then within a
// type by the record's order key. Both come from decode (decode.Rank and
// decode.Keys' Order, whose doc holds the order contract).

// rankEnd: an input that has ended sorts after every type.
const rankEnd = decode.MaxRank

func rankOf(t decode.MessageType) int { return decode.Rank(t) }
