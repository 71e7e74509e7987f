package meta

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

func (s *Server) contentPrepare2(w http.ResponseWriter, r *http.Request) error {
	p, err := s.prepareRequest(w, r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wirePrepared{Chunks: p.Chunks, Properties: map[string]string{}})
	return nil
}

// contentPrepare is the legacy prepare: the same, replying only the chunks.
func (s *Server) contentPrepare(w http.ResponseWriter, r *http.Request) error {
	p, err := s.prepareRequest(w, r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p.Chunks)
	return nil
}

func (s *Server) prepareRequest(w http.ResponseWriter, r *http.Request) (*Prepared, error) {
	q := r.URL.Query()
	ref, err := parseRef(q, false)
	if err != nil {
		return nil, err
	}
	path := q.Get("path")
	if err := CheckObject(path); err != nil {
		return nil, err
	}
	var body wirePrepare
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	version, err := intParam(q, "version", 0, 0)
	if err != nil {
		return nil, err
	}
	if _, ok := s.ns.Policy(body.Policy); body.Policy != "" && !ok {
		// Checked before autocreate, so that a bad request creates nothing.
		return nil, fmt.Errorf("prepare: %w: %q", ErrUnknownPolicy, short(body.Policy))
	}
	c, err := s.preparedContainer(r, ref, false)
	if errors.Is(err, ErrNoSuchContainer) && autocreate(r) {
		// A container is created for an object only if the object can be
		// placed: a failed put leaves nothing behind.
		if err := s.placeable(body.Policy); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		c, err = s.preparedContainer(r, ref, true)
	}
	if err != nil {
		return nil, err
	}
	p, err := s.prepare(c, path, PrepareRequest{Size: body.Size, Position: body.Position,
		Policy: body.Policy, Version: version})
	if err != nil {
		return nil, err
	}
	now := time.Now().Unix()
	setHeader(w, "x-oio-ns-chunk-size", strconv.FormatInt(p.ChunkSize, 10))
	setContentHeaders(w, &Object{Name: path, Version: p.Version, ContentID: p.ContentID,
		Policy: p.Policy, ChunkMethod: p.ChunkMethod, Size: body.Size,
		MimeType: DefaultMimeType, CTime: now, MTime: now}, false)
	return p, nil
}

func (s *Server) contentCreate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref, err := parseRef(q, false)
	if err != nil {
		return err
	}
	var body wireCreate
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	o, err := objectFromHeaders(r.Header, q.Get("path"), body)
	if err != nil {
		return err
	}
	stored, err := s.putObject(r, ref, o)
	if err != nil {
		return err
	}
	setContentHeaders(w, stored, false)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// putObject stores o in the container of ref. The store finds the
// container in the commit's transaction, so it is read beforehand only to
// create it when it is missing and the request asks for that.
func (s *Server) putObject(r *http.Request, ref containerRef, o *Object) (*Object, error) {
	stored, err := s.store.PutObject(r.Context(), ref.cid, o)
	if !errors.Is(err, ErrNoSuchContainer) || !autocreate(r) || ref.account == "" {
		return stored, err
	}
	c, err := s.container(r, ref, true)
	if err != nil {
		return nil, err
	}
	return s.store.PutObject(r.Context(), c.ID, o)
}

// objectFromHeaders builds the object a commit describes: its header
// fields from x-oio-content-meta-*, chunks and properties from the body.
// Without a length header the size is what the metachunks hold.
func objectFromHeaders(h http.Header, path string, body wireCreate) (*Object, error) {
	get := func(k string) string { return h.Get(contentMetaPrefix + k) }
	o := &Object{Name: path, ContentID: get("id"), Policy: get("policy"),
		ChunkMethod: get("chunk-method"), Hash: get("hash"), MimeType: get("mime-type"),
		Chunks: body.Chunks, Properties: body.Properties}
	var err error
	if o.Version, err = headerInt(get("version")); err != nil {
		return nil, err
	}
	size := get("length")
	if size == "" {
		size = get("size")
	}
	if size == "" {
		o.Size = metachunkTotal(o.Chunks)
	} else if o.Size, err = headerInt(size); err != nil {
		return nil, err
	}
	return o, nil
}

func headerInt(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: header value %q is not a count", ErrInvalid, short(v))
	}
	return n, nil
}

