package decode

// RaftIndexes calls fn for each raft index a record carries near its top
// level, in this order: CreateIndex and ModifyIndex of the value; an Index
// record's Value; a Register record's Service.CreateIndex,
// Service.ModifyIndex, Check.CreateIndex, Check.ModifyIndex. Only unsigned
// (or non-negative) integers count; when a key appears twice the last one
// counts, as in Consul's decoder. Types whose value is wrapped or carries
// no raft index (ConfigEntry, protobuf records, ChunkingState,
// CoordinateBatchUpdate, FreeVirtualIP) and values that are not a valid
// msgpack map give nothing. It walks the bytes (fields.go) and allocates
// nothing: verify's "no index beyond meta.json's Index" check can run at
// scanning speed.
func RaftIndexes(rec *Record, fn func(field string, v uint64)) {
	if len(rec.Raw) < 2 {
		return
	}
	RaftIndexesOf(rec.Type, rec.Raw[1:], fn)
}

// RaftIndexesOf is RaftIndexes for the value b (a record's Raw without its
// type byte) of a record of type t.
func RaftIndexesOf(t MessageType, b []byte, fn func(field string, v uint64)) {
	switch t {
	case TypeConfigEntry, TypePeering, TypePeeringTrustBundle, TypePeeringSecret,
		TypeResource, TypeChunkingState, TypeCoordinateBatchUpdate, TypeFreeVirtualIP:
		return
	}
	if len(b) == 0 {
		return
	}
	var f [5]int
	names := [5]string{"CreateIndex", "ModifyIndex", "Value", "Service", "Check"}
	if !isMapAt(b, 0) || !scanTop(b, names[:], f[:]) {
		return // not exactly one valid msgpack map
	}
	emit := func(name string, p int) {
		if u, ok := uintAt(b, p); ok {
			fn(name, u)
		}
	}
	emit("CreateIndex", f[0])
	emit("ModifyIndex", f[1])
	switch t {
	case TypeIndex:
		emit("Value", f[2])
	case TypeRegister:
		for i, out := range [2][2]string{
			{"Service.CreateIndex", "Service.ModifyIndex"},
			{"Check.CreateIndex", "Check.ModifyIndex"},
		} {
			if p := f[3+i]; isMapAt(b, p) {
				var g [2]int
				lookup(b, p, names[:2], g[:])
				emit(out[0], g[0])
				emit(out[1], g[1])
			}
		}
	}
}
