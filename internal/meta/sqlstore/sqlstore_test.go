package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/meta/metatest"
	"github.com/gridkeep/gridkeep/internal/meta/sqlstore"
)

func newSQLite(t *testing.T, ns meta.Namespace) meta.Store {
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"),
		sqlstore.Options{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteConformance(t *testing.T) {
	metatest.Run(t, newSQLite)
}

func TestCommittedHook(t *testing.T) {
	calls := 0
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"),
		sqlstore.Options{Committed: func() { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	spec := meta.ContainerSpec{Account: "a", Name: "c"}
	steps := []struct {
		name string
		do   func() error
		want int
	}{
		{"create", func() error { _, err := s.CreateContainer(ctx, spec); return err }, 1},
		{"create again, no event", func() error {
			_, err := s.CreateContainer(ctx, spec)
			return err
		}, 1},
		{"refused", func() error {
			_, err := s.PutObject(ctx, chunk.ContainerID("a", "c"), &meta.Object{Name: ""})
			if err == nil {
				return errors.New("empty name accepted")
			}
			return nil
		}, 1},
		{"destroy", func() error { return s.DestroyContainer(ctx, chunk.ContainerID("a", "c")) }, 2},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if calls != st.want {
			t.Errorf("%s: %d calls, want %d", st.name, calls, st.want)
		}
	}
}
