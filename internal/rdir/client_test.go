package rdir_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/rdir/rdirtest"
)

// legacyServer serves fetch like rdir services that predate the
// truncation headers: pages of records after the marker, no headers.
func legacyServer(t *testing.T, recs []rdir.Record, requests *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		limit, _ := strconv.Atoi(r.URL.Query().Get("max"))
		marker := r.URL.Query().Get("marker")
		page := []any{}
		for _, rec := range recs {
			if rec.Key() > marker && len(page) < limit {
				page = append(page, []any{rec.Key(), map[string]any{"content_id": rec.ContentID,
					"mtime": rec.Mtime, "path": rec.Path, "version": rec.Version}})
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClientPagesWithoutTruncationHeader(t *testing.T) {
	recs := rdirtest.Sorted(rdirtest.Recs(0, 250, 3, 100))
	var requests atomic.Int64
	srv := legacyServer(t, recs, &requests)
	c, err := rdir.NewClient(srv.URL, rdir.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []rdir.Record
	for r, err := range rdir.All(context.Background(), c, testVol, rdir.ListOptions{Limit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if n := requests.Load(); n != 4 {
		t.Errorf("%d requests, want 4 (three pages and an empty one)", n)
	}
}

func TestClientErrors(t *testing.T) {
	_, srv := newTestServer(t, rdir.HandlerOptions{})
	c, err := rdir.NewClient(srv.URL, rdir.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Lock(ctx, testVol, "a"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
		code int
	}{
		{"unknown volume", c.Unlock(ctx, "other"), rdir.ErrNoVolume, 404},
		{"locked", c.Lock(ctx, testVol, "b"), rdir.ErrLocked, 403},
		{"negative incident", c.SetIncidentDate(ctx, testVol, -1), rdir.ErrInvalid, 400},
	}
	for _, tt := range tests {
		var se *rdir.StatusError
		if !errors.Is(tt.err, tt.want) || !errors.As(tt.err, &se) || se.Code != tt.code {
			t.Errorf("%s: error %v, want %v with status %d", tt.name, tt.err, tt.want, tt.code)
		}
	}
}

func TestNewClientRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:6300", "ftp://127.0.0.1", "http://"} {
		if _, err := rdir.NewClient(u, rdir.ClientOptions{}); err == nil {
			t.Errorf("NewClient(%q) succeeded", u)
		}
	}
}
