package chunk

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"
)

func TestFdAttrs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chunk")
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("v", 3000) // more than the first buffer holds
	want := []Attr{{"user.a", "1"}, {"user.long", long}, {"user.empty", ""}}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	var a FdAttrs
	if err := a.Set(fd, want); err != nil {
		t.Fatal(err)
	}
	names, err := a.Names(fd)
	if err != nil {
		t.Fatal(err)
	}
	anyOrder := cmpopts.SortSlices(func(a, b string) bool { return a < b }) // as the filesystem keeps them
	if diff := cmp.Diff([]string{"user.a", "user.long", "user.empty"}, names, anyOrder); diff != "" {
		t.Fatalf("names (-want +got):\n%s", diff)
	}
	// A name listed but gone by the time it is read is left out.
	got, err := a.Values(fd, append(names, "user.gone"))
	if err != nil {
		t.Fatal(err)
	}
	byName := cmpopts.SortSlices(func(a, b Attr) bool { return a.Name < b.Name })
	if diff := cmp.Diff(want, got, byName); diff != "" {
		t.Fatalf("values (-want +got):\n%s", diff)
	}
	if v, ok, err := a.Value(fd, "user.long"); err != nil || !ok || v != long {
		t.Fatalf("Value(user.long) = %d bytes, %v, %v", len(v), ok, err)
	}
	if _, ok, err := a.Value(fd, "user.gone"); err != nil || ok {
		t.Fatalf("Value(user.gone) = %v, %v, want absent", ok, err)
	}
	for _, name := range []string{"user.a", "user.a", "user.long"} { // a second removal is no error
		if err := a.Remove(fd, name); err != nil {
			t.Fatal(err)
		}
	}
	if names, err := a.Names(fd); err != nil || !cmp.Equal(names, []string{"user.empty"}) {
		t.Fatalf("names after removals = %q, %v", names, err)
	}
	// Errors name the attribute and keep the system's error.
	err = a.Remove(fd, "user."+strings.Repeat("n", 300)) // names are at most 255 bytes
	var ae *AttrError
	if !errors.As(err, &ae) || !errors.Is(err, unix.ERANGE) {
		t.Fatalf("removing a name too long: %v, want an AttrError with ERANGE", err)
	}
}
