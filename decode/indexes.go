package decode

// RaftIndexes calls fn for each raft index a record carries near its top
// level, in this order: CreateIndex and ModifyIndex of the value; an Index
// record's Value; a Register record's Service.CreateIndex,
// Service.ModifyIndex, Check.CreateIndex, Check.ModifyIndex. Only unsigned
// (or non-negative) integers count; the first occurrence of a key wins.
// Types whose value is wrapped or carries no raft index (ConfigEntry,
// protobuf records, ChunkingState, CoordinateBatchUpdate, FreeVirtualIP)
// and values that are not a valid msgpack map give nothing. It walks the
// bytes and allocates nothing: verify's "no index beyond meta.json's
// Index" check can run at scanning speed.
func RaftIndexes(rec *Record, fn func(field string, v uint64)) {
	switch rec.Type {
	case TypeConfigEntry, TypePeering, TypePeeringTrustBundle, TypePeeringSecret,
		TypeResource, TypeChunkingState, TypeCoordinateBatchUpdate, TypeFreeVirtualIP:
		return
	}
	if len(rec.Raw) < 2 {
		return
	}
	b := rec.Raw[1:]
	c := checker{b: b}
	if !c.generic(0) || c.p != len(b) || b[0]&0xf0 != 0x80 && b[0] != 0xde && b[0] != 0xdf {
		return // not exactly one valid msgpack map
	}
	top := func(name string) (int, bool) { return MapField(b, 0, name) }
	take := func(at int, prefix [2]string) {
		for i, name := range [2]string{"CreateIndex", "ModifyIndex"} {
			if p, ok := MapField(b, at, name); ok {
				if u, ok := uintAt(b, p); ok {
					fn(prefix[i], u)
				}
			}
		}
	}
	take(0, [2]string{"CreateIndex", "ModifyIndex"})
	switch rec.Type {
	case TypeIndex:
		if p, ok := top("Value"); ok {
			if u, ok := uintAt(b, p); ok {
				fn("Value", u)
			}
		}
	case TypeRegister:
		if p, ok := top("Service"); ok && isMap(b[p]) {
			take(p, [2]string{"Service.CreateIndex", "Service.ModifyIndex"})
		}
		if p, ok := top("Check"); ok && isMap(b[p]) {
			take(p, [2]string{"Check.CreateIndex", "Check.ModifyIndex"})
		}
	}
}

func isMap(c byte) bool { return c&0xf0 == 0x80 || c == 0xde || c == 0xdf }

// uintAt reads a non-negative integer at b[p].
func uintAt(b []byte, p int) (uint64, bool) {
	c := checker{b: b, p: p}
	k, n, i, ok := c.head()
	switch {
	case !ok:
		return 0, false
	case k == Uint:
		return n, true
	case k == Int && i >= 0:
		return uint64(i), true
	}
	return 0, false
}
