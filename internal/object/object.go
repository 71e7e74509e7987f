// Package object reads and writes whole objects: it asks the directory
// where to put or find each metachunk and moves the data straight between
// the caller and the chunk servers, so data never passes through the
// directory.
package object

import (
	"crypto/md5"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// Client moves objects between callers and a namespace. Dir and Rawx are
// required; the zero value of the other fields works.
type Client struct {
	Dir  *meta.Client
	Rawx *rawx.Client
	// Progress, when set, is called with the number of object bytes moved
	// since its last call. It must be safe for concurrent use.
	Progress func(n int64)
}

// ErrIncomplete is returned when an object cannot be read whole: every
// copy of some metachunk failed or did not match its hash.
var ErrIncomplete = errors.New("object cannot be read")

// ErrGone is returned when the version being read was deleted meanwhile,
// its chunks with it: what was written out is a part of it.
var ErrGone = errors.New("the object was deleted while it was read")

// Name is an ACCOUNT/CONTAINER/OBJECT triple; the object name may hold
// slashes.
type Name struct {
	Account   string
	Container string
	Path      string
}

// String returns the name as ACCOUNT/CONTAINER/OBJECT.
func (n Name) String() string { return n.Account + "/" + n.Container + "/" + n.Path }

// ParseName splits "ACCOUNT/CONTAINER/OBJECT"; the object name may hold
// slashes. With needObject false the object may be absent, and with
// needContainer false the container too.
func ParseName(s string, needContainer, needObject bool) (Name, error) {
	parts := strings.SplitN(s, "/", 3)
	n := Name{Account: parts[0]}
	if len(parts) > 1 {
		n.Container = parts[1]
	}
	if len(parts) > 2 {
		n.Path = parts[2]
	}
	want := "ACCOUNT[/CONTAINER[/OBJECT]]"
	switch {
	case needObject:
		want = "ACCOUNT/CONTAINER/OBJECT"
	case needContainer:
		want = "ACCOUNT/CONTAINER"
	}
	if n.Account == "" || (len(parts) > 1 || needContainer) && n.Container == "" ||
		needObject && n.Path == "" {
		return n, fmt.Errorf("name %q: want %s", s, want)
	}
	return n, nil
}

// metachunks groups chunks by metachunk position, in position order.
func metachunks(chunks []meta.Chunk) [][]meta.Chunk {
	byPos := map[int64][]meta.Chunk{}
	var order []int64
	for _, c := range chunks {
		n, err := strconv.ParseInt(strings.SplitN(c.Pos, ".", 2)[0], 10, 64)
		if err != nil {
			continue
		}
		if _, ok := byPos[n]; !ok {
			order = append(order, n)
		}
		byPos[n] = append(byPos[n], c)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	out := make([][]meta.Chunk, len(order))
	for i, n := range order {
		out[i] = byPos[n]
	}
	return out
}

// chunkMethod returns the method to write chunks with: the directory's,
// with BLAKE3 named as the checksum algorithm, parameters sorted.
func chunkMethod(dirMethod string) (string, error) {
	m, err := chunk.ParseMethod(dirMethod)
	if err != nil {
		return "", err
	}
	if _, ok := m.Get("cca"); !ok {
		m.Params = append(m.Params, chunk.Param{Key: "cca", Value: chunk.AlgoBlake3})
	}
	sort.Slice(m.Params, func(i, j int) bool { return m.Params[i].Key < m.Params[j].Key })
	return m.String(), nil
}

// address returns the URL to send a chunk request to: the real URL when
// the directory gave one (the server's address), else the chunk URL.
func address(c meta.Chunk) string {
	if c.RealURL != "" {
		return c.RealURL
	}
	return c.URL
}

func newObjectHash() hash.Hash { return md5.New() }

func (c *Client) progress(n int) {
	if c.Progress != nil && n > 0 {
		c.Progress(int64(n))
	}
}
