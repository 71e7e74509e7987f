package loadgen

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Names of the OpenIO headers a run sends, in Go's canonical form so that
// they are set without canonicalisation.
const (
	hdrFullPath       = "X-Oio-Chunk-Meta-Full-Path"
	hdrContainerID    = "X-Oio-Chunk-Meta-Container-Id"
	hdrContentPath    = "X-Oio-Chunk-Meta-Content-Path"
	hdrContentVersion = "X-Oio-Chunk-Meta-Content-Version"
	hdrContentID      = "X-Oio-Chunk-Meta-Content-Id"
	hdrStoragePolicy  = "X-Oio-Chunk-Meta-Content-Storage-Policy"
	hdrChunkMethod    = "X-Oio-Chunk-Meta-Content-Chunk-Method"
	hdrChunkID        = "X-Oio-Chunk-Meta-Chunk-Id"
	hdrChunkPos       = "X-Oio-Chunk-Meta-Chunk-Pos"
	hdrChunkSize      = "X-Oio-Chunk-Meta-Chunk-Size"
	hdrChunkHash      = "X-Oio-Chunk-Meta-Chunk-Hash"
	hdrCheckHash      = "X-Oio-Check-Hash"
)

// What every uploaded chunk claims to be: position 0 of a single-copy plain
// object in the bench container.
const (
	benchAccount   = "bench"
	benchContainer = "bench"
	benchMethod    = "plain/cca=blake3,nb_copy=1"
	benchPolicy    = "SINGLE"
)

// namer hands out chunk identities that are unique across runs: each run
// draws a random nonce, and the n-th chunk's id is the SHA-256 of the nonce
// and n, so ids spread evenly over the volume's hash directories.
type namer struct {
	nonce       [16]byte
	seq         atomic.Uint64
	version     string // content version: the run's start in microseconds
	containerID string
}

func newNamer() (*namer, error) {
	n := &namer{}
	if _, err := rand.Read(n.nonce[:]); err != nil {
		return nil, fmt.Errorf("chunk id nonce: %w", err)
	}
	n.version = strconv.FormatInt(time.Now().UnixMicro(), 10)
	n.containerID = containerID(benchAccount, benchContainer)
	return n, nil
}

// chunkName is the identity of one uploaded chunk.
type chunkName struct {
	seq       uint64 // its rank among the names of the run, from 1
	id        string // 64 uppercase hex digits
	contentID string // 32 uppercase hex digits
	path      string // object name
}

// next returns the identity of a new chunk. It is safe for concurrent use.
func (n *namer) next() chunkName { return n.name(n.seq.Add(1)) }

// issued returns how many identities next handed out.
func (n *namer) issued() uint64 { return n.seq.Load() }

// name returns the identity of the seq-th chunk, from 1.
func (n *namer) name(seq uint64) chunkName {
	var buf [24]byte
	copy(buf[:], n.nonce[:])
	binary.BigEndian.PutUint64(buf[16:], seq)
	sum := sha256.Sum256(buf[:])
	// The content id is the run's nonce prefix and the sequence number:
	// unique, and readable in a listing.
	var content [16]byte
	copy(content[:8], n.nonce[:8])
	binary.BigEndian.PutUint64(content[8:], seq)
	return chunkName{
		seq:       seq,
		id:        upperHex(sum[:]),
		contentID: upperHex(content[:]),
		path:      "o" + strconv.FormatUint(seq, 10),
	}
}

// storedSet records which chunks of a run, by the seq of their names, the
// server said it stored, or which uploads another outcome had. It holds
// one bit per name handed out and is safe for concurrent use.
type storedSet struct {
	mu    sync.Mutex
	words []uint64
}

// add records the chunk of name seq as stored.
func (s *storedSet) add(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := int(seq / 64)
	if i >= len(s.words) {
		s.words = append(s.words, make([]uint64, i+1-len(s.words))...)
	}
	s.words[i] |= uint64(1) << (seq % 64)
}

// has reports whether the chunk of name seq was stored.
func (s *storedSet) has(seq uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := int(seq / 64)
	return i < len(s.words) && s.words[i]&(1<<(seq%64)) != 0
}

// putHeaders returns the headers an OpenIO client sends with chunk c.
func (n *namer) putHeaders(c chunkName) http.Header {
	fullpath := benchAccount + "/" + benchContainer + "/" + c.path + "/" +
		n.version + "/" + c.contentID
	return http.Header{
		hdrChunkMethod:    {benchMethod},
		hdrStoragePolicy:  {benchPolicy},
		hdrFullPath:       {fullpath},
		hdrChunkPos:       {"0"},
		hdrChunkID:        {c.id},
		hdrContainerID:    {n.containerID},
		hdrContentPath:    {c.path},
		hdrContentVersion: {n.version},
		hdrContentID:      {c.contentID},
	}
}

// containerID is OpenIO's container id: the uppercase hex SHA-256 of the
// account, a NUL byte and the container.
func containerID(account, container string) string {
	sum := sha256.Sum256([]byte(account + "\x00" + container))
	return upperHex(sum[:])
}

func upperHex(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// newBody returns the data every upload sends. It is shared by all workers
// and never written after creation; each request reads it through its own
// reader.
func newBody(size int64) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}
