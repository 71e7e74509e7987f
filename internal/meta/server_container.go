package meta

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

func (s *Server) containerCreate(w http.ResponseWriter, r *http.Request) error {
	ref, err := parseRef(r.URL.Query(), true)
	if err != nil {
		return err
	}
	var body wireContainerBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	created, err := s.store.CreateContainer(r.Context(), ContainerSpec{Account: ref.account,
		Name: ref.name, Properties: body.Properties, System: body.System})
	if err != nil {
		return err
	}
	if created {
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// container loads the container of a request. With autocreate and the
// container's names, a missing container is created first.
func (s *Server) container(r *http.Request, ref containerRef, create bool) (*Container, error) {
	c, err := s.store.Container(r.Context(), ref.cid)
	if !errors.Is(err, ErrNoSuchContainer) || !create || ref.account == "" {
		return c, err
	}
	if _, err := s.store.CreateContainer(r.Context(), ContainerSpec{Account: ref.account,
		Name: ref.name}); err != nil {
		return nil, err
	}
	return s.store.Container(r.Context(), ref.cid)
}

func (s *Server) requestContainer(r *http.Request) (*Container, error) {
	ref, err := parseRef(r.URL.Query(), false)
	if err != nil {
		return nil, err
	}
	return s.container(r, ref, false)
}

func (s *Server) containerShow(w http.ResponseWriter, r *http.Request) error {
	c, err := s.requestContainer(r)
	if err != nil {
		return err
	}
	setContainerHeaders(w, c)
	writeJSON(w, http.StatusOK, wireProperties{Properties: c.Properties})
	return nil
}

func (s *Server) containerGetProperties(w http.ResponseWriter, r *http.Request) error {
	c, err := s.requestContainer(r)
	if err != nil {
		return err
	}
	var keys []string
	if err := decodeBody(r, &keys); err != nil {
		return err
	}
	reply := wireProperties{Properties: c.Properties, System: c.System}
	if len(keys) > 0 {
		reply.Properties = pick(c.Properties, keys)
	}
	setContainerHeaders(w, c)
	writeJSON(w, http.StatusOK, reply)
	return nil
}

// pick returns the entries of m whose keys are listed.
func pick(m map[string]string, keys []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

func (s *Server) containerSetProperties(w http.ResponseWriter, r *http.Request) error {
	ref, err := parseRef(r.URL.Query(), false)
	if err != nil {
		return err
	}
	flush, err := boolParam(r.URL.Query(), "flush", false)
	if err != nil {
		return err
	}
	var body wireContainerBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	u := ContainerUpdate{Properties: PropertyUpdate{Set: body.Properties, Flush: flush},
		System: body.System}
	return s.updateContainer(r.Context(), w, ref.cid, u)
}

func (s *Server) containerDelProperties(w http.ResponseWriter, r *http.Request) error {
	ref, err := parseRef(r.URL.Query(), false)
	if err != nil {
		return err
	}
	var keys []string
	if err := decodeBody(r, &keys); err != nil {
		return err
	}
	u := ContainerUpdate{Properties: PropertyUpdate{Delete: keys}}
	return s.updateContainer(r.Context(), w, ref.cid, u)
}

func (s *Server) updateContainer(ctx context.Context, w http.ResponseWriter, cid string,
	u ContainerUpdate) error {
	err := s.store.UpdateContainer(ctx, cid, u)
	s.admins.forget(cid)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerDestroy(w http.ResponseWriter, r *http.Request) error {
	ref, err := parseRef(r.URL.Query(), false)
	if err != nil {
		return err
	}
	err = s.store.DestroyContainer(r.Context(), ref.cid)
	s.admins.forget(ref.cid)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerList(w http.ResponseWriter, r *http.Request) error {
	c, err := s.requestContainer(r)
	if err != nil {
		return err
	}
	opts, err := listParams(r)
	if err != nil {
		return err
	}
	l, err := s.store.ListObjects(r.Context(), c.ID, opts)
	if err != nil {
		return err
	}
	reply := wireList{Prefixes: l.Prefixes, Properties: c.Properties, System: c.System,
		Objects: make([]wireObject, len(l.Objects))}
	if reply.Prefixes == nil {
		reply.Prefixes = []string{}
	}
	for i := range l.Objects {
		reply.Objects[i] = toWireObject(&l.Objects[i])
	}
	setListHeaders(w, l)
	setContainerHeaders(w, c)
	writeJSON(w, http.StatusOK, reply)
	return nil
}

func setListHeaders(w http.ResponseWriter, l *ObjectList) {
	setHeader(w, "x-oio-list-truncated", strconv.FormatBool(l.Truncated))
	if !l.Truncated {
		return
	}
	setHeader(w, "x-oio-list-marker", chunk.Quote(l.NextMarker))
	if l.NextVersionMarker != 0 {
		setHeader(w, "x-oio-list-version-marker", strconv.FormatInt(l.NextVersionMarker, 10))
	}
}

// listParams reads the parameters of container list.
func listParams(r *http.Request) (ListOptions, error) {
	q := r.URL.Query()
	page, err := pageParams(q)
	if err != nil {
		return ListOptions{}, err
	}
	o := ListOptions{Prefix: page.Prefix, Marker: page.Marker, EndMarker: page.EndMarker,
		Limit: page.Limit, Delimiter: q.Get("delimiter")}
	if o.VersionMarker, err = intParam(q, "version_marker", 0, 0); err != nil {
		return o, err
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"all", &o.Versions}, {"deleted", &o.Deleted}, {"properties", &o.Properties},
		{"chunks", &o.Chunks}} {
		if *b.dst, err = boolParam(q, b.name, false); err != nil {
			return o, err
		}
	}
	return o, nil
}
