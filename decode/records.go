package decode

import "time"

// Extra holds map keys a typed struct does not know, decoded generically
// (see Value.Interface). Nothing read from a record is dropped: dump and
// diff show these next to the known fields.
type Extra map[string]any

// RaftIndex is embedded (flattened) in most persisted structs.
type RaftIndex struct {
	CreateIndex uint64
	ModifyIndex uint64
}

// DirEntry is a KVS (2) or Tombstone (5) record.
type DirEntry struct {
	CreateIndex uint64
	Flags       uint64
	Key         string
	LockIndex   uint64
	ModifyIndex uint64
	Session     string
	Value       []byte
	Namespace   string `msgpack:",omitempty"`
	Partition   string `msgpack:",omitempty"`
	Extra       Extra  `msgpack:",extra"`
}

// RegisterRequest is a Register (0) record: a node, one of its services, or one of its checks.
type RegisterRequest struct {
	Address         string
	Check           *HealthCheck
	Checks          []*HealthCheck
	CreateIndex     uint64
	Datacenter      string
	ID              string
	Locality        map[string]any
	ModifyIndex     uint64
	Node            string
	NodeMeta        map[string]string
	PeerName        string
	Service         *NodeService
	SkipNodeUpdate  bool
	TaggedAddresses map[string]string
	Token           string
	Partition       string `msgpack:",omitempty"`
	Extra           Extra  `msgpack:",extra"`
}

// NodeService is a service instance in a Register record.
type NodeService struct {
	Address                    string
	Connect                    map[string]any
	CreateIndex                uint64
	EnableTagOverride          bool
	ID                         string
	Kind                       string
	Locality                   map[string]any
	LocallyRegisteredAsSidecar bool
	Meta                       map[string]string
	ModifyIndex                uint64
	PeerName                   string
	Port                       int64
	Proxy                      map[string]any
	Service                    string
	SocketPath                 string
	TaggedAddresses            map[string]any
	Tags                       []string
	Weights                    *Weights
	Namespace                  string `msgpack:",omitempty"`
	Partition                  string `msgpack:",omitempty"`
	Extra                      Extra  `msgpack:",extra"`
}

// Weights of a service for DNS SRV responses.
type Weights struct {
	Passing int64
	Warning int64
	Extra   Extra `msgpack:",extra"`
}

// HealthCheck is a check in a Register record.
type HealthCheck struct {
	CheckID     string
	CreateIndex uint64
	Definition  map[string]any
	ExposedPort int64
	Interval    string
	ModifyIndex uint64
	Name        string
	Node        string
	Notes       string
	Output      string
	PeerName    string
	ServiceID   string
	ServiceName string
	ServiceTags []string
	Status      string
	Timeout     string
	Type        string
	Namespace   string `msgpack:",omitempty"`
	Partition   string `msgpack:",omitempty"`
	Extra       Extra  `msgpack:",extra"`
}

// Session is a Session (3) record.
type Session struct {
	Behavior      string
	Checks        []string
	CreateIndex   uint64
	ID            string
	LockDelay     time.Duration
	ModifyIndex   uint64
	Name          string
	Node          string
	NodeChecks    []string
	ServiceChecks []map[string]any
	TTL           string
	Namespace     string `msgpack:",omitempty"`
	Partition     string `msgpack:",omitempty"`
	Extra         Extra  `msgpack:",extra"`
}

// LegacyACL is an ACL (4) record from pre-token-ACL servers. ID is the secret.
type LegacyACL struct {
	CreateIndex uint64
	ID          string
	ModifyIndex uint64
	Name        string
	Rules       string
	Type        string
	Extra       Extra `msgpack:",extra"`
}

// Coordinate is the single element of a CoordinateBatchUpdate (6) record.
type Coordinate struct {
	Coord     map[string]any
	Node      string
	Partition string
	Segment   string
	Extra     Extra `msgpack:",extra"`
}

// CoordinateBatchUpdate is a CoordinateBatchUpdate (6) record: an array of coordinates (one in snapshots).
type CoordinateBatchUpdate []Coordinate

// PreparedQuery is a PreparedQuery (7) record.
type PreparedQuery struct {
	CreateIndex uint64
	DNS         map[string]any
	ID          string
	ModifyIndex uint64
	Name        string
	Service     map[string]any
	Session     string
	Template    map[string]any
	Token       string
	Extra       Extra `msgpack:",extra"`
}

// AutopilotConfig is the Autopilot (9) singleton.
type AutopilotConfig struct {
	CleanupDeadServers      bool
	CreateIndex             uint64
	DisableUpgradeMigration bool
	LastContactThreshold    time.Duration
	MaxTrailingLogs         uint64
	MinQuorum               uint64
	ModifyIndex             uint64
	RedundancyZoneTag       string
	ServerStabilizationTime time.Duration
	UpgradeVersionTag       string
	Extra                   Extra `msgpack:",extra"`
}

