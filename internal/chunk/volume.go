package chunk

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Volume identity attributes, set on the volume root directory.
const (
	AttrVolumeNS   = "user.server.ns"
	AttrVolumeType = "user.server.type"
	AttrVolumeID   = "user.server.id"
)

// VolumeType is the service type a chunk volume declares.
const VolumeType = "rawx"

// ErrVolumeMismatch is returned when a volume already belongs to another
// namespace, service type or service id.
var ErrVolumeMismatch = errors.New("volume belongs to another service")

// VolumeIdentity says which service owns a volume. ServiceID is the chunk
// server's service id, or its ip:port when it has none; it is also the
// volume id of the reverse index.
type VolumeIdentity struct {
	Namespace string
	Type      string
	ServiceID string
}

// MaxNamespaceLen is the longest namespace name, as OpenIO bounds it.
const MaxNamespaceLen = 63

// CheckNamespace reports whether name can name a namespace: 1 to 63 ASCII
// letters, digits, dots, dashes and underscores, the first an ASCII letter
// or a digit. The name goes into URL paths and volume attributes
// unescaped: "." and ".." would be taken for path steps, and a leading dash
// for a flag.
func CheckNamespace(name string) error {
	if name == "" || len(name) > MaxNamespaceLen {
		return fmt.Errorf("namespace name %q: want 1 to %d characters", truncate(name, 80), MaxNamespaceLen)
	}
	if !isAlnum(name[0]) {
		return fmt.Errorf("namespace name %q: must start with an ASCII letter or a digit", truncate(name, 80))
	}
	for _, c := range []byte(name) {
		if !isAlnum(c) && c != '.' && c != '-' && c != '_' {
			return fmt.Errorf("namespace name %q: only ASCII letters, digits, '.', '-' and '_'",
				truncate(name, 80))
		}
	}
	return nil
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// ReadVolume returns the identity recorded on the volume at dir. Attributes
// that are absent are left empty.
func ReadVolume(dir string) (VolumeIdentity, error) {
	var v VolumeIdentity
	buf := make([]byte, 1024)
	for _, f := range []struct {
		name string
		dst  *string
	}{{AttrVolumeNS, &v.Namespace}, {AttrVolumeType, &v.Type}, {AttrVolumeID, &v.ServiceID}} {
		n, err := unix.Getxattr(dir, f.name, buf)
		if errors.Is(err, unix.ENODATA) {
			continue
		}
		if err != nil {
			return v, fmt.Errorf("read volume identity of %s: %w", dir, err)
		}
		*f.dst = string(buf[:n])
	}
	return v, nil
}

// CheckVolume returns the identity of a volume that declares all three
// attributes and the type "rawx", as OpenIO's tools require.
func CheckVolume(dir string) (VolumeIdentity, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return VolumeIdentity{}, fmt.Errorf("volume %s: not a directory", dir)
	}
	v, err := ReadVolume(dir)
	if err != nil {
		return v, err
	}
	if v.Namespace == "" || v.Type == "" || v.ServiceID == "" {
		return v, fmt.Errorf("volume %s has no complete identity (namespace %q, type %q, id %q)",
			dir, v.Namespace, v.Type, v.ServiceID)
	}
	if v.Type != VolumeType {
		return v, fmt.Errorf("volume %s: %w: type %q", dir, ErrVolumeMismatch, v.Type)
	}
	return v, nil
}

// LockVolume records want as the identity of the volume at dir. Attributes
// already present must hold the same values: a volume never changes owner.
// It fails with ErrVolumeMismatch, having changed nothing, otherwise.
func LockVolume(dir string, want VolumeIdentity) error {
	have, err := ReadVolume(dir)
	if err != nil {
		return err
	}
	pairs := []struct{ name, have, want string }{
		{AttrVolumeNS, have.Namespace, want.Namespace},
		{AttrVolumeType, have.Type, want.Type},
		{AttrVolumeID, have.ServiceID, want.ServiceID},
	}
	for _, p := range pairs {
		if p.have != "" && p.have != p.want {
			return fmt.Errorf("volume %s: %w: %s is %q, not %q", dir, ErrVolumeMismatch,
				p.name, p.have, p.want)
		}
	}
	for _, p := range pairs {
		if p.have != "" {
			continue
		}
		err := unix.Setxattr(dir, p.name, []byte(p.want), unix.XATTR_CREATE)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("lock volume %s: set %s: %w", dir, p.name, err)
		}
	}
	return nil
}
