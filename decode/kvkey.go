package decode

// KVKeyBytes returns the Key field of a KVS or Tombstone record without
// decoding the rest: it walks the top-level map's keys and skips values by
// their msgpack headers. The result aliases rec.Raw (valid until the next
// Next) and nothing is allocated. ok is false for other types, or when the
// value is not a map with a str/bin Key.
func KVKeyBytes(rec *Record) (key []byte, ok bool) {
	if rec == nil || len(rec.Raw) < 2 || (rec.Type != TypeKVS && rec.Type != TypeTombstone) {
		return nil, false
	}
	return mapStrField(rec.Raw[1:], "Key")
}

// KVKey is KVKeyBytes as a string (one allocation for the string).
func KVKey(rec *Record) (string, bool) {
	b, ok := KVKeyBytes(rec)
	if !ok {
		return "", false
	}
	return string(b), true
}

// mapStrField finds field name in the msgpack map b and returns its value's
// payload if it is a str or bin.
func mapStrField(b []byte, name string) ([]byte, bool) {
	n, p, ok := MapHeader(b, 0)
	if !ok {
		return nil, false
	}
	for i := uint64(0); i < n; i++ {
		k, q, isStr := StrAt(b, p)
		if q < 0 {
			return nil, false
		}
		if isStr && string(k) == name {
			v, end, isStr := StrAt(b, q)
			return v, end >= 0 && isStr
		}
		if p = SkipValue(b, q); p < 0 {
			return nil, false
		}
	}
	return nil, false
}

// KVGroup groups a KV key like `consul snapshot inspect -kvdetails`
// (docs/FORMAT.md §11.2): its first depth parts split on "/", joined by "/"; the
// whole key when it has fewer parts, empty for depth 0 or less. Works on strings and on bytes (aliasing key). Examples:
// "a/" at depth 2 is "a/", "b//c" at depth 2 is "b/". It allocates nothing.
func KVGroup[S ~string | ~[]byte](key S, depth int) S {
	if depth <= 0 {
		return key[:0]
	}
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			if depth--; depth == 0 {
				return key[:i]
			}
		}
	}
	return key
}
