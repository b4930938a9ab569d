package decode

import (
	"strings"
	"unicode/utf8"
)

// MaxLabelLen caps a label, in bytes (cut on a rune boundary, "…" added).
const MaxLabelLen = 96

// Label is the human name of a record, read from the record itself, shown
// beside its identity (which stays the matching contract): a token's
// Description, a policy's, role's, auth method's, peering's, CA root's or
// legacy ACL's Name, a session's Name@Node (Node when it has no name), a
// prepared query's Name (or "template <Type> <Regexp>", or "service
// <Service>" when it has neither), a binding rule's "<AuthMethod>:
// <Selector>", a config entry's Kind/Name, a legacy intention's "<Source>
// -> <Destination>", a catalog service's service name and a check's Name.
// tree is the record's content as View returns it (masked or not: no
// label reads a secret). "" when the type has no natural name or the
// record has none (KVS, Tombstone, Index, coordinates, …). The label is
// raw input text: renderers escape it for a terminal like any other.
func Label(t MessageType, tree any) string {
	o, _ := tree.(*Object)
	if o == nil {
		return ""
	}
	var s string
	switch t {
	case TypeACLToken:
		s = labelStr(o, "Description")
	case TypeACLPolicy, TypeACLRole, TypeACLAuthMethod, TypePeering, TypeConnectCA, TypeACL:
		s = labelStr(o, "Name")
	case TypeSession:
		s = labelStr(o, "Node")
		if n := labelStr(o, "Name"); n != "" {
			s = n + "@" + s
		}
	case TypePreparedQuery:
		s = labelStr(o, "Name")
		if s == "" {
			if tt := strings.TrimSpace(labelStr(o, "Template", "Type") + " " + labelStr(o, "Template", "Regexp")); tt != "" {
				s = "template " + tt
			} else if svc := labelStr(o, "Service", "Service"); svc != "" {
				s = "service " + svc
			}
		}
	case TypeACLBindingRule:
		if m := labelStr(o, "AuthMethod"); m != "" {
			sel := labelStr(o, "Selector")
			if sel == "" {
				sel = "(any)"
			}
			s = m + ": " + sel
		}
	case TypeConfigEntry:
		k, n := labelStr(o, "Kind"), labelStr(o, "Name")
		if k == "" {
			k = labelStr(o, "Entry", "Kind")
		}
		if n == "" {
			n = labelStr(o, "Entry", "Name")
		}
		if k != "" || n != "" {
			s = k + "/" + n
		}
	case TypeIntention:
		src, dst := labelStr(o, "SourceName"), labelStr(o, "DestinationName")
		if src != "" || dst != "" {
			s = src + " -> " + dst
		}
	case TypeRegister:
		if svc, ok := o.Get("Service"); ok && svc != nil {
			s = labelStr(o, "Service", "Service")
		} else if chk, ok := o.Get("Check"); ok && chk != nil {
			s = labelStr(o, "Check", "Name")
		}
	}
	return clipLabel(s)
}

// labelStr returns the string at path in o ("" when absent or not a string).
func labelStr(o *Object, path ...string) string {
	var v any = o
	for _, k := range path {
		obj, ok := v.(*Object)
		if !ok {
			return ""
		}
		if v, ok = obj.Get(k); !ok {
			return ""
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
	}
	return ""
}

// clipLabel trims s to one line of at most MaxLabelLen bytes.
func clipLabel(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	if len(s) <= MaxLabelLen {
		return s
	}
	n := MaxLabelLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
