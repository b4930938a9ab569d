package decode

// identityFast computes Identity for the common record types straight from
// the bytes, without the generic decode (diff and dump call Identity for
// every record of both snapshots). It gives exactly what identityFromValue
// gives on the decoded value (TestIdentityFastMatches), and declines (ok
// false) for other types and for values that are not a valid msgpack map,
// which take the generic path.
func identityFast(rec *Record) (string, bool) {
	switch rec.Type {
	case TypeKVS, TypeTombstone, TypeRegister, TypeSession, TypeACLToken, TypeIndex, TypeSystemMetadata:
	default:
		return "", false
	}
	if len(rec.Raw) < 2 || !isMap(rec.Raw[1]) {
		return "", false
	}
	b := rec.Raw[1:]
	if c := (checker{b: b}); !c.generic(0) || c.p != len(b) {
		return "", false
	}
	// str is identity.go's str: the first str/bin key equal to key, its value's
	// str/bin payload, else "".
	str := func(at int, key string) string {
		p, ok := MapField(b, at, key)
		if !ok {
			return ""
		}
		s, _, isStr := StrAt(b, p)
		if !isStr {
			return ""
		}
		return string(s)
	}
	switch rec.Type {
	case TypeKVS, TypeTombstone:
		return str(0, "Key") + qual{partition: str(0, "Partition"), namespace: str(0, "Namespace")}.suffix(), true
	case TypeRegister:
		node := str(0, "Node")
		q := qual{peer: str(0, "PeerName"), partition: str(0, "Partition")}
		if p, ok := MapField(b, 0, "Service"); ok && isMap(b[p]) {
			q.namespace = str(p, "Namespace")
			return "service:" + node + "/" + str(p, "ID") + q.suffix(), true
		}
		if p, ok := MapField(b, 0, "Check"); ok && isMap(b[p]) {
			q.namespace = str(p, "Namespace")
			return "check:" + node + "/" + str(p, "CheckID") + q.suffix(), true
		}
		return "node:" + node + q.suffix(), true
	case TypeSession:
		return str(0, "ID") + qual{partition: str(0, "Partition"), namespace: str(0, "Namespace")}.suffix(), true
	case TypeACLToken:
		return str(0, "AccessorID") + qual{partition: str(0, "Partition"), namespace: str(0, "Namespace")}.suffix(), true
	default: // TypeIndex, TypeSystemMetadata
		return str(0, "Key"), true
	}
}
