package meta

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Policy is a storage policy: how many copies of each metachunk are kept on
// distinct chunk servers.
//
// TODO(#3): erasure-coded policies (chunk method "ec/algo=...,k=K,m=M",
// fragments at positions "N.M", metachunk size K times the chunk size) need
// a K+M placement and fragment positions in prepare; until then only
// replicated policies exist and EC names are unknown policies.
type Policy struct {
	Name   string
	Copies int
}

// ChunkMethod returns the chunk method of the policy, "plain/nb_copy=N".
func (p Policy) ChunkMethod() string { return "plain/nb_copy=" + strconv.Itoa(p.Copies) }

// StandardPolicies are the replicated policies every namespace has unless
// configured otherwise.
var StandardPolicies = []Policy{{"SINGLE", 1}, {"TWOCOPIES", 2}, {"THREECOPIES", 3}}

// Namespace is the configuration shared by the store and the server. The
// zero value works: namespace DefaultNamespace, policies SINGLE, TWOCOPIES and
// THREECOPIES with SINGLE by default, one version kept, 64 MiB metachunks.
type Namespace struct {
	Name          string
	Policies      []Policy
	DefaultPolicy string
	// MaxVersions is the versioning policy of containers that set none
	// (see Container.MaxVersions); 0 means 1.
	MaxVersions int64
	// ChunkSize is the size of a metachunk in bytes, what a client streams
	// to each set of chunk servers named by one prepare.
	ChunkSize int64
}

// DefaultChunkSize is the metachunk size of a namespace that sets none. It
// is larger than OpenIO's 10 MiB: fewer chunk files and fewer prepares per
// object, still small enough to rebuild one chunk quickly.
const DefaultChunkSize = 64 << 20

// WithDefaults returns ns with its zero fields set to their defaults.
func (ns Namespace) WithDefaults() Namespace {
	if ns.Name == "" {
		ns.Name = DefaultNamespace
	}
	if len(ns.Policies) == 0 {
		ns.Policies = StandardPolicies
	}
	if ns.DefaultPolicy == "" {
		ns.DefaultPolicy = ns.Policies[0].Name
	}
	if ns.MaxVersions == 0 {
		ns.MaxVersions = 1
	}
	if ns.ChunkSize <= 0 {
		ns.ChunkSize = DefaultChunkSize
	}
	return ns
}

// Policy returns the policy called name.
func (ns Namespace) Policy(name string) (Policy, bool) {
	for _, p := range ns.WithDefaults().Policies {
		if p.Name == name {
			return p, true
		}
	}
	return Policy{}, false
}

// ChunkID returns the deterministic id of a chunk, as OpenIO computes it:
// the uppercase hex SHA-256 of the container id, the object path, the
// decimal version, the position and the policy name, concatenated. All
// copies of one metachunk share the id; their URLs differ by server.
func ChunkID(cid, path string, version int64, pos, policy string) string {
	h := sha256.New()
	h.Write([]byte(cid))
	h.Write([]byte(path))
	h.Write([]byte(strconv.FormatInt(version, 10)))
	h.Write([]byte(pos))
	h.Write([]byte(policy))
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}
