// Package rdirtest is the conformance suite of rdir.Store
// implementations: every implementation runs Run in its tests.
package rdirtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// NewStore returns a new, empty store for one test; Run closes it.
type NewStore func(t *testing.T) rdir.Store

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, rdir.Store)
	}{
		{"CreateVolumeIsIdempotent", testCreateIdempotent},
		{"UnknownVolume", testUnknownVolume},
		{"InvalidVolumeID", testInvalidVolumeID},
		{"PushFetchRoundTrip", testRoundTrip},
		{"PushReplaces", testPushReplaces},
		{"PushInvalidChangesNothing", testPushInvalid},
		{"Delete", testDelete},
		{"DeleteInvalidChangesNothing", testDeleteInvalid},
		{"VolumesAreSeparate", testVolumesSeparate},
		{"PagingVisitsEveryRecordOnce", testPaging},
		{"LimitBounds", testLimitBounds},
		{"MarkerEdges", testMarkerEdges},
		{"PrefixEdges", testPrefixEdges},
		{"LookupByChunkOrContent", testLookup},
		{"ListingByChunkID", testByChunk},
		{"Rebuild", testRebuild},
		{"Status", testStatus},
		{"IncidentDate", testIncidentDate},
		{"Lock", testLock},
		{"Clear", testClear},
		{"ClearRefusesForeignLock", testClearLocked},
		{"ConcurrentPushes", testConcurrentPushes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			defer s.Close()
			tt.fn(t, s)
		})
	}
}

const vol = "127.0.0.1:6201"

// CID returns the container id of test container i.
func CID(i int) string { return chunk.ContainerID("acct", fmt.Sprintf("ctr-%d", i)) }

// ChunkID returns the chunk id of test chunk i: 64 uppercase hex digits.
func ChunkID(i int) string { return hexHash("chunk", i) }

func hexHash(kind string, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s-%d", kind, i))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Rec returns test record i of container c, indexed at mtime.
func Rec(c, i int, mtime int64) rdir.Record {
	return rdir.Record{ContainerID: CID(c), ChunkID: ChunkID(i), ContentID: hexHash("content", i)[:32],
		Path: fmt.Sprintf("dir/object %d", i), Version: 1700000000000000 + int64(i), Mtime: mtime}
}

// Recs returns n records numbered from first, spread over containers
// containers, all indexed at mtime.
func Recs(first, n, containers int, mtime int64) []rdir.Record {
	recs := make([]rdir.Record, n)
	for i := range recs {
		recs[i] = Rec((first+i)%containers, first+i, mtime)
	}
	return recs
}

// Sorted returns recs in key order.
func Sorted(recs []rdir.Record) []rdir.Record {
	s := slices.Clone(recs)
	slices.SortFunc(s, func(a, b rdir.Record) int { return strings.Compare(a.Key(), b.Key()) })
	return s
}

func setup(t *testing.T, s rdir.Store, recs []rdir.Record) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateVolume(ctx, vol); err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	if err := s.Push(ctx, vol, recs); err != nil {
		t.Fatalf("Push: %v", err)
	}
}

// fetchAll returns every record opts selects, paging with rdir.All.
func fetchAll(t *testing.T, s rdir.Store, opts rdir.ListOptions) []rdir.Record {
	t.Helper()
	var got []rdir.Record
	for r, err := range rdir.All(context.Background(), s, vol, opts) {
		if err != nil {
			t.Fatalf("All(%+v): %v", opts, err)
		}
		got = append(got, r)
	}
	return got
}

func fetch(t *testing.T, s rdir.Store, opts rdir.ListOptions) rdir.Page {
	t.Helper()
	p, err := s.Fetch(context.Background(), vol, opts)
	if err != nil {
		t.Fatalf("Fetch(%+v): %v", opts, err)
	}
	return p
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func diffRecords(t *testing.T, what string, want, got []rdir.Record) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}
