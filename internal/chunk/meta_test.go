package chunk

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testID = "E4A162690EC1B2482B82C4531A74B0A26E5BA8BBEFAFC6F07BEF0EF898227882"

func currentAttrs() []Attr {
	return []Attr{
		{AttrFullpathPrefix + testID, "acct1/ctr1/obj1/1712000000000000/A1B2C3D4E5F60718293A4B5C6D7E8F90"},
		{AttrPosition, "0"},
		{AttrSize, "4096"},
		{AttrHash, "A8064D8476BE0BB2C7BE8261BDD48C4BE098B9100B773BE00AFA72F897052CE9"},
		{AttrChunkMethod, "plain/cca=blake3,nb_copy=3"},
		{AttrStoragePolicy, "THREECOPIES"},
	}
}

func TestParseCurrent(t *testing.T) {
	attrs := append(currentAttrs(),
		Attr{AttrExtPrefix + "Color", "blue"},
		Attr{AttrFullpathPrefix + "e4a162690ec1b2482b82c4531a74b0a26e5ba8bbefafc6f07bef0ef898227883",
			"acct1/ctr1/copy/1/AB"},
		Attr{AttrOioVersion, "4.2"},
		Attr{"user.something.else", "x"})
	m, err := Parse(testID, attrs)
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsCurrent() {
		t.Error("IsCurrent() = false for a current-format chunk")
	}
	want := Fullpath{"acct1", "ctr1", "obj1", 1712000000000000, "A1B2C3D4E5F60718293A4B5C6D7E8F90"}
	if m.Fullpath != want || m.Position != "0" || m.Size != 4096 || !m.HasSize ||
		m.StoragePolicy != "THREECOPIES" || m.OioVersion != "4.2" {
		t.Errorf("parsed %+v", m)
	}
	if diff := cmp.Diff(map[string]string{"Color": "blue"}, m.Extra); diff != "" {
		t.Errorf("Extra (-want +got):\n%s", diff)
	}
	wantLinks := map[string]string{
		"E4A162690EC1B2482B82C4531A74B0A26E5BA8BBEFAFC6F07BEF0EF898227883": "acct1/ctr1/copy/1/AB"}
	if diff := cmp.Diff(wantLinks, m.Links); diff != "" {
		t.Errorf("Links (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Attr{{"user.something.else", "x"}}, m.Other); diff != "" {
		t.Errorf("Other (-want +got):\n%s", diff)
	}
	// Attrs gives back the current-format keys, extra properties last.
	wantAttrs := append(currentAttrs(), Attr{AttrExtPrefix + "Color", "blue"})
	if diff := cmp.Diff(wantAttrs, m.Attrs()); diff != "" {
		t.Errorf("Attrs (-want +got):\n%s", diff)
	}
}

func TestParseLegacy(t *testing.T) {
	old := OldFullpath{"acct1", "ctr1", "obj 1", "1712000000000000"}
	attrs := []Attr{
		{AttrLegacyChunkID, "e4a162690ec1b2482b82c4531a74b0a26e5ba8bbefafc6f07bef0ef898227882"},
		{AttrLegacyContainer, ContainerID("acct1", "ctr1")},
		{AttrLegacyPath, "obj 1"},
		{AttrLegacyVersion, "1712000000000000"},
		{AttrLegacyContentID, "A1B2"},
		{AttrOldFullpathPfx + old.KeyHash(), old.String()},
		{AttrOldFullpathPfx + "acct1/ctr1/obj1/1", ""},
		{AttrPosition, "0"},
		{AttrChunkMethod, "plain/nb_copy=1"},
		{AttrStoragePolicy, "SINGLE"},
		{AttrOioVersion, "4.0"},
	}
	m, err := Parse(testID, attrs)
	if err != nil {
		t.Fatal(err)
	}
	if m.IsCurrent() {
		t.Error("a legacy chunk reads as current")
	}
	want := &Legacy{
		ChunkID:        "e4a162690ec1b2482b82c4531a74b0a26e5ba8bbefafc6f07bef0ef898227882",
		Container:      ContainerID("acct1", "ctr1"),
		Path:           "obj 1",
		Version:        "1712000000000000",
		ContentID:      "A1B2",
		OldFullpaths:   map[string]string{AttrOldFullpathPfx + old.KeyHash(): old.String()},
		NamedFullpaths: []string{"acct1/ctr1/obj1/1"},
	}
	if diff := cmp.Diff(want, m.Legacy); diff != "" {
		t.Errorf("Legacy (-want +got):\n%s", diff)
	}
	if m.ContainerID() != ContainerID("acct1", "ctr1") {
		t.Errorf("ContainerID() = %s", m.ContainerID())
	}
}

func TestParseCorrupt(t *testing.T) {
	drop := func(name string) []Attr {
		var out []Attr
		for _, a := range currentAttrs() {
			if a.Name != name {
				out = append(out, a)
			}
		}
		return out
	}
	set := func(name, v string) []Attr {
		out := currentAttrs()
		for i := range out {
			if out[i].Name == name {
				out[i].Value = v
			}
		}
		return out
	}
	tests := map[string][]Attr{
		"no fullpath":      drop(AttrFullpathPrefix + testID),
		"no position":      drop(AttrPosition),
		"no chunk method":  drop(AttrChunkMethod),
		"no policy":        drop(AttrStoragePolicy),
		"bad size":         set(AttrSize, "12x"),
		"negative size":    set(AttrSize, "-1"),
		"size with a zero": set(AttrSize, "04096"),
		"size with a sign": set(AttrSize, "+4096"),
		"metachunk size":   append(currentAttrs(), Attr{AttrMetachunkSize, "007"}),
		"bad hash":         set(AttrHash, "XYZ"),
		"bad position":     set(AttrPosition, "1.x"),
		"bad method":       set(AttrChunkMethod, "plain/nb_copy"),
		"bad fullpath":     set(AttrFullpathPrefix+testID, "a/b/c"),
	}
	for name, attrs := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := Parse(testID, attrs)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Parse error = %v, want ErrCorrupt", err)
			}
			if m == nil {
				t.Fatal("Parse returned no metadata with a corrupt chunk")
			}
		})
	}
	if _, err := Parse("../etc/passwd", currentAttrs()); !errors.Is(err, ErrInvalidID) {
		t.Errorf("Parse accepted a bad id: %v", err)
	}
}

