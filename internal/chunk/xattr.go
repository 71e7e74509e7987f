package chunk

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ReadAttrs returns the "user." extended attributes of the file at path,
// without following a final symlink.
func ReadAttrs(path string) ([]Attr, error) {
	return readAttrs(
		func(buf []byte) (int, error) { return unix.Llistxattr(path, buf) },
		func(name string, buf []byte) (int, error) { return unix.Lgetxattr(path, name, buf) },
	)
}

// ReadAttrsFd is ReadAttrs on an open file.
func ReadAttrsFd(f *os.File) ([]Attr, error) {
	fd := int(f.Fd())
	return readAttrs(
		func(buf []byte) (int, error) { return unix.Flistxattr(fd, buf) },
		func(name string, buf []byte) (int, error) { return unix.Fgetxattr(fd, name, buf) },
	)
}

func readAttrs(list func([]byte) (int, error), get func(string, []byte) (int, error)) ([]Attr, error) {
	names, err := grow(list, 1024)
	if err != nil {
		return nil, fmt.Errorf("list xattrs: %w", err)
	}
	var attrs []Attr
	buf := make([]byte, 512)
	for _, name := range bytes.Split(names, []byte{0}) {
		if !bytes.HasPrefix(name, []byte(XattrPrefix)) {
			continue
		}
		n := string(name)
		v, err := getInto(get, n, &buf)
		if errors.Is(err, unix.ENODATA) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("get xattr %s: %w", n, err)
		}
		attrs = append(attrs, Attr{n, v})
	}
	return attrs, nil
}

// grow calls f with a buffer large enough for its answer.
func grow(f func([]byte) (int, error), size int) ([]byte, error) {
	buf := make([]byte, size)
	n, err := fill(&buf, f)
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf[:n], "\x00"), nil
}

func getInto(get func(string, []byte) (int, error), name string, buf *[]byte) (string, error) {
	n, err := fill(buf, func(b []byte) (int, error) { return get(name, b) })
	if err != nil {
		return "", err
	}
	return string((*buf)[:n]), nil
}

// fill calls f, a system call listing or getting attributes, with *buf
// (not empty), replaced by a larger one until the answer fits, and returns
// the length of the answer.
func fill(buf *[]byte, f func([]byte) (int, error)) (int, error) {
	for {
		n, err := f(*buf)
		if !errors.Is(err, unix.ERANGE) {
			return n, err
		}
		if n, err = f(nil); err != nil { // the size the answer needs now
			return 0, err
		}
		*buf = make([]byte, n+256)
	}
}

// SetAttrs writes attrs on the file at path, in order, without following a
// final symlink and without opening the file.
func SetAttrs(path string, attrs []Attr) error {
	for _, a := range attrs {
		if err := unix.Lsetxattr(path, a.Name, []byte(a.Value), 0); err != nil {
			return fmt.Errorf("set xattr %s on %s: %w", a.Name, path, err)
		}
	}
	return nil
}

// ReplaceAttrs is SetAttrs for an update that must apply whole: when one
// attribute cannot be written, those written before it get back their
// earlier values, or are removed if they had none, before the error is
// returned. A process that dies in between can still leave a part written.
func ReplaceAttrs(path string, attrs []Attr) error {
	earlier := make([]*string, 0, len(attrs)) // nil: the attribute was absent
	buf := make([]byte, 256)
	for _, a := range attrs {
		n, err := fill(&buf, func(b []byte) (int, error) { return unix.Lgetxattr(path, a.Name, b) })
		switch {
		case err == nil:
			v := string(buf[:n])
			earlier = append(earlier, &v)
		case errors.Is(err, unix.ENODATA):
			earlier = append(earlier, nil)
		default:
			restore(path, attrs, earlier)
			return fmt.Errorf("get xattr %s of %s: %w", a.Name, path, err)
		}
		if err := unix.Lsetxattr(path, a.Name, []byte(a.Value), 0); err != nil {
			restore(path, attrs, earlier[:len(earlier)-1])
			return fmt.Errorf("set xattr %s on %s: %w", a.Name, path, err)
		}
	}
	return nil
}

// restore gives attrs[i] back its earlier value for each i of earlier, the
// last first.
func restore(path string, attrs []Attr, earlier []*string) {
	for i := len(earlier) - 1; i >= 0; i-- {
		if earlier[i] == nil {
			unix.Lremovexattr(path, attrs[i].Name)
		} else {
			unix.Lsetxattr(path, attrs[i].Name, []byte(*earlier[i]), 0)
		}
	}
}

// AttrsDoNotFit reports whether err, from writing an extended attribute
// of a file on the filesystem of path, says that the attributes of the file
// do not fit rather than that the filesystem is full. Both are ENOSPC:
// ext4 keeps all the attributes of a file in one block, and refuses one
// that would overflow it while it has room for data. A filesystem with
// less than 1 MiB free is taken to be full.
func AttrsDoNotFit(path string, err error) bool {
	if !errors.Is(err, unix.ENOSPC) {
		return false
	}
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Bavail*uint64(st.Bsize) >= 1<<20
}

// RemoveAttr removes one attribute from the file at path. A missing
// attribute is not an error.
func RemoveAttr(path, name string) error {
	err := unix.Lremovexattr(path, name)
	if err != nil && !errors.Is(err, unix.ENODATA) {
		return fmt.Errorf("remove xattr %s from %s: %w", name, path, err)
	}
	return nil
}

// ReadFile reads and parses the metadata of the chunk file at path, whose
// base name is its id. The returned Meta is non-nil whenever the attributes
// could be read, even if parsing found them corrupt.
func ReadFile(path string) (*Meta, error) {
	_, m, err := readFile(path)
	return m, err
}

// readFile is ReadFile, also returning the attributes read.
func readFile(path string) ([]Attr, *Meta, error) {
	id := filepath.Base(path)
	if _, err := NormalizeID(id); err != nil {
		return nil, nil, fmt.Errorf("read chunk %s: %w", path, err)
	}
	attrs, err := ReadAttrs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read chunk %s: %w", path, err)
	}
	m, err := Parse(strings.ToUpper(id), attrs)
	return attrs, m, err
}
