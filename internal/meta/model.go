package meta

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Account is the owner of containers. Its counters cover all its
// containers. Times are in microseconds since the epoch.
type Account struct {
	Name       string
	CTime      int64
	MTime      int64
	Containers int64
	Objects    int64
	Bytes      int64
}

// System property keys of a container. The first group is computed by the
// store and read-only; the policies may be set, and any other "sys." key is
// kept as given.
const (
	SysAccount       = "sys.account"
	SysUserName      = "sys.user.name"
	SysName          = "sys.name" // "<CID>.1"
	SysCTime         = "sys.m2.ctime"
	SysObjects       = "sys.m2.objects"
	SysUsage         = "sys.m2.usage"
	SysNS            = "sys.ns"
	SysType          = "sys.type" // always "meta2"
	SysStatus        = "sys.status"
	SysPolicyStorage = "sys.m2.policy.storage"
	SysPolicyVersion = "sys.m2.policy.version"
)

// ReadOnlySystem reports whether a system property key is computed by the
// store and therefore cannot be set.
func ReadOnlySystem(key string) bool {
	switch key {
	case SysAccount, SysUserName, SysName, SysCTime, SysObjects, SysUsage, SysNS, SysType,
		SysStatus:
		return true
	}
	return false
}

// BucketReplicationEnabled is the bucket metadata key that turns
// replication on. Its value is a boolean written "True" or "False" and read
// without regard to case.
const BucketReplicationEnabled = "replication_enabled"

// Container is a bucket of objects in an account. ID is its container id
// (see chunk.ContainerID). Times are in microseconds. Objects counts object
// versions that are not delete markers and Bytes their sizes.
//
// System holds every system property, computed ones included, with the
// effective storage and versioning policies. Bucket holds bucket metadata
// such as BucketReplicationEnabled. Listings leave the three maps nil.
type Container struct {
	ID         string
	Account    string
	Name       string
	CTime      int64
	MTime      int64
	Objects    int64
	Bytes      int64
	Properties map[string]string
	System     map[string]string
	Bucket     map[string]string
}

// StoragePolicy returns the container's effective storage policy.
func (c *Container) StoragePolicy() string { return c.System[SysPolicyStorage] }

// MaxVersions returns the container's effective versioning policy: -1 keeps
// every version, 0 and 1 keep only the latest, N > 1 keeps N.
func (c *Container) MaxVersions() int64 {
	n, err := strconv.ParseInt(c.System[SysPolicyVersion], 10, 64)
	if err != nil {
		return 1
	}
	return n
}

// Versioned reports whether the container keeps old versions, and so turns
// deletions into delete markers.
func (c *Container) Versioned() bool { return versioned(c.MaxVersions()) }

func versioned(max int64) bool { return max < 0 || max > 1 }

// ReplicationEnabled reports whether the bucket metadata turns replication
// on.
func (c *Container) ReplicationEnabled() bool {
	v, _ := ParseBool(c.Bucket[BucketReplicationEnabled])
	return v
}

// ContainerSpec describes a container to create.
type ContainerSpec struct {
	Account    string
	Name       string
	Properties map[string]string
	// System sets writable system properties, such as the policies.
	System map[string]string
}

// PropertyUpdate changes a set of properties: with Flush every existing
// property goes first; then Delete removes keys and Set sets values.
type PropertyUpdate struct {
	Set    map[string]string
	Delete []string
	Flush  bool
}

// IsZero reports whether the update changes nothing.
func (u PropertyUpdate) IsZero() bool {
	return len(u.Set) == 0 && len(u.Delete) == 0 && !u.Flush
}

// ContainerUpdate changes a container's user properties, writable system
// properties (an empty value restores the default) and bucket metadata.
type ContainerUpdate struct {
	Properties PropertyUpdate
	System     map[string]string
	Bucket     PropertyUpdate
}

// Object is one version of an object, or a delete marker when Deleted.
// Version is its creation time in microseconds unless given; ContentID is
// 32 uppercase hex digits unless given; Hash is the uppercase MD5 of the
// whole object; CTime and MTime are in seconds.
type Object struct {
	Name        string
	Version     int64
	ContentID   string
	Deleted     bool
	Policy      string
	ChunkMethod string
	Size        int64
	Hash        string
	MimeType    string
	CTime       int64
	MTime       int64
	Properties  map[string]string
	Chunks      []Chunk
}

// DefaultMimeType is the mime type of objects stored without one.
const DefaultMimeType = "application/octet-stream"

// DeletedMimeType is the mime type listings give delete markers.
const DeletedMimeType = "application/x-deleted"

