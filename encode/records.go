package encode

import "time"

// The types below mirror the structs Consul 1.13 persists (docs/FORMAT.md §8),
// with exactly their Go field names, so that encoding one gives the same
// keys Consul writes. Field order does not matter: the codec sorts keys.
// Nested structs Consul persists but generators rarely fill are typed as
// maps or left nil.

// StringMap is a map<str,str> written with its entries in slice order:
// key, value, key, value, ... On the wire it is an ordinary msgpack map
// (go-msgpack's MapBySlice), so Consul decodes it into its map fields. Go
// maps would come out in random order, as Consul's own do; a StringMap
// keeps generated output deterministic. An odd length is invalid.
type StringMap []string

// MapBySlice marks StringMap for the codec.
func (StringMap) MapBySlice() {}

// DirEntry is a KVS (2) or Tombstone (5) record.
type DirEntry struct {
	CreateIndex uint64
	ModifyIndex uint64
	LockIndex   uint64
	Key         string
	Flags       uint64
	Value       []byte
	Session     string
}

// RegisterRequest is a Register (0) record: a node, one of its services,
// or one of its checks.
type RegisterRequest struct {
	Datacenter      string
	ID              string
	Node            string
	Address         string
	TaggedAddresses StringMap
	NodeMeta        StringMap
	Service         *NodeService
	Check           *HealthCheck
	Checks          []*HealthCheck
	SkipNodeUpdate  bool
	PeerName        string
	Token           string
	CreateIndex     uint64
	ModifyIndex     uint64
}

// NodeService is a service instance.
type NodeService struct {
	Kind                       string
	ID                         string
	Service                    string
	Tags                       []string
	Address                    string
	TaggedAddresses            map[string]ServiceAddress
	Meta                       StringMap
	Port                       int
	SocketPath                 string
	Weights                    *Weights
	EnableTagOverride          bool
	Proxy                      ConnectProxyConfig
	Connect                    ServiceConnect
	PeerName                   string
	LocallyRegisteredAsSidecar bool
	CreateIndex                uint64
	ModifyIndex                uint64
}

// ServiceAddress is a tagged service address.
type ServiceAddress struct {
	Address string
	Port    int
}

// Weights of a service.
type Weights struct {
	Passing int
	Warning int
}

// ConnectProxyConfig is the (normally empty) proxy block of a service.
type ConnectProxyConfig struct {
	DestinationServiceName string
	DestinationServiceID   string
	LocalServiceAddress    string
	LocalServicePort       int
	LocalServiceSocketPath string
	Mode                   string
	Config                 map[string]interface{}
	Upstreams              []map[string]interface{}
	MeshGateway            MeshGatewayConfig
	Expose                 ExposeConfig
	TransparentProxy       TransparentProxyConfig
}

// MeshGatewayConfig is a proxy's mesh gateway mode.
type MeshGatewayConfig struct{ Mode string }

// ExposeConfig is a proxy's expose block.
type ExposeConfig struct {
	Checks bool
	Paths  []map[string]interface{}
}

// TransparentProxyConfig is a proxy's transparent-proxy block.
type TransparentProxyConfig struct {
	OutboundListenerPort int
	DialedDirectly       bool
}

// ServiceConnect is a service's Connect block.
type ServiceConnect struct {
	Native         bool
	SidecarService map[string]interface{}
	PeerMeta       map[string]interface{}
}

// HealthCheck is a check.
type HealthCheck struct {
	Node        string
	CheckID     string
	Name        string
	Status      string
	Notes       string
	Output      string
	ServiceID   string
	ServiceName string
	ServiceTags []string
	Type        string
	Interval    string
	Timeout     string
	ExposedPort int
	PeerName    string
	Definition  HealthCheckDefinition
	CreateIndex uint64
	ModifyIndex uint64
}

// HealthCheckDefinition is a check's definition (Consul 1.13 keys).
type HealthCheckDefinition struct {
	HTTP                           string
	TLSServerName                  string
	TLSSkipVerify                  bool
	Header                         map[string][]string
	Method                         string
	Body                           string
	DisableRedirects               bool
	TCP                            string
	UDP                            string
	H2PING                         string
	H2PingUseTLS                   bool
	Interval                       time.Duration
	OutputMaxSize                  uint
	Timeout                        time.Duration
	DeregisterCriticalServiceAfter time.Duration
	ScriptArgs                     []string
	DockerContainerID              string
	Shell                          string
	GRPC                           string
	GRPCUseTLS                     bool
	AliasNode                      string
	AliasService                   string
	TTL                            time.Duration
}

// Session is a Session (3) record.
type Session struct {
	ID            string
	Name          string
	Node          string
	LockDelay     time.Duration
	Behavior      string
	TTL           string
	NodeChecks    []string
	ServiceChecks []ServiceCheck
	Checks        []string
	CreateIndex   uint64
	ModifyIndex   uint64
}

// ServiceCheck names a service check a session depends on.
type ServiceCheck struct {
	ID        string
	Namespace string
}

// ACLToken is an ACLToken (17) record (Consul 1.13 keys, legacy Rules/Type included).
type ACLToken struct {
	AccessorID        string
	SecretID          string
	Description       string
	Policies          []ACLLink
	Roles             []ACLLink
	ServiceIdentities []ACLServiceIdentity
	NodeIdentities    []ACLNodeIdentity
	Type              string
	Rules             string
	Local             bool
	AuthMethod        string
	ExpirationTime    *time.Time
	ExpirationTTL     time.Duration
	CreateTime        time.Time
	Hash              []byte
	CreateIndex       uint64
	ModifyIndex       uint64
}

// ACLLink links a token to a policy or role.
type ACLLink struct {
	ID   string
	Name string
}

// ACLServiceIdentity is a token's service identity.
type ACLServiceIdentity struct {
	ServiceName string
	Datacenters []string
}

// ACLNodeIdentity is a token's node identity.
type ACLNodeIdentity struct {
	NodeName   string
	Datacenter string
}

// AutopilotConfig is the Autopilot (9) singleton.
type AutopilotConfig struct {
	CleanupDeadServers      bool
	LastContactThreshold    time.Duration
	MaxTrailingLogs         uint64
	MinQuorum               uint
	ServerStabilizationTime time.Duration
	RedundancyZoneTag       string
	DisableUpgradeMigration bool
	UpgradeVersionTag       string
	CreateIndex             uint64
	ModifyIndex             uint64
}

// IndexEntry is an Index (16) record.
type IndexEntry struct {
	Key   string
	Value uint64
}

// ChunkingState is the ChunkingState (29) record Consul always writes last.
type ChunkingState struct {
	ChunkMap map[uint64][]ChunkInfo
}

// ChunkInfo is one pending raft chunk.
type ChunkInfo struct {
	OpNum       uint64
	SequenceNum uint32
	NumChunks   uint32
	Term        uint64
	Data        []byte
}

// Coordinate is the element of a CoordinateBatchUpdate (6) record.
type Coordinate struct {
	Node      string
	Segment   string
	Partition string
	Coord     *NetworkCoordinate
}

// NetworkCoordinate is a Vivaldi coordinate.
type NetworkCoordinate struct {
	Vec        []float64
	Error      float64
	Adjustment float64
	Height     float64
}
