package decode

import "strconv"

// MessageType is the type byte that starts each state.bin record.
type MessageType uint8

// Message types that can appear in snapshots (docs/FORMAT.md §5.1). Types that
// only appear in raft logs have names too, because Consul prints them.
const (
	TypeRegister               MessageType = 0
	TypeDeregister             MessageType = 1
	TypeKVS                    MessageType = 2
	TypeSession                MessageType = 3
	TypeACL                    MessageType = 4
	TypeTombstone              MessageType = 5
	TypeCoordinateBatchUpdate  MessageType = 6
	TypePreparedQuery          MessageType = 7
	TypeTxn                    MessageType = 8
	TypeAutopilot              MessageType = 9
	TypeArea                   MessageType = 10
	TypeACLBootstrap           MessageType = 11
	TypeIntention              MessageType = 12
	TypeConnectCA              MessageType = 13
	TypeConnectCAProviderState MessageType = 14
	TypeConnectCAConfig        MessageType = 15
	TypeIndex                  MessageType = 16
	TypeACLToken               MessageType = 17
	TypeACLTokenDelete         MessageType = 18
	TypeACLPolicy              MessageType = 19
	TypeACLPolicyDelete        MessageType = 20
	TypeConnectCALeaf          MessageType = 21
	TypeConfigEntry            MessageType = 22
	TypeACLRole                MessageType = 23
	TypeACLRoleDelete          MessageType = 24
	TypeACLBindingRule         MessageType = 25
	TypeACLBindingRuleDelete   MessageType = 26
	TypeACLAuthMethod          MessageType = 27
	TypeACLAuthMethodDelete    MessageType = 28
	TypeChunkingState          MessageType = 29
	TypeFederationState        MessageType = 30
	TypeSystemMetadata         MessageType = 31
	TypeServiceVirtualIP       MessageType = 32
	TypeFreeVirtualIP          MessageType = 33
	TypeKindServiceName        MessageType = 34
	TypePeering                MessageType = 35
	TypePeeringDelete          MessageType = 36
	TypePeeringTerminateByID   MessageType = 37
	TypePeeringTrustBundle     MessageType = 38
	TypePeeringTrustBundleDel  MessageType = 39
	TypePeeringSecret          MessageType = 40
	TypeRaftLogVerifierCheckpt MessageType = 41
	TypeResource               MessageType = 42
	TypeUpdateManualVirtualIP  MessageType = 43
)

// typeNames is Consul's MessageType display-name table (v1.16, CE). 37 has
// no display name in Consul and prints as Unknown(37).
var typeNames = map[MessageType]string{
	0: "Register", 1: "Deregister", 2: "KVS", 3: "Session", 4: "ACL", 5: "Tombstone",
	6: "CoordinateBatchUpdate", 7: "PreparedQuery", 8: "Txn", 9: "Autopilot", 10: "Area",
	11: "ACLBootstrap", 12: "Intention", 13: "ConnectCA", 14: "ConnectCAProviderState",
	15: "ConnectCAConfig", 16: "Index", 17: "ACLToken", 18: "ACLTokenDelete", 19: "ACLPolicy",
	20: "ACLPolicyDelete", 21: "ConnectCALeaf", 22: "ConfigEntry", 23: "ACLRole",
	24: "ACLRoleDelete", 25: "ACLBindingRule", 26: "ACLBindingRuleDelete", 27: "ACLAuthMethod",
	28: "ACLAuthMethodDelete", 29: "ChunkingState", 30: "FederationState", 31: "SystemMetadata",
	32: "ServiceVirtualIP", 33: "FreeVirtualIP", 34: "KindServiceName", 35: "Peering",
	36: "PeeringDelete", 38: "PeeringTrustBundle", 39: "PeeringTrustBundleDelete",
	40: "PeeringSecret", 41: "RaftLogVerifierCheckpoint", 42: "Resource",
	43: "UpdateManualVirtualIPRequestType",
}

var typeNameStrings [256]string

func init() {
	for i := 0; i < 256; i++ {
		if n, ok := typeNames[MessageType(i)]; ok {
			typeNameStrings[i] = n
		} else {
			typeNameStrings[i] = "Unknown(" + strconv.Itoa(i) + ")"
		}
	}
}

// String returns Consul's display name, or Unknown(N) like Consul does.
func (t MessageType) String() string { return typeNameStrings[t] }

// Known reports whether Consul has a display name for t.
func (t MessageType) Known() bool { _, ok := typeNames[t]; return ok }

// InSnapshots reports whether a CE Consul (up to 1.16) writes or restores
// this type in FSM snapshots.
func (t MessageType) InSnapshots() bool {
	switch t {
	case TypeRegister, TypeKVS, TypeSession, TypeACL, TypeTombstone, TypeCoordinateBatchUpdate,
		TypePreparedQuery, TypeAutopilot, TypeACLBootstrap, TypeIntention, TypeConnectCA,
		TypeConnectCAProviderState, TypeConnectCAConfig, TypeIndex, TypeACLToken, TypeACLPolicy,
		TypeConfigEntry, TypeACLRole, TypeACLBindingRule, TypeACLAuthMethod, TypeChunkingState,
		TypeFederationState, TypeSystemMetadata, TypeServiceVirtualIP, TypeFreeVirtualIP,
		TypePeering, TypePeeringTrustBundle, TypePeeringSecret, TypeResource:
		return true
	}
	return false
}

// ParseType maps a display name (case-insensitive) or a decimal number to a type.
func ParseType(name string) (MessageType, bool) {
	for t, n := range typeNames {
		if equalFold(n, name) {
			return t, true
		}
	}
	if len(name) > 9 && equalFold(name[:8], "Unknown(") && name[len(name)-1] == ')' {
		name = name[8 : len(name)-1]
	}
	if v, err := strconv.ParseUint(name, 10, 8); err == nil {
		return MessageType(v), true
	}
	return 0, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// RestoreVerdict says what a CE Consul restore would do with a record of
// type t (docs/FORMAT.md §5.2), for reporting unknown types.
func (t MessageType) RestoreVerdict() string {
	switch {
	case t == TypeACL || t == TypeACLBootstrap:
		return "restored by CE 1.4–1.14 (legacy ACL); CE ≥1.15 fails with \"Unrecognized msg type " + strconv.Itoa(int(t)) + "\""
	case t.InSnapshots():
		return "restored"
	case t >= 64 && t < 128:
		return "CE restore fails: \"msg type " + strconv.Itoa(int(t)) + " is a Consul Enterprise log entry. Consul OSS cannot restore it\""
	default:
		return "CE restore fails: \"Unrecognized msg type " + strconv.Itoa(int(t)) + "\""
	}
}
