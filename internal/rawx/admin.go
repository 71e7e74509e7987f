package rawx

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// serveInfo answers /info with the namespace, volume and layout.
func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return errorf(http.StatusMethodNotAllowed, "")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "namespace %s\npath %s\n", s.cfg.Namespace, s.cfg.Volume)
	if s.cfg.ServiceID != "" {
		fmt.Fprintf(&b, "service_id %s\n", s.cfg.ServiceID)
	}
	fmt.Fprintf(&b, "hash_depth %d\nhash_width %d\n", s.cfg.Layout.Depth, s.cfg.Layout.Width)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, b.String())
	return nil
}

// ListRequest is the JSON body of GET /list.
type ListRequest struct {
	StartAfter  string `json:"start_after,omitempty"`
	MinToReturn int    `json:"min_to_return,omitempty"`
}

// ListReply is the JSON reply of GET /list. Marker is the next leaf
// directory to list, not a chunk id. Misplaced holds the paths, relative
// to the volume and with "/" between directories, of the entries named
// like a chunk id, in any case, that the leaf directories of the page hold
// but that are not in uppercase or whose id's directory is another, and,
// on the first page, of those above the leaf directories: they are left
// out of Chunks, whose ids stay in order, and no route by chunk id
// reaches them. OpenIO's rawx has no such field.
type ListReply struct {
	Chunks      []ListedChunk `json:"chunks"`
	Misplaced   []string      `json:"misplaced,omitempty"`
	IsTruncated bool          `json:"is_truncated"`
	Marker      string        `json:"marker"`
}

// ListedChunk is one entry of a chunk listing.
type ListedChunk struct {
	ChunkID string `json:"chunk_id"`
}

// serveList lists chunk ids a whole leaf directory at a time, in order,
// until at least min_to_return ids are collected.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return errorf(http.StatusMethodNotAllowed, "")
	}
	var req ListRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return clientError(err)
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return errorf(http.StatusBadRequest, "invalid list request: %v", err)
		}
	}
	if req.MinToReturn <= 0 {
		req.MinToReturn = 1000
	}
	reply, err := s.list(req)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(reply)
}

func (s *Server) list(req ListRequest) (*ListReply, error) {
	leaves, strays, err := s.leafDirs()
	if err != nil {
		return nil, err
	}
	prefixLen := s.cfg.Layout.Width * s.cfg.Layout.Depth
	from := strings.ToUpper(req.StartAfter)
	if len(from) > prefixLen {
		from = from[:prefixLen]
	}
	i := sort.SearchStrings(leaves, from)
	reply := &ListReply{Chunks: []ListedChunk{}}
	if req.StartAfter == "" {
		// Above the leaf directories: named on the first page only.
		reply.Misplaced = strays
	}
	for ; i < len(leaves); i++ {
		if len(reply.Chunks) >= req.MinToReturn {
			reply.IsTruncated, reply.Marker = true, leaves[i]
			break
		}
		ids, misplaced, err := s.readLeaf(leaves[i])
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			reply.Chunks = append(reply.Chunks, ListedChunk{ChunkID: id})
		}
		reply.Misplaced = append(reply.Misplaced, misplaced...)
	}
	return reply, nil
}

// leafDirs returns the leaf directories of the layout that exist, as the
// concatenation of their names, sorted, and the paths, relative to the
// volume with "/" between directories, of the files named like a chunk id
// above them (at the volume's root, say), which are misplaced.
func (s *Server) leafDirs() (leaves, strays []string, err error) {
	err = s.walkLeafDirs(func(rel string) error {
		leaves = append(leaves, strings.ReplaceAll(rel, string(filepath.Separator), ""))
		return nil
	}, func(rel string) { strays = append(strays, filepath.ToSlash(rel)) })
	sort.Strings(leaves)
	return leaves, strays, err
}

// readLeaf returns the sorted chunk ids of one leaf directory, named by
// the concatenation of the names of its directories, and the paths,
// relative to the volume, of its entries named like a chunk id whose
// directory is another one (misplaced).
func (s *Server) readLeaf(prefix string) (ids, misplaced []string, err error) {
	l := s.cfg.Layout
	parts := make([]string, 0, l.Depth)
	for i := 0; i < l.Depth; i++ {
		parts = append(parts, prefix[i*l.Width:(i+1)*l.Width])
	}
	entries, err := os.ReadDir(filepath.Join(s.cfg.Volume, filepath.Join(parts...)))
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		// Whatever is named like a chunk, for a walk to find what is not
		// one (HEAD then answers ErrNotRegular).
		switch {
		case e.IsDir() || !chunk.IsAnyCaseID(e.Name()):
		case !chunk.IsID(e.Name()) || !strings.HasPrefix(e.Name(), prefix):
			// The id's directory is the concatenation of its first
			// characters: the ids of this one would be out of order.
			// And a request by id names the file in uppercase.
			misplaced = append(misplaced, strings.Join(parts, "/")+"/"+e.Name())
		default:
			ids = append(ids, e.Name())
		}
	}
	return ids, misplaced, nil
}

// walkLeafDirs calls fn with the path, relative to the volume, of every
// leaf directory of the layout: directories named by uppercase hex digits
// of the layout's width, at its depth. It calls stray, unless nil, with
// the path of every entry above them that is not a directory and is named
// like a chunk id.
func (s *Server) walkLeafDirs(fn func(rel string) error, stray func(rel string)) error {
	var walk func(rel string, depth int) error
	walk = func(rel string, depth int) error {
		if depth == s.cfg.Layout.Depth {
			return fn(rel)
		}
		entries, err := os.ReadDir(filepath.Join(s.cfg.Volume, rel))
		if err != nil {
			return err
		}
		for _, e := range entries {
			switch {
			case e.IsDir() && len(e.Name()) == s.cfg.Layout.Width && chunk.IsUpperHex(e.Name()):
				if err := walk(filepath.Join(rel, e.Name()), depth+1); err != nil {
					return err
				}
			case !e.IsDir() && stray != nil && chunk.IsAnyCaseID(e.Name()):
				stray(filepath.Join(rel, e.Name()))
			}
		}
		return nil
	}
	return walk("", 0)
}
