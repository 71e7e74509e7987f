package rawx

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
)

// delete removes a chunk. When other names share its inode (shallow
// copies), only this name's fullpath attribute goes with it.
func (s *Server) delete(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.isRegular(id); err != nil {
		return err
	}
	defer s.ids.lock(id)()
	path := s.chunkPath(id)
	m, err := chunk.ReadFile(path)
	if err != nil && m == nil {
		if _, serr := os.Lstat(path); errors.Is(serr, os.ErrNotExist) {
			return serr
		}
		m = &chunk.Meta{ChunkID: id}
	}
	if len(m.Links) > 0 {
		if err := chunk.RemoveAttr(path, chunk.AttrFullpathPrefix+id); err != nil {
			return err
		}
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	s.metas.forget(id)
	if s.cfg.Fsync {
		if err := syncDir(path); err != nil {
			return err
		}
	}
	s.publish(event.ChunkDeleted, r, m)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// copy makes a shallow copy: a hard link to the chunk under a new id, with
// its own fullpath attribute on the shared inode.
func (s *Server) copy(w http.ResponseWriter, r *http.Request, id string) error {
	if s.cfg.NoShallowCopy {
		return errorf(http.StatusMethodNotAllowed, "")
	}
	dst, err := s.copyDestination(r.Header.Get(HdrDestination), id)
	if err != nil {
		return err
	}
	u := &upload{}
	u.meta.ChunkID = dst
	if err := u.parseFullpath(r.Header.Get(HdrFullPath)); err != nil {
		return err
	}
	if err := s.isRegular(id); err != nil {
		return err
	}
	src := s.chunkPath(id)
	m, err := chunk.ReadFile(src)
	if m == nil {
		return err
	}
	final := s.cfg.Layout.Path(dst)
	if _, err := os.Lstat(s.chunkPath(dst)); err == nil {
		return errorf(http.StatusConflict, "")
	}
	if err := s.ensureDir(dst); err != nil {
		return err
	}
	defer s.ids.lock(dst)()
	err = s.link(src, final, dst, u.meta.FullpathRaw)
	s.metas.forget(id) // the shared inode has one more attribute
	if err != nil {
		return err
	}
	m.ChunkID, m.Fullpath, m.FullpathRaw = dst, u.meta.Fullpath, u.meta.FullpathRaw
	s.publish(event.ChunkNew, r, m)
	w.Header()["Content-Length"] = []string{"0"}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// link creates final (a path in the volume) as a hard link of src through
// a pending name, sets the new fullpath attribute, then renames it into
// place.
func (s *Server) link(src, final, dst, fullpath string) error {
	pending := filepath.Join(s.cfg.Volume, final+chunk.PendingSuffix)
	if err := os.Link(src, pending); err != nil {
		if errors.Is(err, os.ErrExist) {
			return errorf(http.StatusConflict, "")
		}
		return err
	}
	attr := []chunk.Attr{{Name: chunk.AttrFullpathPrefix + dst, Value: fullpath}}
	err := s.attrError(chunk.SetAttrs(pending, attr))
	if err == nil {
		err = s.commit(final+chunk.PendingSuffix, final, dst)
	}
	if err != nil {
		chunk.RemoveAttr(pending, attr[0].Name)
		os.Remove(pending)
	}
	return err
}

// copyDestination checks a COPY Destination: a URL on this service naming
// a valid chunk id other than the source.
func (s *Server) copyDestination(v, src string) (string, error) {
	u, err := url.Parse(v)
	if v == "" || err != nil {
		return "", errorf(http.StatusBadRequest, "invalid %s %q", HdrDestination, v)
	}
	if !s.hostAllowed(u.Host) {
		return "", errorf(http.StatusForbidden, "destination is not on this service")
	}
	dst, err := chunk.NormalizeID(strings.TrimPrefix(u.Path, "/"))
	if err != nil {
		return "", errorf(http.StatusBadRequest, "%v", err)
	}
	if dst == src {
		return "", errorf(http.StatusForbidden, "destination is the source")
	}
	return dst, nil
}

// post updates extra properties, all or none of them, and marks a chunk as
// placed sub-optimally.
func (s *Server) post(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.isRegular(id); err != nil {
		return err
	}
	path := s.chunkPath(id)
	extra, err := extProperties(r.Header)
	if err != nil {
		return err
	}
	nonOptimal := false
	if v := r.Header.Get(HdrNonOptimal); v != "" {
		if nonOptimal, err = strconv.ParseBool(v); err != nil {
			return errorf(http.StatusBadRequest, "%s %q is not a boolean", HdrNonOptimal, v)
		}
	}
	attrs := make([]chunk.Attr, 0, len(extra))
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		attrs = append(attrs, chunk.Attr{Name: chunk.AttrExtPrefix + k, Value: extra[k]})
	}
	err = chunk.ReplaceAttrs(path, attrs)
	s.metas.forget(id)
	if err != nil {
		return s.attrError(err)
	}
	if nonOptimal {
		if err := s.linkNonOptimal(id); err != nil {
			return err
		}
	}
	w.Header()["Content-Length"] = []string{"0"}
	w.WriteHeader(http.StatusOK)
	return nil
}

// errNotRegular answers a request for a chunk id whose name in the volume
// is not a regular file, or is reached through a symbolic link: there is
// no chunk there, and what is there is left alone.
var errNotRegular = errorf(http.StatusNotFound, reasonNotRegular)

// reasonNotRegular is the X-Error of errNotRegular, which the client maps
// to ErrNotRegular.
const reasonNotRegular = "not a regular file"

// openRegular opens chunk id with flag (O_RDONLY or O_PATH) and returns
// it with its file information. Only a regular file is a chunk: no
// symbolic link is followed, on the way or at the end, and a named pipe
// cannot block the open; anything else answers errNotRegular.
func (s *Server) openRegular(id string, flag int) (*os.File, os.FileInfo, error) {
	if flag&unix.O_PATH == 0 {
		flag |= unix.O_NONBLOCK // O_PATH takes no other flags
	}
	f, err := s.openRel(s.cfg.Layout.Path(id), flag, 0)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
		return nil, nil, errNotRegular
	}
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// isRegular returns nil if chunk id is a regular file (see openRegular).
func (s *Server) isRegular(id string) error {
	f, _, err := s.openRegular(id, unix.O_PATH)
	if err == nil {
		f.Close()
	}
	return err
}

// linkNonOptimal records a chunk placed sub-optimally: a relative symlink
// non_optimal_placement/<dirs>/<id>.<attempts>.<unix time> -> the chunk.
func (s *Server) linkNonOptimal(id string) error {
	dir := filepath.Join(s.cfg.Volume, NonOptimalDir, s.cfg.Layout.Dir(id))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	matches, _ := filepath.Glob(filepath.Join(dir, id+".*"))
	if len(matches) > 0 {
		return errorf(http.StatusConflict, "chunk already marked non-optimal")
	}
	up := strings.Repeat("../", s.cfg.Layout.Depth+1)
	name := fmt.Sprintf("%s.0.%d", id, time.Now().Unix())
	return os.Symlink(up+s.cfg.Layout.Path(id), filepath.Join(dir, name))
}

// publish sends a chunk event about m, its owner named as ownerOf says; a
// full backlog drops it with a warning.
func (s *Server) publish(typ string, r *http.Request, m *chunk.Meta) {
	if s.cfg.Publisher == nil {
		return
	}
	d := event.ChunkData{
		VolumeID:             s.cfg.Addr,
		VolumeServiceID:      s.cfg.ServiceID,
		FullPath:             m.FullpathRaw,
		ContentStoragePolicy: m.StoragePolicy,
		MetachunkHash:        m.MetachunkHash,
		ChunkID:              m.ChunkID,
		ContentChunkMethod:   m.ChunkMethod,
		ChunkPosition:        m.Position,
		ChunkHash:            m.Hash,
	}
	if o, ok := ownerOf(m); ok {
		d.ContainerID, d.ContentPath = o.containerID, o.path
		d.ContentVersion, d.ContentID = o.version, o.contentID
	}
	if m.HasMetaSize {
		d.MetachunkSize = strconv.FormatInt(m.MetachunkSize, 10)
	}
	if m.HasSize {
		d.ChunkSize = strconv.FormatInt(m.Size, 10)
	}
	ev, err := newChunkEvent(typ, requestID(r), d)
	if err == nil {
		err = s.cfg.Publisher.Publish(ev)
	}
	if err != nil {
		s.log.Warn("chunk event not sent", "event", typ, "chunk_id", m.ChunkID, "err", err)
	}
}

func newChunkEvent(typ, reqID string, d event.ChunkData) (event.Event, error) {
	data, err := jsonMarshal(d)
	if err != nil {
		return event.Event{}, err
	}
	return event.Event{Type: typ, When: event.Now(), RequestID: reqID, Data: data}, nil
}

// syncDir makes the directory entry of path durable.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Fsync(int(d.Fd()))
}

// idLocks order what happens to one chunk id: a name given to or taken
// from a chunk file and the event that says so happen under the id's
// stripe, so that the reverse index, which applies events in order, sees
// a DELETE and a PUT or COPY of one id in the order the volume saw them.
// Without it, a PUT that lands between a DELETE's removal and its event
// would be announced first, and the late "deleted" event would take the
// new chunk out of the index for good.
type idLocks [256]sync.Mutex

// lock locks the stripe of id (a valid chunk id) and returns its unlock.
func (l *idLocks) lock(id string) (unlock func()) {
	n, _ := strconv.ParseUint(id[len(id)-2:], 16, 8)
	mu := &l[n]
	mu.Lock()
	return mu.Unlock
}