// TestParseKeepsBadHashAsStored: a hash is uppercased only when it is
// hexadecimal; any other value is shown as stored.
func TestParseKeepsBadHashAsStored(t *testing.T) {
	attrs := append(currentAttrs(), Attr{AttrMetachunkHash, "ab"})
	attrs[3].Value = "a8064d84zz"
	m, _ := Parse(testID, attrs)
	if m.Hash != "a8064d84zz" || m.MetachunkHash != "AB" {
		t.Errorf("hash %q, metachunk hash %q; want a8064d84zz as stored and AB", m.Hash, m.MetachunkHash)
	}
}

func TestMethod(t *testing.T) {
	tests := []struct {
		in, algo, stored string
	}{
		{"plain/cca=blake3,nb_copy=3", AlgoBlake3, "plain/cca=blake3,nb_copy=3"},
		{"plain/nb_copy=1", AlgoMD5, "plain/nb_copy=1,cca=md5"},
		{"plain/cca=MD5,nb_copy=1", AlgoMD5, "plain/cca=MD5,nb_copy=1"},
		{"plain/cca=sha9", AlgoBlake3, "plain/cca=sha9"},
		{"ec/algo=liberasurecode_rs_vand,cca=blake3,k=6,m=3", AlgoBlake3,
			"ec/algo=liberasurecode_rs_vand,cca=blake3,k=6,m=3"},
		{"plain", AlgoMD5, "plain/cca=md5"},
	}
	for _, tt := range tests {
		m, err := ParseMethod(tt.in)
		if err != nil {
			t.Fatalf("ParseMethod(%q): %v", tt.in, err)
		}
		algo, stored := m.WriteAlgo()
		if algo != tt.algo || stored.String() != tt.stored {
			t.Errorf("WriteAlgo(%q) = %s, %q; want %s, %q", tt.in, algo, stored, tt.algo, tt.stored)
		}
		if m.String() != tt.in {
			t.Errorf("String() = %q, want %q", m.String(), tt.in)
		}
	}
	if m, _ := ParseMethod("ec/k=6,m=3"); !m.IsEC() {
		t.Error("ec method not recognised")
	}
	for _, bad := range []string{"", "/k=v", "plain/k", "plain/=v"} {
		if _, err := ParseMethod(bad); err == nil {
			t.Errorf("ParseMethod(%q) accepted", bad)
		}
	}
	if AlgoForHash("6D908A92FAA71FB05D76361F81852417") != AlgoMD5 ||
		AlgoForHash("A8064D8476BE0BB2C7BE8261BDD48C4BE098B9100B773BE00AFA72F897052CE9") != AlgoBlake3 {
		t.Error("AlgoForHash guessed wrong")
	}
}

