package chunk

import (
	"errors"
	"strings"
	"testing"
)

func TestQuoteMatchesPython(t *testing.T) {
	// Expected values are what Python 3.7+ urllib.parse.quote(s, safe="")
	// and quote_plus(s, safe="") return.
	tests := []struct {
		name, in, quote, plus string
	}{
		{"plain", "obj1", "obj1", "obj1"},
		{"unreserved", "aZ09_.-~", "aZ09_.-~", "aZ09_.-~"},
		{"slash and space", "dir/empty é.txt", "dir%2Fempty%20%C3%A9.txt", "dir%2Fempty+%C3%A9.txt"},
		{"go path-safe chars", "$&+:=@", "%24%26%2B%3A%3D%40", "%24%26%2B%3A%3D%40"},
		{"percent", "100%", "100%25", "100%25"},
		{"control bytes", "\x00\x1f\x7f\xff", "%00%1F%7F%FF", "%00%1F%7F%FF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quote(tt.in); got != tt.quote {
				t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.quote)
			}
			if got := QuotePlus(tt.in); got != tt.plus {
				t.Errorf("QuotePlus(%q) = %q, want %q", tt.in, got, tt.plus)
			}
			if got, err := Unquote(tt.quote); err != nil || got != tt.in {
				t.Errorf("Unquote(%q) = %q, %v", tt.quote, got, err)
			}
			if got, err := UnquotePlus(tt.plus); err != nil || got != tt.in {
				t.Errorf("UnquotePlus(%q) = %q, %v", tt.plus, got, err)
			}
		})
	}
}

func TestUnquoteKeepsPlusAndRejectsBadEscapes(t *testing.T) {
	if got, _ := Unquote("a+b%2b"); got != "a+b+" {
		t.Errorf("Unquote kept %q, want a+b+", got)
	}
	if got, _ := Unquote("%7e%7E"); got != "~~" {
		t.Errorf("lowercase escapes: got %q", got)
	}
	for _, bad := range []string{"%", "%4", "%zz", "a%G1"} {
		if _, err := Unquote(bad); err == nil {
			t.Errorf("Unquote(%q) accepted a malformed escape", bad)
		}
	}
}

func TestFullpath(t *testing.T) {
	f := Fullpath{Account: "acct1", Container: "ctr1", Path: "dir/empty é.txt",
		Version: 1712000000000000, ContentID: "00112233445566778899aabbccddeeff"}
	const want = "acct1/ctr1/dir%2Fempty%20%C3%A9.txt/1712000000000000/00112233445566778899AABBCCDDEEFF"
	if got := f.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	back, err := ParseFullpath(want)
	if err != nil {
		t.Fatal(err)
	}
	f.ContentID = strings.ToUpper(f.ContentID)
	if back != f {
		t.Errorf("ParseFullpath = %+v, want %+v", back, f)
	}
	if cid := f.ContainerID(); cid != "2886FD946717E2413226873197D9BE46259AEC71BC3629A7FDE50E7FA6FBE315" {
		t.Errorf("ContainerID = %s", cid)
	}
}

func TestParseFullpathRejects(t *testing.T) {
	for name, s := range map[string]string{
		"four fields":      "a/c/p/1",
		"six fields":       "a/c/p/1/AB/x",
		"empty account":    "/c/p/1/AB",
		"empty container":  "a//p/1/AB",
		"empty path":       "a/c//1/AB",
		"bad version":      "a/c/p/x1/AB",
		"negative version": "a/c/p/-5/AB",
		"bad content id":   "a/c/p/1/XYZ",
		"long content id":  "a/c/p/1/" + strings.Repeat("A", 65),
		"bad escape":       "a/c/p%zz/1/AB",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseFullpath(s); !errors.Is(err, ErrInvalidFullpath) {
				t.Errorf("ParseFullpath(%q) error = %v, want ErrInvalidFullpath", s, err)
			}
		})
	}
}

func TestOldFullpath(t *testing.T) {
	f := OldFullpath{Account: "my account", Container: "c/1", Path: "a+b c", Version: "None"}
	const want = "my+account/c%2F1/a%2Bb+c/None"
	if got := f.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	back, err := ParseOldFullpath(want)
	if err != nil || back != f {
		t.Fatalf("ParseOldFullpath = %+v, %v", back, err)
	}
	if len(f.KeyHash()) != 64 || strings.ToUpper(f.KeyHash()) != f.KeyHash() {
		t.Errorf("KeyHash %q is not 64 uppercase hex digits", f.KeyHash())
	}
	if _, err := ParseOldFullpath("a/c/p/1/AB"); err == nil {
		t.Error("a five-field fullpath was accepted as an old fullpath")
	}
}

func TestContainerID(t *testing.T) {
	// sha256(b"acct1\x00ctr1"), uppercase.
	const want = "2886FD946717E2413226873197D9BE46259AEC71BC3629A7FDE50E7FA6FBE315"
	if got := ContainerID("acct1", "ctr1"); got != want {
		t.Errorf("ContainerID = %s, want %s", got, want)
	}
	if ContainerID("acct", "1ctr1") == ContainerID("acct1", "ctr1") {
		t.Error("the NUL separator is missing")
	}
}

func FuzzFullpathRoundTrip(f *testing.F) {
	f.Add("acct1", "ctr1", "dir/empty é.txt", int64(1712000000000000), "ABCDEF")
	f.Add("a b", "c+d", "%25/..", int64(-1), "0")
	f.Fuzz(func(t *testing.T, acct, ctr, path string, version int64, cid string) {
		fp := Fullpath{Account: acct, Container: ctr, Path: path, Version: version, ContentID: cid}
		if fp.Validate() != nil {
			return
		}
		back, err := ParseFullpath(fp.String())
		if err != nil {
			t.Fatalf("ParseFullpath(%q): %v", fp.String(), err)
		}
		fp.ContentID = strings.ToUpper(fp.ContentID)
		if back != fp {
			t.Fatalf("round trip: got %+v, want %+v", back, fp)
		}
		old := OldFullpath{Account: acct, Container: ctr, Path: path, Version: "1"}
		if oback, err := ParseOldFullpath(old.String()); err != nil || oback != old {
			t.Fatalf("old round trip: got %+v, %v; want %+v", oback, err, old)
		}
	})
}

func FuzzParseFullpath(f *testing.F) {
	f.Add("acct1/ctr1/obj1/1712000000000000/A1B2C3D4E5F60718293A4B5C6D7E8F90")
	f.Add("a/b/%2F%zz/1/ab")
	f.Add("a+b/c/d/None")
	f.Fuzz(func(t *testing.T, s string) {
		if fp, err := ParseFullpath(s); err == nil {
			again, err := ParseFullpath(fp.String())
			if err != nil || again != fp {
				t.Fatalf("re-encoding %q: got %+v, %v; want %+v", s, again, err, fp)
			}
		}
		if old, err := ParseOldFullpath(s); err == nil {
			again, err := ParseOldFullpath(old.String())
			if err != nil || again != old {
				t.Fatalf("re-encoding old %q: got %+v, %v; want %+v", s, again, err, old)
			}
		}
	})
}