// metachunkTotal adds the sizes of the plain metachunks, once each.
func metachunkTotal(chunks []Chunk) int64 {
	seen := map[string]bool{}
	var total int64
	for _, c := range chunks {
		if !seen[c.Pos] && !strings.Contains(c.Pos, ".") {
			seen[c.Pos] = true
			total += c.Size
		}
	}
	return total
}

// objectQuery reads which object version a request is about: "content"
// (a content id), or "path" and "version".
func objectQuery(q url.Values) (ObjectQuery, error) {
	if id := q.Get("content"); id != "" {
		if !chunk.IsHex(id) || len(id) > chunk.MaxIDLen {
			return ObjectQuery{}, fmt.Errorf("%w: content id %q", ErrInvalid, short(id))
		}
		return ObjectQuery{ContentID: strings.ToUpper(id)}, nil
	}
	oq := ObjectQuery{Name: q.Get("path")}
	if err := CheckObject(oq.Name); err != nil {
		return oq, err
	}
	var err error
	oq.Version, err = intParam(q, "version", 0, 0)
	return oq, err
}

// requestObject loads the object version a request is about.
func (s *Server) requestObject(r *http.Request, deleted bool) (*Object, error) {
	q := r.URL.Query()
	ref, err := parseRef(q, false)
	if err != nil {
		return nil, err
	}
	oq, err := objectQuery(q)
	if err != nil {
		return nil, err
	}
	oq.Deleted = deleted
	return s.store.Object(r.Context(), ref.cid, oq)
}

func (s *Server) contentLocate(w http.ResponseWriter, r *http.Request) error {
	props, err := boolParam(r.URL.Query(), "properties", true)
	if err != nil {
		return err
	}
	deleted, err := boolParam(r.URL.Query(), "deleted", false)
	if err != nil {
		return err
	}
	o, err := s.requestObject(r, deleted)
	if err != nil {
		return err
	}
	setContentHeaders(w, o, props)
	writeJSON(w, http.StatusOK, s.locateChunks(o.Chunks))
	return nil
}

func (s *Server) contentGetProperties(w http.ResponseWriter, r *http.Request) error {
	o, err := s.requestObject(r, false)
	if err != nil {
		return err
	}
	setContentHeaders(w, o, false)
	writeJSON(w, http.StatusOK, wireContentProperties{Properties: o.Properties})
	return nil
}

func (s *Server) contentSetProperties(w http.ResponseWriter, r *http.Request) error {
	flush, err := boolParam(r.URL.Query(), "flush", false)
	if err != nil {
		return err
	}
	var body wireContentProperties
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	return s.updateObject(w, r, PropertyUpdate{Set: body.Properties, Flush: flush})
}

func (s *Server) contentDelProperties(w http.ResponseWriter, r *http.Request) error {
	var keys []string
	if err := decodeBody(r, &keys); err != nil {
		return err
	}
	return s.updateObject(w, r, PropertyUpdate{Delete: keys})
}

func (s *Server) updateObject(w http.ResponseWriter, r *http.Request, u PropertyUpdate) error {
	q := r.URL.Query()
	ref, err := parseRef(q, false)
	if err != nil {
		return err
	}
	oq, err := objectQuery(q)
	if err != nil {
		return err
	}
	if err := s.store.UpdateObject(r.Context(), ref.cid, oq, u); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) contentDelete(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref, err := parseRef(q, false)
	if err != nil {
		return err
	}
	oq, err := objectQuery(q)
	if err != nil {
		return err
	}
	if oq.ContentID != "" {
		o, err := s.store.Object(r.Context(), ref.cid, ObjectQuery{ContentID: oq.ContentID,
			Deleted: true})
		if err != nil {
			return err
		}
		oq = ObjectQuery{Name: o.Name, Version: o.Version}
	}
	if err := decodeBody(r, &map[string]any{}); err != nil {
		return err
	}
	res, err := s.store.DeleteObject(r.Context(), ref.cid, oq.Name, oq.Version)
	if err != nil {
		return err
	}
	setHeader(w, "x-oio-delete-marker", FormatBool(res.DeleteMarker))
	setHeader(w, "x-oio-version-id", strconv.FormatInt(res.Version, 10))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