func TestIDAndLayout(t *testing.T) {
	id, err := NormalizeID("e4a162690ec1b2482b82c453")
	if err != nil || id != "E4A162690EC1B2482B82C453" {
		t.Fatalf("NormalizeID = %q, %v", id, err)
	}
	for _, bad := range []string{"", "ABC", "../../etc/passwd0000000000000",
		"E4A162690EC1B2482B82C45%2F", "G4A162690EC1B2482B82C453", string(make([]byte, 65))} {
		if _, err := NormalizeID(bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("NormalizeID(%q) = %v", bad, err)
		}
	}
	if got := DefaultLayout.Path(testID); got != "E4A/"+testID {
		t.Errorf("default path %q", got)
	}
	if got := (Layout{Width: 2, Depth: 2}).Path(testID); got != "E4/A1/"+testID {
		t.Errorf("2x2 path %q", got)
	}
	if got := (Layout{}).Path(testID); got != "E4A/"+testID {
		t.Errorf("zero layout path %q", got)
	}
	for l, why := range map[Layout]string{
		{Width: 8, Depth: 3}:       "width times depth must be under 24, the length of the shortest chunk id",
		{Width: 10, Depth: 3}:      "width times depth must be under 24, the length of the shortest chunk id",
		{Width: 1 << 62, Depth: 4}: "width times depth must be under 24, the length of the shortest chunk id",
		{Width: 0, Depth: 1}:       "a width of 0 would give its directories empty names",
		{Width: 3, Depth: -1}:      "neither may be negative",
	} {
		want := fmt.Sprintf("invalid chunk layout: width %d, depth %d: %s", l.Width, l.Depth, why)
		if err := l.Validate(); err == nil || err.Error() != want {
			t.Errorf("%+v: %v, want %q", l, err, want)
		}
	}
	if err := (Layout{Width: 23, Depth: 1}).Validate(); err != nil {
		t.Errorf("a layout leaving one character of the shortest id: %v", err)
	}
	if err := (Layout{Width: 3, Depth: 0}).Validate(); err != nil {
		t.Errorf("a flat volume: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("user.grid.chunk.position", "0", "user.oio.content.fullpath:"+testID, "a/b/c/1/AB")
	f.Add("user.oio:"+testID, "a+b/c/d/None", "user.grid.chunk.size", "-1")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		attrs := append(currentAttrs(), Attr{n1, v1}, Attr{n2, v2})
		m, err := Parse(testID, attrs)
		if m == nil {
			t.Fatalf("Parse returned nil metadata: %v", err)
		}
		if err != nil {
			return
		}
		// What Parse accepts, Attrs writes back and Parse reads the same.
		again, err := Parse(testID, m.Attrs())
		if err != nil {
			t.Fatalf("reparsing %v: %v", m.Attrs(), err)
		}
		if diff := cmp.Diff(m.Attrs(), again.Attrs()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func TestValidPosition(t *testing.T) {
	for p, want := range map[string]bool{
		"0": true, "12": true, "3.0": true, "3.14": true, "2.p1": true,
		"": false, "01": false, "1.01": false, "1.p01": false, "1.": false, ".1": false,
		"1.p": false, "-1": false, "1.2.3": false, "a": false, "1 ": false,
		"999999999": true, "1.999999999": true, "1.p999999999": true,
		"1000000000": false, "1.1000000000": false, "1.p1000000000": false, "99999999999999999999999": false,
	} {
		if got := ValidPosition(p); got != want {
			t.Errorf("ValidPosition(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestCheckNamespace(t *testing.T) {
	for name, ok := range map[string]bool{
		"OPENIO": true, "TEST.vns": true, "gk-test_3": true, "9ns": true,
		"": false, ".": false, "..": false, "-dash": false, "_x": false, ".x": false,
		"a/b": false, "my ns": false, "ñs": false, strings.Repeat("a", 64): false,
	} {
		if err := CheckNamespace(name); (err == nil) != ok {
			t.Errorf("CheckNamespace(%q) = %v, want ok %v", name, err, ok)
		}
	}
	// Only ASCII letters are accepted, and the messages say so.
	for name, want := range map[string]string{
		"ñs": "must start with an ASCII letter or a digit",
		"nä": "only ASCII letters, digits, '.', '-' and '_'",
	} {
		if err := CheckNamespace(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckNamespace(%q) = %v, want an error saying %q", name, err, want)
		}
	}
}

// Usable refuses a chunk without, or with an unparsable, position, chunk
// method or storage policy, whoever owns it.
func TestUsable(t *testing.T) {
	m, err := Parse(testID, currentAttrs())
	if err != nil || m.Usable() != nil {
		t.Fatalf("a sound chunk: %v, %v", err, m.Usable())
	}
	for name, change := range map[string]func(*Meta){
		"no position":       func(m *Meta) { m.Position = "" },
		"bad position":      func(m *Meta) { m.Position = "first" },
		"no chunk method":   func(m *Meta) { m.ChunkMethod = "" },
		"bad chunk method":  func(m *Meta) { m.ChunkMethod = "/nb_copy=1" },
		"no storage policy": func(m *Meta) { m.StoragePolicy = "" },
	} {
		bad := *m
		change(&bad)
		if err := bad.Usable(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}
