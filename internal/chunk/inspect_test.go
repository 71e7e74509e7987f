package chunk

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zeebo/blake3"
)

// writeChunk creates a chunk file named id with data and attrs.
func writeChunk(t *testing.T, dir, id string, data []byte, attrs []Attr) string {
	t.Helper()
	path := filepath.Join(dir, DefaultLayout.Path(id))
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SetAttrs(path, attrs); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 4096)
	sum := blake3.Sum256(data)
	current := currentAttrs()
	current[3].Value = strings.ToUpper(hex.EncodeToString(sum[:]))
	legacySum := md5.Sum(data) // legacy chunks carry an MD5 hash
	old := OldFullpath{"acct1", "ctr1", "obj1", "1712000000000000"}
	legacyBase := []Attr{
		{AttrLegacyChunkID, testID}, {AttrLegacyContainer, ContainerID("acct1", "ctr1")},
		{AttrLegacyPath, "obj1"}, {AttrLegacyVersion, "1712000000000000"},
		{AttrLegacyContentID, "A1B2"}, {AttrPosition, "0"}, {AttrSize, "4096"},
		{AttrChunkMethod, "plain/nb_copy=3"}, {AttrStoragePolicy, "THREECOPIES"},
		{AttrHash, hex.EncodeToString(legacySum[:])},
	}
	const pathOrID = AttrLegacyPath + " or " + AttrLegacyContentID
	tests := []struct {
		name     string
		attrs    []Attr
		data     []byte
		format   Format
		problems []string // substrings, one per expected problem
	}{
		{"current", current, data, FormatCurrent, nil},
		{"wrong size", replace(current, AttrSize, "10"), data, FormatCurrent,
			[]string{"differs from the file size"}},
		{"negative size", replace(current, AttrSize, "-1"), data, FormatCurrent,
			[]string{`size "-1" is not`}},
		{"ec with a bad metachunk size", append(replace(current, AttrChunkMethod, "ec/cca=blake3,k=6,m=3"),
			Attr{AttrMetachunkSize, "many"}, Attr{AttrMetachunkHash, "AB"}), data, FormatCurrent,
			[]string{`metachunk size "many" is not`}},
		{"hash not hexadecimal", replace(current, AttrHash, "a8064d84zz"), data, FormatCurrent,
			[]string{`hash "a8064d84zz" is not hexadecimal`}},
		{"size with leading zeros", replace(current, AttrSize, "04096"), data, FormatCurrent,
			[]string{`size "04096" is not a number in decimal digits without leading zeros`}},
		{"position with leading zeros", replace(current, AttrPosition, "00"), data, FormatCurrent,
			[]string{`position "00" is not`}},
		{"position of ten digits", replace(current, AttrPosition, "1000000000"), data, FormatCurrent,
			[]string{`position "1000000000" is not N, N.M or N.pM, numbers of at most 9 digits`}},
		{"empty position", replace(current, AttrPosition, ""), data, FormatCurrent,
			[]string{`position "" is not`}},
		{"flipped byte", current, append([]byte{1}, data[1:]...), FormatCurrent,
			[]string{"data hashes to"}},
		{"trailing bytes", current, append(append([]byte(nil), data...), "more"...), FormatCurrent,
			[]string{"4 bytes after the data"}},
		{"one trailing byte", current, append(append([]byte(nil), data...), '!'), FormatCurrent,
			[]string{": 1 byte after the data"}},
		{"truncated", current, data[:4000], FormatCurrent,
			[]string{"a truncated file", "data hashes to"}},
		{"no fullpath", current[1:], data, FormatUnknown, []string{"missing fullpath"}},
		{"empty fullpath", replace(current, current[0].Name, ""), data, FormatUnknown,
			[]string{"invalid fullpath: 1 fields"}},
		{"invalid fullpath", replace(current, current[0].Name, "garbage"), data, FormatCurrent,
			[]string{"invalid fullpath: 1 fields"}},
		{"no hash", append(current[:3:3], current[4:]...), data, FormatCurrent,
			[]string{"missing hash attribute"}},
		{"no size", append(current[:2:2], current[3:]...), data, FormatCurrent,
			[]string{"missing size attribute"}},
		{"legacy", legacyBase, data, FormatLegacy, nil},
		{"legacy named", append(legacyBase, Attr{AttrOldFullpathPfx + "acct1/ctr1/obj1/1", ""}),
			data, FormatLegacyNamed, nil},
		{"legacy hashed", append(legacyBase, Attr{AttrOldFullpathPfx + old.KeyHash(), old.String()}),
			data, FormatLegacyHash, nil},
		{"legacy hash mismatch", append(legacyBase, Attr{AttrOldFullpathPfx + testID, old.String()}),
			data, FormatLegacyHash, []string{"not the hash of its old fullpath"}},
		{"legacy link", replace(legacyBase, AttrLegacyChunkID, strings.Replace(testID, "E4A", "E4B", 1)),
			data, FormatLegacy, []string{"differs from the file name"}},
		{"legacy id in lowercase", replace(legacyBase, AttrLegacyChunkID, strings.ToLower(testID)),
			data, FormatLegacy, nil},
		{"legacy version not a number", replace(legacyBase, AttrLegacyVersion, "abc"), data, FormatLegacy,
			[]string{`grid.content.version "abc" is not a positive number`}},
		{"legacy without owner", append(legacyBase[0:1:1], legacyBase[5:]...), data, FormatLegacy,
			[]string{"lacks: " + AttrLegacyContainer + "; " + pathOrID}},
		{"legacy without path nor content id", append(append(legacyBase[0:2:2], legacyBase[3]),
			legacyBase[5:]...), data, FormatLegacy, []string{"lacks: " + pathOrID}},
		{"mixed", append(current, legacyBase[0]), data, FormatMixed, nil},
		{"ec without metachunk", replace(current, AttrChunkMethod, "ec/cca=blake3,k=6,m=3"), data,
			FormatCurrent, []string{"without metachunk"}},
		{"md5 method with blake3 hash", replace(current, AttrChunkMethod, "plain/cca=md5"), data,
			FormatCurrent, []string{"does not fit checksum algorithm"}},
		{"hash of no checksum's length", replace(current, AttrHash, "00"), data, FormatCurrent,
			[]string{"hash 00 has 2 hexadecimal digits: an MD5 has 32, a BLAKE3 64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			path := writeChunk(t, sub, testID, tt.data, tt.attrs)
			in := Inspect(path, true)
			if in.Format != tt.format {
				t.Errorf("format %s, want %s", in.Format, tt.format)
			}
			if strings.Contains(tt.name, "fullpath") && in.Meta != nil && in.Meta.ContainerID() != "" {
				t.Errorf("container id %s from no valid fullpath", in.Meta.ContainerID())
			}
			if len(in.Problems) != len(tt.problems) {
				t.Fatalf("problems %q, want %d like %q", in.Problems, len(tt.problems), tt.problems)
			}
			for i, p := range tt.problems {
				if !strings.Contains(in.Problems[i], p) {
					t.Errorf("problem %q does not say %q", in.Problems[i], p)
				}
			}
		})
	}
	var walked int
	WalkChunks(dir, func(string) error { walked++; return nil })
	if walked != len(tests) {
		t.Errorf("WalkChunks found %d chunks, want %d", walked, len(tests))
	}
}

func replace(attrs []Attr, name, v string) []Attr {
	out := append([]Attr(nil), attrs...)
	for i := range out {
		if out[i].Name == name {
			out[i].Value = v
		}
	}
	return out
}

// A chunk file named by its id not in uppercase is a problem: a chunk
// server looks for the uppercase name only.
func TestInspectNameNotUppercase(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{strings.ToLower(testID), "e4A" + testID[3:]} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, make([]byte, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := SetAttrs(path, currentAttrs()); err != nil {
			t.Skipf("no user extended attributes here: %v", err)
		}
		in := Inspect(path, false)
		want := "not named in uppercase: a chunk server names chunks in uppercase and looks for this one as " +
			testID
		if len(in.Problems) != 1 || in.Problems[0] != want {
			t.Errorf("problems of a chunk named %s: %q, want %q", name, in.Problems, want)
		}
		if in.Meta == nil || in.Meta.ChunkID != testID {
			t.Errorf("metadata of a chunk named %s: %+v, want chunk id %s", name, in.Meta, testID)
		}
	}
}
