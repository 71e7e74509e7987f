package chunk

import (
	"errors"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FdAttrs reads, writes and removes the "user." attributes of open files
// through buffers kept from one call to the next. A tool visiting millions
// of chunks (the converter) would otherwise copy each attribute name to the
// heap for every system call, and allocate each listing and each value on
// its own. An FdAttrs is not safe for concurrent use: give each worker one.
type FdAttrs struct {
	name   []byte // the name of the current call, NUL-terminated
	buf    []byte // the answer of the current call
	values []byte // the values read by Values
	spans  []span // where each value read by Values is in values
}

// span is where the value of names[name] is in FdAttrs.values.
type span struct{ name, start, end int }

// Names returns the names of the "user." attributes of the file open as
// fd. They share one string.
func (a *FdAttrs) Names(fd int) ([]string, error) {
	n, err := a.call(func(b []byte) (int, error) { return unix.Flistxattr(fd, b) })
	if err != nil {
		return nil, err
	}
	all := string(a.buf[:n])
	names := make([]string, 0, strings.Count(all, "\x00"))
	for name := range strings.SplitSeq(strings.TrimRight(all, "\x00"), "\x00") {
		if strings.HasPrefix(name, XattrPrefix) {
			names = append(names, name)
		}
	}
	return names, nil
}

// Values returns the attributes names of the file open as fd, with their
// values, which share one string. A name removed since it was listed is
// left out.
func (a *FdAttrs) Values(fd int, names []string) ([]Attr, error) {
	a.values, a.spans = a.values[:0], a.spans[:0]
	for i, name := range names {
		p := a.cname(name)
		n, err := a.call(func(b []byte) (int, error) { return fgetxattr(fd, p, b) })
		if errors.Is(err, unix.ENODATA) {
			continue
		}
		if err != nil {
			return nil, &AttrError{Name: name, Err: err}
		}
		a.spans = append(a.spans, span{i, len(a.values), len(a.values) + n})
		a.values = append(a.values, a.buf[:n]...)
	}
	all := string(a.values)
	attrs := make([]Attr, len(a.spans))
	for i, s := range a.spans {
		attrs[i] = Attr{Name: names[s.name], Value: all[s.start:s.end]}
	}
	return attrs, nil
}

// Value returns the value of one attribute of the file open as fd, and
// whether it is there.
func (a *FdAttrs) Value(fd int, name string) (string, bool, error) {
	p := a.cname(name)
	n, err := a.call(func(b []byte) (int, error) { return fgetxattr(fd, p, b) })
	switch {
	case errors.Is(err, unix.ENODATA):
		return "", false, nil
	case err != nil:
		return "", false, &AttrError{Name: name, Err: err}
	}
	return string(a.buf[:n]), true, nil
}

// Set writes attrs on the file open as fd, in order.
func (a *FdAttrs) Set(fd int, attrs []Attr) error {
	for _, at := range attrs {
		v := unsafe.StringData(at.Value) // not written to: the kernel copies it
		name := a.cname(at.Name)
		_, _, errno := unix.Syscall6(unix.SYS_FSETXATTR, uintptr(fd), uintptr(unsafe.Pointer(name)),
			uintptr(unsafe.Pointer(v)), uintptr(len(at.Value)), 0, 0)
		if errno != 0 {
			return &AttrError{Name: at.Name, Err: errno}
		}
	}
	return nil
}

// Remove removes one attribute from the file open as fd. A missing
// attribute is not an error.
func (a *FdAttrs) Remove(fd int, name string) error {
	_, _, errno := unix.Syscall(unix.SYS_FREMOVEXATTR, uintptr(fd), uintptr(unsafe.Pointer(a.cname(name))), 0)
	if errno != 0 && errno != unix.ENODATA {
		return &AttrError{Name: name, Err: errno}
	}
	return nil
}

// AttrError is the failure of a system call on one attribute.
type AttrError struct {
	Name string
	Err  error
}

func (e *AttrError) Error() string { return "xattr " + e.Name + ": " + e.Err.Error() }
func (e *AttrError) Unwrap() error { return e.Err }

// cname returns name NUL-terminated, in the FdAttrs's name buffer.
func (a *FdAttrs) cname(name string) *byte {
	a.name = append(append(a.name[:0], name...), 0)
	return &a.name[0]
}

// call calls f with the answer buffer (see fill).
func (a *FdAttrs) call(f func([]byte) (int, error)) (int, error) {
	if len(a.buf) == 0 {
		a.buf = make([]byte, 1024)
	}
	return fill(&a.buf, f)
}

// fgetxattr is unix.Fgetxattr for a name already NUL-terminated.
func fgetxattr(fd int, name *byte, dest []byte) (int, error) {
	var p unsafe.Pointer
	if len(dest) > 0 {
		p = unsafe.Pointer(&dest[0])
	}
	n, _, errno := unix.Syscall6(unix.SYS_FGETXATTR, uintptr(fd), uintptr(unsafe.Pointer(name)), uintptr(p),
		uintptr(len(dest)), 0, 0)
	if errno != 0 {
		return int(n), errno
	}
	return int(n), nil
}
