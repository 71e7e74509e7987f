package chunk

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// walkVolume makes a volume of n chunk files spread over directories, with
// other files beside them, and returns the chunk paths and that of a file
// named by a chunk id in lowercase, which a walk hands out too.
func walkVolume(t *testing.T, n int) (string, []string) {
	t.Helper()
	root := t.TempDir()
	var paths []string
	for i := range n {
		id := strings.Repeat("0", 60) + strings.ToUpper(hexDigits(uint16(i*7919)))
		p := filepath.Join(root, id[60:61], id)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, junk := range []string{"notes.txt", "0/" + strings.Repeat("A", 64) + ".pending"} {
		if err := os.WriteFile(filepath.Join(root, junk), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(paths[0], filepath.Join(root, "0", strings.Repeat("B", 64))); err != nil {
		t.Fatal(err)
	}
	lower := filepath.Join(root, "0", strings.Repeat("c", 64))
	if err := os.WriteFile(lower, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, append(paths, lower)
}

func hexDigits(v uint16) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func TestWalkByInode(t *testing.T) {
	root, paths := walkVolume(t, 300)
	for _, window := range []int{1, 7, 100, 1000} {
		var got []File
		err := WalkByInode(root, window, nil, func(f File) error { got = append(got, f); return nil })
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for i, f := range got {
			names = append(names, f.Path)
			if f.Ino != inodeOf(t, f.Path) {
				t.Fatalf("window %d: %s has inode %d, walk says %d", window, f.Path,
					inodeOf(t, f.Path), f.Ino)
			}
			// Within a window, inodes ascend.
			if i%window != 0 && got[i-1].Ino > f.Ino {
				t.Errorf("window %d: file %d (inode %d) after inode %d", window, i, f.Ino,
					got[i-1].Ino)
			}
		}
		slices.Sort(names)
		want := slices.Clone(paths)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Fatalf("window %d: walked %d files, want the %d chunk ids and nothing else", window,
				len(names), len(want))
		}
	}
	// A window larger than the volume orders it whole.
	var inos []uint64
	WalkByInode(root, 1<<20, nil, func(f File) error { inos = append(inos, f.Ino); return nil })
	if !slices.IsSorted(inos) || len(inos) != len(paths) {
		t.Errorf("one window: %d inodes, sorted %v", len(inos), slices.IsSorted(inos))
	}
}

func TestWalkByInodeStops(t *testing.T) {
	root, _ := walkVolume(t, 100)
	stop := errors.New("enough")
	for _, window := range []int{1, 10, 1000} {
		var n int
		err := WalkByInode(root, window, nil, func(File) error {
			if n++; n == 15 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 15 {
			t.Errorf("window %d: err %v after %d files, want %v after 15", window, err, n, stop)
		}
	}
}

func TestWalkByInodeMissingRoot(t *testing.T) {
	err := WalkByInode(filepath.Join(t.TempDir(), "gone"), 10, nil, func(File) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err %v, want not exist", err)
	}
}

func TestParseDirentRejectsBadRecords(t *testing.T) {
	for _, b := range [][]byte{
		make([]byte, 10), // shorter than a header
		append(make([]byte, 16), 0xff, 0x00, 8, 'x', 0), // length past the buffer
		append(make([]byte, 16), 19, 0, 8),              // length with no room for a name
	} {
		if _, _, err := parseDirent(b); err == nil {
			t.Errorf("record %v accepted", b)
		}
	}
}

// TestWalkByInodeSkips: a subdirectory that cannot be read is handed to
// skip and the rest is walked; without skip it ends the walk.
func TestWalkByInodeSkips(t *testing.T) {
	root, paths := walkVolume(t, 100)
	locked := filepath.Dir(paths[0])
	failing := func(path string, buf []byte) ([]dirent, error) {
		if path == locked {
			return nil, &os.PathError{Op: "open", Path: path, Err: syscall.EACCES}
		}
		return readDirents(path, buf)
	}
	var skipped []string
	var walked int
	err := walkByInode(root, 10, func(dir string, err error) { skipped = append(skipped, dir) },
		func(File) error { walked++; return nil }, failing)
	var inLocked int
	for _, p := range paths {
		if filepath.Dir(p) == locked {
			inLocked++
		}
	}
	if err != nil || !slices.Equal(skipped, []string{locked}) || walked != len(paths)-inLocked {
		t.Errorf("err %v, skipped %v, walked %d of %d", err, skipped, walked, len(paths)-inLocked)
	}
	err = walkByInode(root, 10, nil, func(File) error { return nil }, failing)
	if !errors.Is(err, os.ErrPermission) {
		t.Errorf("without skip: %v, want permission denied", err)
	}
}

// TestWalkByInodeSymlinks: symbolic links named like a chunk or a chunk
// directory are handed to skip, not followed; other links are ignored.
func TestWalkByInodeSymlinks(t *testing.T) {
	root, paths := walkVolume(t, 20)
	outside := t.TempDir()
	target := filepath.Join(outside, filepath.Base(paths[0]))
	if err := os.Rename(paths[0], target); err != nil {
		t.Fatal(err)
	}
	// walkVolume made the first link.
	links := []string{filepath.Join(root, "0", strings.Repeat("B", 64)), paths[0],
		filepath.Join(root, "FFF")}
	if err := os.Symlink(target, links[1]); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, links[2]); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "not-hex")); err != nil {
		t.Fatal(err)
	}
	var skipped []string
	var walked int
	err := WalkByInode(root, 10, func(p string, err error) {
		if errors.Is(err, ErrSymlink) {
			skipped = append(skipped, p)
		}
	}, func(File) error { walked++; return nil })
	slices.Sort(skipped)
	slices.Sort(links)
	if err != nil || !slices.Equal(skipped, links) || walked != len(paths)-1 {
		t.Errorf("err %v, links skipped %v, want %v; walked %d of %d", err, skipped, links, walked,
			len(paths)-1)
	}
}
