package meta

import (
	"fmt"
	"net/http"
)

// wireRawUpdate is the body of container/raw_update: the chunk beans to
// replace and their replacements.
type wireRawUpdate struct {
	Old []ChunkBean `json:"old"`
	New []ChunkBean `json:"new"`
}

// chunkUpdate reads the one change a raw update body may carry.
func (b wireRawUpdate) chunkUpdate() (ChunkUpdate, error) {
	if len(b.Old) > 1 || len(b.New) > 1 {
		return ChunkUpdate{}, fmt.Errorf("%w: raw update of %d chunks by %d: at most one each",
			ErrInvalid, len(b.Old), len(b.New))
	}
	var u ChunkUpdate
	for _, bean := range b.Old {
		u.ContentID, u.Old = bean.Content, bean.chunk()
	}
	for _, bean := range b.New {
		if u.ContentID != "" && bean.Content != u.ContentID {
			return ChunkUpdate{}, fmt.Errorf("%w: raw update across contents", ErrInvalid)
		}
		u.ContentID, u.New = bean.Content, bean.chunk()
	}
	return u, nil
}

func (b ChunkBean) chunk() Chunk {
	return Chunk{URL: b.ID, Pos: b.Pos, Size: b.Size, Hash: b.Hash}
}

// containerRawUpdate replaces, adds or removes one chunk entry of an
// object, named by its content id in the beans.
func (s *Server) containerRawUpdate(w http.ResponseWriter, r *http.Request) error {
	ref, err := parseRef(r.URL.Query(), false)
	if err != nil {
		return err
	}
	var body wireRawUpdate
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	u, err := body.chunkUpdate()
	if err != nil {
		return err
	}
	if err := s.store.UpdateChunk(r.Context(), ref.cid, u); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// chunkOwners lists the entries of a chunk id, in any container (a
// gridkeep route: OpenIO's directory has none).
func (s *Server) chunkOwners(w http.ResponseWriter, r *http.Request) error {
	owners, err := s.store.ChunkOwners(r.Context(), r.URL.Query().Get("id"))
	if err != nil {
		return err
	}
	if owners == nil {
		owners = []ChunkOwner{}
	}
	writeJSON(w, http.StatusOK, owners)
	return nil
}