// ACLBootstrap is the legacy ACLBootstrap (11) singleton.
type ACLBootstrap struct {
	AllowBootstrap bool
	CreateIndex    uint64
	ModifyIndex    uint64
	Extra          Extra `msgpack:",extra"`
}

// Intention is a legacy Intention (12) record.
type Intention struct {
	Action               string
	CreateIndex          uint64
	CreatedAt            Time
	DefaultAddr          string `msgpack:",omitempty"`
	DefaultPort          int64  `msgpack:",omitempty"`
	Description          string
	DestinationNS        string
	DestinationName      string
	DestinationPartition string
	Hash                 []byte
	ID                   string
	JWT                  map[string]any
	Meta                 map[string]string
	ModifyIndex          uint64
	Permissions          []map[string]any
	Precedence           int64
	SourceNS             string
	SourceName           string
	SourcePartition      string
	SourcePeer           string
	SourceSamenessGroup  string
	SourceType           string
	UpdatedAt            Time
	Extra                Extra `msgpack:",extra"`
}

// CARoot is a ConnectCA (13) record. SigningKey is a private key.
type CARoot struct {
	Active              bool
	CreateIndex         uint64
	ExternalTrustDomain string
	ID                  string
	IntermediateCerts   []string
	ModifyIndex         uint64
	Name                string
	NotAfter            Time
	NotBefore           Time
	PrivateKeyBits      int64
	PrivateKeyType      string
	RootCert            string
	RotatedOutAt        Time
	SerialNumber        uint64
	SigningCert         string
	SigningKey          string
	SigningKeyID        string
	Extra               Extra `msgpack:",extra"`
}

// CAConsulProviderState is a ConnectCAProviderState (14) record. PrivateKey is a private key.
type CAConsulProviderState struct {
	CreateIndex      uint64
	ID               string
	IntermediateCert string
	ModifyIndex      uint64
	PrivateKey       string
	RootCert         string
	Extra            Extra `msgpack:",extra"`
}

// CAConfiguration is the ConnectCAConfig (15) singleton. Config may hold a
// provider private key (PrivateKey) for the built-in provider.
type CAConfiguration struct {
	ClusterID                string
	Config                   map[string]any
	CreateIndex              uint64
	ForceWithoutCrossSigning bool
	ModifyIndex              uint64
	Provider                 string
	State                    map[string]string
	Extra                    Extra `msgpack:",extra"`
}

// IndexEntry is an Index (16) record: the last raft index of one table.
type IndexEntry struct {
	Key   string
	Value uint64
	Extra Extra `msgpack:",extra"`
}

// ACLToken is an ACLToken (17) record. SecretID is a secret.
type ACLToken struct {
	AccessorID        string
	AuthMethod        string
	CreateIndex       uint64
	CreateTime        Time
	Description       string
	ExpirationTTL     time.Duration
	ExpirationTime    *Time
	Hash              []byte
	Local             bool
	ModifyIndex       uint64
	NodeIdentities    []map[string]any
	Policies          []ACLLink
	Roles             []ACLLink
	SecretID          string
	ServiceIdentities []map[string]any
	Namespace         string `msgpack:",omitempty"`
	Partition         string `msgpack:",omitempty"`
	Extra             Extra  `msgpack:",extra"`
}

// ACLLink names a policy or role from a token or role.
type ACLLink struct {
	ID    string
	Name  string
	Extra Extra `msgpack:",extra"`
}

// ACLPolicy is an ACLPolicy (19) record.
type ACLPolicy struct {
	CreateIndex uint64
	Datacenters []string
	Description string
	Hash        []byte
	ID          string
	ModifyIndex uint64
	Name        string
	Rules       string
	Namespace   string `msgpack:",omitempty"`
	Partition   string `msgpack:",omitempty"`
	Extra       Extra  `msgpack:",extra"`
}

// ACLRole is an ACLRole (23) record.
type ACLRole struct {
	CreateIndex       uint64
	Description       string
	Hash              []byte
	ID                string
	ModifyIndex       uint64
	Name              string
	NodeIdentities    []map[string]any
	Policies          []ACLLink
	ServiceIdentities []map[string]any
	Namespace         string `msgpack:",omitempty"`
	Partition         string `msgpack:",omitempty"`
	Extra             Extra  `msgpack:",extra"`
}

// ACLBindingRule is an ACLBindingRule (25) record.
type ACLBindingRule struct {
	AuthMethod  string
	BindName    string
	BindType    string
	CreateIndex uint64
	Description string
	ID          string
	ModifyIndex uint64
	Selector    string
	Namespace   string `msgpack:",omitempty"`
	Partition   string `msgpack:",omitempty"`
	Extra       Extra  `msgpack:",extra"`
}