// Chunk is one copy of one metachunk (or one EC fragment) of an object.
// URL is "http://<service id or address>/<CHUNKID>"; Pos is "N" or "N.M";
// Hash is uppercase hex. RealURL and Score are only filled in prepare and
// locate replies: RealURL names the chunk server by address, and Score is
// 0 for a server known to be dead.
type Chunk struct {
	URL     string `json:"url"`
	RealURL string `json:"real_url,omitempty"`
	Pos     string `json:"pos"`
	Size    int64  `json:"size"`
	Hash    string `json:"hash"`
	Score   int    `json:"score"`
}

// Host returns the service id or address of the chunk's URL.
func (c Chunk) Host() string {
	rest, _ := strings.CutPrefix(c.URL, "http://")
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// ID returns the chunk id at the end of the chunk's URL.
func (c Chunk) ID() string {
	i := strings.LastIndexByte(c.URL, '/')
	return c.URL[i+1:]
}

// ObjectQuery selects one object version: by Name and Version (the latest
// when Version is 0), or by ContentID. Unless Deleted is set, a delete
// marker is reported as ErrNoSuchObject.
type ObjectQuery struct {
	Name      string
	Version   int64
	ContentID string
	Deleted   bool
}

// DeleteResult says what a deletion did: Version is the version removed,
// or the version of the delete marker created; DeleteMarker is true when a
// marker was created or removed.
type DeleteResult struct {
	Version      int64
	DeleteMarker bool
}

// Listing bounds.
const (
	DefaultListLimit = 1000
	MaxListLimit     = 10000
)

// ListOptions select objects of a container. Names are listed in byte
// order, after Marker, before EndMarker, starting with Prefix. With a
// Delimiter, names that hold it after the prefix are rolled up into common
// prefixes. With Versions every version and delete marker is listed (latest
// first), and VersionMarker continues a listing inside the Marker name.
// Without Versions only latest versions are listed, and names whose latest
// version is a delete marker only with Deleted.
type ListOptions struct {
	Prefix        string
	Marker        string
	EndMarker     string
	Delimiter     string
	Versions      bool
	VersionMarker int64
	Deleted       bool
	Limit         int // 0 means DefaultListLimit; capped at MaxListLimit
	Properties    bool
	Chunks        bool
}

// ObjectList is one page of a listing. NextMarker (and NextVersionMarker
// with Versions) continue it when Truncated.
type ObjectList struct {
	Objects           []Object
	Prefixes          []string
	Truncated         bool
	NextMarker        string
	NextVersionMarker int64
}

// PageOptions select names in byte order: after Marker, before EndMarker,
// starting with Prefix, at most Limit (0 means DefaultListLimit, capped at
// MaxListLimit).
type PageOptions struct {
	Prefix    string
	Marker    string
	EndMarker string
	Limit     int
}

// ContainerList is one page of an account's containers.
type ContainerList struct {
	Containers []Container
	Truncated  bool
	NextMarker string
}

// AccountList is one page of accounts.
type AccountList struct {
	Accounts   []Account
	Truncated  bool
	NextMarker string
}

// PageLimit applies the listing bounds to a requested page size.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultListLimit
	case n > MaxListLimit:
		return MaxListLimit
	}
	return n
}

// SortChunks orders chunks by position (metachunk, then fragment), then by
// URL: the order of locate replies.
func SortChunks(chunks []Chunk) {
	slices.SortStableFunc(chunks, func(a, b Chunk) int {
		am, af := splitPos(a.Pos)
		bm, bf := splitPos(b.Pos)
		return cmp.Or(cmp.Compare(am, bm), cmp.Compare(af, bf), strings.Compare(a.URL, b.URL))
	})
}

// splitPos returns the metachunk and fragment numbers of a position.
func splitPos(p string) (meta, frag int64) {
	m, f, _ := strings.Cut(p, ".")
	meta, _ = strconv.ParseInt(m, 10, 64)
	frag, _ = strconv.ParseInt(f, 10, 64)
	return meta, frag
}

// PrepareRequest asks where to write an object's metachunks: those that
// hold Size bytes from metachunk Position on (one at least), for a version
// (0 means a new one) stored with Policy (empty means the container's).
type PrepareRequest struct {
	Size     int64
	Position int64
	Policy   string
	Version  int64
}

// Prepared says where to write: the version's content id, version, policy
// and chunk method (to commit with), the metachunk size, and for each
// metachunk its copies' chunk URLs. Chunk Size is the most each copy may
// hold.
type Prepared struct {
	ContentID   string
	Version     int64
	Policy      string
	ChunkMethod string
	ChunkSize   int64
	Chunks      []Chunk
}
