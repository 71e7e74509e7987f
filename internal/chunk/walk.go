package chunk

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrSymlink says a walk met a symbolic link where a chunk file or a
// chunk directory would be, and did not follow it.
var ErrSymlink = errors.New("a symbolic link, not followed")

// File is a file found by WalkByInode: a chunk file, or a file named by a
// chunk id not in uppercase.
type File struct {
	Path string // root joined with the path under it
	Ino  uint64 // inode number, as the directory entry gives it
}

// WalkByInode calls fn with every chunk file (a regular file named by a
// chunk id) under root, like WalkChunks, but in order of inode number
// within each run of window files: directories are read in name order, and
// the files they hold are handed out window at a time, sorted by inode.
// A regular file named by a chunk id in lowercase or mixed case is handed
// out too, for the caller to report (see IsID): it holds a chunk that a
// chunk server, which looks for uppercase names only, never finds.
//
// Visiting files in inode order keeps the reads and writes of their
// metadata close together on disk: the inode tables are read in order,
// and the blocks made dirty by a batch of consecutive files are written
// back in a few long requests instead of one short request each.
// The directories of the next window are read while fn is called with the
// files of the current one: two windows are held at most.
//
// A subdirectory that cannot be read is passed to skip, if not nil, and
// the walk goes on without it; skip is called from another goroutine than
// fn. Without skip, or for root itself, the error ends the walk. A
// symbolic link named like a chunk or a chunk directory (in hexadecimal
// digits) is not followed: it is passed to skip, if not nil, with
// ErrSymlink.
func WalkByInode(root string, window int, skip func(dir string, err error), fn func(File) error) error {
	return walkByInode(root, window, skip, fn, readDirents)
}

// walkByInode is WalkByInode reading directories with read.
func walkByInode(root string, window int, skip func(dir string, err error), fn func(File) error,
	read func(path string, buf []byte) ([]dirent, error)) error {
	windows := make(chan []File)
	done := make(chan struct{})
	var walkErr error
	go func() {
		defer close(windows)
		w := inodeWalk{window: max(window, 1), out: windows, done: done, skip: skip, read: read,
			buf: make([]byte, 32<<10)}
		if walkErr = w.dir(root, true); walkErr == nil {
			walkErr = w.flush()
		}
	}()
	var err error
	for files := range windows {
		if err != nil {
			continue // stopped: wait for the reader to see it
		}
		for _, f := range files {
			if err = fn(f); err != nil {
				close(done)
				break
			}
		}
	}
	if err != nil {
		return err
	}
	return walkErr
}

// errWalkStopped says the caller of WalkByInode stopped the walk.
var errWalkStopped = errors.New("walk stopped")

// inodeWalk reads the directories of a walk, while the files of the
// previous window are handed out.
type inodeWalk struct {
	window  int
	out     chan<- []File
	done    <-chan struct{}
	skip    func(dir string, err error)
	read    func(path string, buf []byte) ([]dirent, error)
	pending []File
	buf     []byte
}

// dir reads one directory, queues its chunk files and walks its
// subdirectories in name order.
func (w *inodeWalk) dir(path string, root bool) error {
	ents, err := w.read(path, w.buf)
	switch {
	case err == nil:
	case root:
		return err
	case errors.Is(err, os.ErrNotExist):
		return nil // removed while walking
	case w.skip != nil:
		w.skip(path, err)
		return nil
	default:
		return err
	}
	slices.SortFunc(ents, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
	for _, e := range ents {
		p := filepath.Join(path, e.name)
		typ := e.typ
		if typ == unix.DT_UNKNOWN { // the filesystem does not say: ask
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				continue // removed while walking
			}
			typ = dtype(st.Mode)
		}
		switch {
		case typ == unix.DT_DIR:
			if err := w.dir(p, false); err != nil {
				return err
			}
		case typ == unix.DT_LNK && IsHex(e.name) && w.skip != nil:
			w.skip(p, &os.PathError{Op: "walk", Path: p, Err: ErrSymlink})
		case typ == unix.DT_REG && IsAnyCaseID(e.name):
			w.pending = append(w.pending, File{Path: p, Ino: e.ino})
			if len(w.pending) >= w.window {
				if err := w.flush(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// flush sends the queued files, sorted by inode.
func (w *inodeWalk) flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	slices.SortFunc(w.pending, func(a, b File) int { return cmp.Compare(a.Ino, b.Ino) })
	select {
	case w.out <- w.pending:
		w.pending = make([]File, 0, w.window)
		return nil
	case <-w.done:
		return errWalkStopped
	}
}

type dirent struct {
	name string
	ino  uint64
	typ  uint8
}

// read returns the entries of a directory but "." and "..", with their
// inode numbers and types as getdents64 gives them.
func readDirents(path string, buf []byte) ([]dirent, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var ents []dirent
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "getdents", Path: path, Err: err}
		}
		if n == 0 {
			return ents, nil
		}
		for b := buf[:n]; len(b) > 0; {
			e, size, err := parseDirent(b)
			if err != nil {
				return nil, fmt.Errorf("read directory %s: %w", path, err)
			}
			if e.name != "." && e.name != ".." {
				ents = append(ents, e)
			}
			b = b[size:]
		}
	}
}

// parseDirent decodes the first linux_dirent64 record of b: inode (8
// bytes), offset (8), record length (2), type (1), then the name, ended
// by a NUL byte.
func parseDirent(b []byte) (dirent, int, error) {
	const nameOff = 19
	if len(b) < nameOff {
		return dirent{}, 0, errors.New("short directory record")
	}
	size := int(binary.NativeEndian.Uint16(b[16:18]))
	if size <= nameOff || size > len(b) {
		return dirent{}, 0, fmt.Errorf("bad directory record length %d", size)
	}
	name := b[nameOff:size]
	if i := slices.Index(name, 0); i >= 0 {
		name = name[:i]
	}
	return dirent{name: string(name), ino: binary.NativeEndian.Uint64(b[0:8]), typ: b[18]}, size, nil
}

func dtype(mode uint32) uint8 {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFREG:
		return unix.DT_REG
	}
	return unix.DT_UNKNOWN
}
