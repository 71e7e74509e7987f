package chunk

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// rootDirs are the directories the root of a volume may hold besides its
// chunk directories: OpenIO's chunk server keeps links to misplaced and to
// orphan chunks in the first two, and a volume that is the root of its
// filesystem has the last.
var rootDirs = map[string]bool{"non_optimal_placement": true, "orphans": true, "lost+found": true}

// Levels of a directory that is not a known number of levels below the
// root of a volume.
const (
	outsideVolume = -1 // in no volume: the root of one may be below it
	notChecked    = -2 // in a directory the root of a volume may hold besides chunk directories
)

// place is where a directory is in a volume.
type place struct {
	level int  // levels below the root of the volume (0 for the root), or outsideVolume or notChecked
	stray bool // it, or a directory above it in the volume, cannot be a chunk directory
}

// strayDir returns why a directory named name, level levels below the root
// of a volume of layout l (1 for the first level of chunk directories),
// cannot be a chunk directory, or "" when it can be one.
func (l Layout) strayDir(level int, name string) string {
	l = l.normalized()
	switch {
	case level > l.Depth && l.Depth == 0:
		return "a flat volume (hash depth 0) has no chunk directories"
	case level > l.Depth:
		return fmt.Sprintf("below the last level of chunk directories (hash depth %d)", l.Depth)
	case len(name) != l.Width || !IsUpperHex(name):
		return fmt.Sprintf("its name is not %d uppercase hexadecimal digits (hash width %d)", l.Width,
			l.Width)
	}
	return ""
}

// dirPlace returns the place of the directory at path, whose parent
// directory is at parent, and why it cannot be a chunk directory, or ""
// when it can be one or is not checked. The directories below one that
// cannot be are not checked, but keep their place in the volume.
func (l Layout) dirPlace(path string, parent place) (place, string) {
	switch {
	case parent.level == notChecked:
		return parent, ""
	case parent.level == outsideVolume && isVolumeRoot(path):
		return place{}, ""
	case parent.level == outsideVolume:
		return parent, ""
	case parent.level == 0 && rootDirs[filepath.Base(path)]:
		return place{level: notChecked}, ""
	case parent.stray:
		return place{parent.level + 1, true}, ""
	}
	if why := l.strayDir(parent.level+1, filepath.Base(path)); why != "" {
		return place{parent.level + 1, true}, why
	}
	return place{level: parent.level + 1}, ""
}

// rootPlace is dirPlace for the root of a walk, which may be a volume, a
// directory inside one, or neither.
func (l Layout) rootPlace(root string) (place, string) {
	abs, err := filepath.Abs(root)
	vol := volumeRootOf(abs)
	if err != nil || vol == "" {
		return place{level: outsideVolume}, ""
	}
	var below []string // from root up to the volume, root first
	for p := abs; p != vol; p = filepath.Dir(p) {
		below = append(below, p)
	}
	var at place
	var why string
	for i := len(below) - 1; i >= 0; i-- {
		at, why = l.dirPlace(below[i], at)
	}
	return at, why
}

// isVolumeRoot reports whether dir declares a volume identity.
func isVolumeRoot(dir string) bool {
	v, err := ReadVolume(dir)
	return err == nil && v.Type != ""
}

// BrokenLinks lists the links of the chunk file at path, whose attributes
// m holds, that its volume does not back: a link is the fullpath key of
// another chunk id on the file's inode, and the volume must have a file
// for that id, where a chunk server of layout l looks for it, which is the
// same inode. A file in no volume has its links left unchecked.
func (l Layout) BrokenLinks(path string, m *Meta) []string {
	if m == nil || len(m.Links) == 0 {
		return nil
	}
	root := volumeRootOf(filepath.Dir(path))
	self, err := os.Lstat(path)
	if root == "" || err != nil {
		return nil
	}
	var broken []string
	for _, id := range slices.Sorted(maps.Keys(m.Links)) {
		rel := l.Path(id)
		switch fi, err := os.Lstat(filepath.Join(root, rel)); {
		case errors.Is(err, fs.ErrNotExist):
			broken = append(broken, fmt.Sprintf("link %s: no chunk file %s in the volume", id, rel))
		case err != nil:
			broken = append(broken, fmt.Sprintf("link %s: %v", id, err))
		case !os.SameFile(fi, self):
			broken = append(broken, fmt.Sprintf("link %s: the volume's %s is another file, not a hard "+
				"link of this one", id, rel))
		}
	}
	return broken
}

// volumeRootOf returns the volume that dir is in, or "" if none.
func volumeRootOf(dir string) string {
	p, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for ; !isVolumeRoot(p); p = filepath.Dir(p) {
		if p == filepath.Dir(p) {
			return ""
		}
	}
	return p
}