// ACLAuthMethod is an ACLAuthMethod (27) record. Config may hold secrets
// (e.g. a Kubernetes ServiceAccountJWT, OIDC client secret).
type ACLAuthMethod struct {
	Config        map[string]any
	CreateIndex   uint64
	Description   string
	DisplayName   string
	MaxTokenTTL   time.Duration
	ModifyIndex   uint64
	Name          string
	TokenLocality string
	Type          string
	Namespace     string `msgpack:",omitempty"`
	Partition     string `msgpack:",omitempty"`
	Extra         Extra  `msgpack:",extra"`
}

// ConfigEntry is a ConfigEntry (22) record: the kind, the request wrapper's
// fields, and the entry decoded generically (docs/FORMAT.md §8.9).
type ConfigEntry struct {
	Kind       string
	Name       string
	Namespace  string `msgpack:",omitempty"`
	Partition  string `msgpack:",omitempty"`
	Datacenter string
	Op         string
	Token      string
	Entry      map[string]any
	Extra      Extra `msgpack:",extra"`
}

// ChunkingState is the ChunkingState (29) singleton. ChunkMap has integer
// keys (raft log index), which is why generic string-keyed decoders fail on it.
type ChunkingState struct {
	ChunkMap map[uint64][]ChunkInfo
	Extra    Extra `msgpack:",extra"`
}

// ChunkInfo is one pending chunk of a chunked raft apply.
type ChunkInfo struct {
	Data        []byte
	NumChunks   uint64
	OpNum       uint64
	SequenceNum uint64
	Term        uint64
	Extra       Extra `msgpack:",extra"`
}

// FederationStateRequest is a FederationState (30) record.
type FederationStateRequest struct {
	Datacenter string
	Op         string
	State      *FederationState
	Token      string
	Extra      Extra `msgpack:",extra"`
}

// FederationState is a datacenter's mesh-gateway federation state.
type FederationState struct {
	CreateIndex        uint64
	Datacenter         string
	MeshGateways       []map[string]any
	ModifyIndex        uint64
	PrimaryModifyIndex uint64
	UpdatedAt          Time
	Extra              Extra `msgpack:",extra"`
}

// SystemMetadataEntry is a SystemMetadata (31) record.
type SystemMetadataEntry struct {
	CreateIndex uint64
	Key         string
	ModifyIndex uint64
	Value       string
	Extra       Extra `msgpack:",extra"`
}

// ServiceVirtualIP is a ServiceVirtualIP (32) record. IP is an offset from
// 240.0.0.0. Service is {Peer, ServiceName{Name}} since 1.13, {Name} before.
type ServiceVirtualIP struct {
	CreateIndex uint64
	IP          []byte
	ManualIPs   []string
	ModifyIndex uint64
	Service     map[string]any
	Extra       Extra `msgpack:",extra"`
}

// FreeVirtualIP is a FreeVirtualIP (33) record.
type FreeVirtualIP struct {
	IP        []byte
	IsCounter bool
	Extra     Extra `msgpack:",extra"`
}

// Peering is a Peering (35) record: protobuf carried in a msgpack str.
type Peering struct {
	ID                    string
	Name                  string
	Partition             string
	DeletedAt             *Time
	Meta                  map[string]string
	State                 string
	PeerID                string
	PeerCAPems            []string
	PeerServerName        string
	PeerServerAddresses   []string
	CreateIndex           uint64
	ModifyIndex           uint64
	StreamStatus          map[string]any
	Remote                map[string]any
	ManualServerAddresses []string
	Extra                 Extra `msgpack:",extra"`
}

// PeeringTrustBundle is a PeeringTrustBundle (38) record (protobuf).
type PeeringTrustBundle struct {
	TrustDomain       string
	PeerName          string
	Partition         string
	RootPEMs          []string
	ExportedPartition string
	CreateIndex       uint64
	ModifyIndex       uint64
	Extra             Extra `msgpack:",extra"`
}

// PeeringSecrets is a PeeringSecret (40) record (protobuf). Every secret ID here is a secret.
type PeeringSecrets struct {
	PeerID                string
	EstablishmentSecretID string
	ActiveSecretID        string
	PendingSecretID       string
	Extra                 Extra `msgpack:",extra"`
}

// Resource is a Resource (42) record (protobuf pbresource.Resource); only
// the identity is decoded, the rest is kept as protobuf fields in Extra.
type Resource struct {
	Group        string
	GroupVersion string
	Kind         string
	Name         string
	UID          string
	Partition    string
	Namespace    string
	PeerName     string
	Version      string
	Generation   string
	Extra        Extra `msgpack:",extra"`
}

// Unknown is the typed form of a record whose type this package does not
// know: the value decoded generically.
type Unknown struct {
	Value any
}
