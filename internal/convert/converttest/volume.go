package converttest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// NewVolume makes dir a chunk volume of service id, in namespace ns.
func NewVolume(dir, ns, id string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return chunk.LockVolume(dir, chunk.VolumeIdentity{Namespace: ns, Type: chunk.VolumeType,
		ServiceID: id})
}

// WriteChunk writes a chunk file with data and attrs at its place on the
// volume (default layout) and returns its path. It fails if it exists.
func WriteChunk(volume, id string, data []byte, attrs []chunk.Attr) (string, error) {
	path := filepath.Join(volume, chunk.DefaultLayout.Path(id))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = chunk.SetAttrs(path, attrs)
	}
	return path, err
}

// ChunkPath returns the path of chunk id on a volume of the default layout.
func ChunkPath(volume, id string) string {
	return filepath.Join(volume, chunk.DefaultLayout.Path(id))
}

// File is the state of one chunk file: its attributes, the hash of its
// data and its inode.
type File struct {
	Attrs map[string]string
	Data  string // hex SHA-256 of the content
	Inode uint64
}

// Snapshot returns the state of every chunk file of a volume, by path.
// With data false the content is not hashed.
func Snapshot(volume string, data bool) (map[string]File, error) {
	out := map[string]File{}
	err := chunk.WalkChunks(volume, func(path string) error {
		f, err := Stat(path, data)
		out[path] = f
		return err
	})
	return out, err
}

// Stat returns the state of one file.
func Stat(path string, data bool) (File, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return File{}, err
	}
	attrs, err := chunk.ReadAttrs(path)
	if err != nil {
		return File{}, err
	}
	f := File{Attrs: map[string]string{}, Inode: st.Sys().(*syscall.Stat_t).Ino}
	for _, a := range attrs {
		f.Attrs[a.Name] = a.Value
	}
	if data {
		f.Data, err = hashFile(path)
	}
	return f, err
}

func hashFile(path string) (string, error) {
	r, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Names returns the sorted attribute names of f.
func (f File) Names() []string {
	names := make([]string, 0, len(f.Attrs))
	for n := range f.Attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
