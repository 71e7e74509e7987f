package meta

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

func (s *Server) accountShow(w http.ResponseWriter, r *http.Request) error {
	a, err := s.store.Account(r.Context(), r.URL.Query().Get("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWireAccount(a))
	return nil
}

// accountCreate answers 201 when it created the account, 202 when it
// existed.
func (s *Server) accountCreate(w http.ResponseWriter, r *http.Request) error {
	created, err := s.store.CreateAccount(r.Context(), r.URL.Query().Get("id"))
	if err != nil {
		return err
	}
	if created {
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusAccepted)
	}
	return nil
}

func (s *Server) accountList(w http.ResponseWriter, r *http.Request) error {
	page, err := pageParams(r.URL.Query())
	if err != nil {
		return err
	}
	l, err := s.store.ListAccounts(r.Context(), page)
	if err != nil {
		return err
	}
	listing := make([]wireAccount, len(l.Accounts))
	for i := range l.Accounts {
		listing[i] = toWireAccount(&l.Accounts[i])
	}
	reply := map[string]any{"listing": listing, "truncated": l.Truncated}
	if l.Truncated {
		reply["next_marker"] = l.NextMarker
	}
	writeJSON(w, http.StatusOK, reply)
	return nil
}

// accountContainers lists an account's containers as rows of
// [name, objects, bytes, is_prefix, mtime in seconds].
//
// TODO(#3): the delimiter parameter (rows with is_prefix 1) is not
// supported; names are listed flat.
func (s *Server) accountContainers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := pageParams(q)
	if err != nil {
		return err
	}
	a, err := s.store.Account(r.Context(), q.Get("id"))
	if err != nil {
		return err
	}
	l, err := s.store.ListContainers(r.Context(), a.Name, page)
	if err != nil {
		return err
	}
	reply := wireAccountContainers{wireAccount: toWireAccount(a), Listing: [][]any{},
		Truncated: l.Truncated}
	for _, c := range l.Containers {
		reply.Listing = append(reply.Listing, []any{c.Name, c.Objects, c.Bytes, 0,
			seconds(c.MTime)})
	}
	if l.Truncated {
		reply.NextMarker = l.NextMarker
	}
	writeJSON(w, http.StatusOK, reply)
	return nil
}

// accountContainerShow describes a container as the account service does,
// with the bucket's replication flag.
//
// TODO(#3): the per-policy details count every object under the
// container's policy; objects stored with another policy are not told
// apart.
func (s *Server) accountContainerShow(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	acct, name := q.Get("id"), q.Get("container")
	if err := CheckAccount(acct); err != nil {
		return err
	}
	if err := CheckContainer(name); err != nil {
		return err
	}
	c, err := s.store.Container(r.Context(), chunk.ContainerID(acct, name))
	if err != nil {
		return err
	}
	pol := c.StoragePolicy()
	writeJSON(w, http.StatusOK, wireContainerShow{Name: c.Name, Objects: c.Objects,
		Bytes: c.Bytes, CTime: seconds(c.CTime), MTime: seconds(c.MTime),
		ObjectsDetails: map[string]int64{pol: c.Objects},
		BytesDetails:   map[string]int64{pol: c.Bytes}, Bucket: c.Name,
		ReplicationEnabled: c.ReplicationEnabled()})
	return nil
}

// bucket finds a bucket by name: in the given account, or in the only
// account that has a container of that name.
func (s *Server) bucket(ctx context.Context, name, account string) (*Container, error) {
	if err := CheckContainer(name); err != nil {
		return nil, err
	}
	if account != "" {
		if err := CheckAccount(account); err != nil {
			return nil, err
		}
		return s.store.Container(ctx, chunk.ContainerID(account, name))
	}
	found, err := s.store.FindContainers(ctx, name)
	switch {
	case err != nil:
		return nil, err
	case len(found) == 0:
		return nil, fmt.Errorf("bucket %q: %w", name, ErrNoSuchContainer)
	case len(found) > 1:
		return nil, fmt.Errorf("%w: bucket %q exists in %d accounts, name one", ErrInvalid,
			name, len(found))
	}
	return s.store.Container(ctx, found[0].ID)
}

func toWireBucket(c *Container) wireBucket {
	return wireBucket{Account: c.Account, Objects: c.Objects, Bytes: c.Bytes, Containers: 1,
		CTime: seconds(c.CTime), MTime: seconds(c.MTime),
		ReplicationEnabled: c.ReplicationEnabled(), Metadata: c.Bucket}
}

func (s *Server) bucketShow(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c, err := s.bucket(r.Context(), q.Get("id"), q.Get("account"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWireBucket(c))
	return nil
}

// bucketUpdate sets and removes bucket metadata, then shows the bucket.
func (s *Server) bucketUpdate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c, err := s.bucket(r.Context(), q.Get("id"), q.Get("account"))
	if err != nil {
		return err
	}
	var body wireBucketUpdate
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	u := ContainerUpdate{Bucket: PropertyUpdate{Set: body.Metadata, Delete: body.ToDelete}}
	err = s.store.UpdateContainer(r.Context(), c.ID, u)
	s.admins.forget(c.ID)
	if err != nil {
		return err
	}
	if c, err = s.store.Container(r.Context(), c.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWireBucket(c))
	return nil
}
