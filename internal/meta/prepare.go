package meta

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxPrepare bounds the metachunks one prepare places.
const maxPrepare = 1024

// emptyHash is the placeholder hash of chunks not yet written.
var emptyHash = strings.Repeat("0", 32)

// prepare places the metachunks of req on chunk servers. Chunk ids are
// deterministic (see ChunkID), so copies of one metachunk share their id
// and differ by server.
func (s *Server) prepare(c *Container, path string, req PrepareRequest) (*Prepared, error) {
	if req.Size < 0 || req.Position < 0 || req.Version < 0 {
		return nil, fmt.Errorf("prepare: %w: negative size, position or version", ErrInvalid)
	}
	if req.Policy == "" {
		req.Policy = c.StoragePolicy()
	}
	pol, ok := s.ns.Policy(req.Policy)
	if !ok {
		return nil, fmt.Errorf("prepare: %w: %q", ErrUnknownPolicy, short(req.Policy))
	}
	n := max(1, (req.Size+s.ns.ChunkSize-1)/s.ns.ChunkSize)
	if n > maxPrepare {
		return nil, fmt.Errorf("prepare: %w: %d metachunks, over %d at once", ErrInvalid, n,
			maxPrepare)
	}
	p := &Prepared{ContentID: NewContentID(), Version: req.Version, Policy: pol.Name,
		ChunkMethod: pol.ChunkMethod(), ChunkSize: s.ns.ChunkSize}
	if p.Version == 0 {
		p.Version = s.newVersion()
	}
	for i := range n {
		chunks, err := s.placeMetachunk(c.ID, path, p, pol, req.Position+i)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		p.Chunks = append(p.Chunks, chunks...)
	}
	return p, nil
}

// newVersion returns the version of an object being prepared: the time in
// microseconds, or one more than the version given last when that is not
// lower. Two prepares in one microsecond would otherwise give one name the
// same version, hence the same chunk ids (see ChunkID), and the second put
// would find its chunks taken.
func (s *Server) newVersion() int64 {
	for {
		last := s.lastVersion.Load()
		v := max(time.Now().UnixMicro(), last+1)
		if s.lastVersion.CompareAndSwap(last, v) {
			return v
		}
	}
}

// placeable reports why the copies of a metachunk of policy, or of the
// namespace's default policy when it is empty, cannot be placed now.
func (s *Server) placeable(policy string) error {
	if policy == "" {
		policy = s.ns.DefaultPolicy
	}
	pol, ok := s.ns.Policy(policy)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownPolicy, short(policy))
	}
	_, err := s.reg.Choose("rawx", pol.Copies)
	return err
}

// placeMetachunk picks the servers of one metachunk.
func (s *Server) placeMetachunk(cid, path string, p *Prepared, pol Policy,
	pos int64) ([]Chunk, error) {
	services, err := s.reg.Choose("rawx", pol.Copies)
	if err != nil {
		return nil, err
	}
	position := strconv.FormatInt(pos, 10)
	id := ChunkID(cid, path, p.Version, position, pol.Name)
	chunks := make([]Chunk, len(services))
	for i, svc := range services {
		chunks[i] = Chunk{URL: "http://" + svc.URLHost() + "/" + id,
			RealURL: "http://" + svc.Addr + "/" + id, Pos: position, Size: p.ChunkSize,
			Hash: emptyHash, Score: svc.Score(s.reg.MinFree())}
	}
	return chunks, nil
}

// locateChunks fills the real URL and score of stored chunks from the
// registry: a known server gets its address and a score of 100, or 0 when
// dead; an unknown one keeps its URL and a score of 100.
// Each server is looked up once: an object often has many chunks on one.
func (s *Server) locateChunks(chunks []Chunk) []Chunk {
	type found struct {
		addr  string // "" when the server is unknown
		score int
	}
	servers := map[string]found{}
	out := make([]Chunk, len(chunks))
	for i, c := range chunks {
		host := c.Host()
		f, ok := servers[host]
		if !ok {
			f = found{score: 100}
			if svc, err := s.reg.Resolve("rawx", host); err == nil {
				f.addr = svc.Addr
				if !svc.Alive {
					f.score = 0
				}
			}
			servers[host] = f
		}
		c.RealURL, c.Score = c.URL, f.score
		if f.addr != "" {
			c.RealURL = "http://" + f.addr + "/" + c.ID()
		}
		out[i] = c
	}
	return out
}
