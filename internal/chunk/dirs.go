package chunk

import (
	"fmt"
	"path/filepath"
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
	notChecked    = -2 // below a directory of a volume that is no chunk directory
)

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

// dirLevel returns the level of the directory at path, whose parent
// directory has level parent, and why it cannot be a chunk directory, or
// "" when it can be one or is not checked.
func (l Layout) dirLevel(path string, parent int) (int, string) {
	switch {
	case parent == notChecked:
		return notChecked, ""
	case parent == outsideVolume && isVolumeRoot(path):
		return 0, ""
	case parent == outsideVolume:
		return outsideVolume, ""
	case parent == 0 && rootDirs[filepath.Base(path)]:
		return notChecked, ""
	}
	if why := l.strayDir(parent+1, filepath.Base(path)); why != "" {
		return notChecked, why
	}
	return parent + 1, ""
}

// rootLevel is dirLevel for the root of a walk, which may be a volume, a
// directory inside one, or neither.
func (l Layout) rootLevel(root string) (int, string) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return outsideVolume, ""
	}
	var below []string // from root up to the volume, root first
	for p := abs; !isVolumeRoot(p); p = filepath.Dir(p) {
		if p == filepath.Dir(p) {
			return outsideVolume, ""
		}
		below = append(below, p)
	}
	level, why := 0, ""
	for i := len(below) - 1; i >= 0; i-- {
		level, why = l.dirLevel(below[i], level)
	}
	return level, why
}

// isVolumeRoot reports whether dir declares a volume identity.
func isVolumeRoot(dir string) bool {
	v, err := ReadVolume(dir)
	return err == nil && v.Type != ""
}
