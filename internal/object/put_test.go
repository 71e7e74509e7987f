package object_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
)

// An input that holds more than the size announced (a file that grew
// while being stored) fails the put: nothing is committed and no chunk
// file is left behind.
func TestPutOfGrowingInputFails(t *testing.T) {
	ctx := context.Background()
	ns, dir, oc := startOne(t)
	n := object.Name{Account: "acct", Container: "ctr", Path: "obj"}
	_, err := oc.Put(ctx, n, strings.NewReader("some data, and more"),
		object.PutOptions{Size: 9, SizeKnown: true})
	if err == nil || !strings.Contains(err.Error(), "grew while being stored") {
		t.Fatalf("put of 19 bytes announced as 9: %v, want a failure saying the input grew", err)
	}
	if _, err := dir.Locate(ctx, n.Account, n.Container, n.Path, 0); !meta.Missing(err) {
		t.Errorf("the object was committed: %v", err)
	}
	var left []string
	chunk.WalkChunks(ns.Rawx[0].Volume, func(path string) error {
		left = append(left, path)
		return nil
	})
	if len(left) != 0 {
		t.Errorf("chunk files left: %v", left)
	}
}
