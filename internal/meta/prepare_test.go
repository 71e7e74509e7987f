package meta_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/meta"
)

// Prepare answers from the containers it read lately: a change made
// through the directory is seen by the next prepare all the same.
func TestPrepareSeesContainerChanges(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	prepare := func(what string, status int) reply {
		t.Helper()
		return h.proxy("POST", "content/prepare2", ref("obj"), nil,
			`{"size": 1, "position": 0}`).want(t, what, status)
	}
	policy := func(r reply) string { return r.header.Get("X-Oio-Content-Meta-Policy") }

	h.proxy("POST", "container/create", ref(""), nil, `{"properties": {}, "system": {}}`).
		want(t, "create", http.StatusCreated)
	if got := policy(prepare("prepare", http.StatusOK)); got != "SINGLE" {
		t.Fatalf("policy %q, want SINGLE", got)
	}
	h.proxy("POST", "container/set_properties", ref(""), nil,
		`{"properties": {}, "system": {"sys.m2.policy.storage": "THREECOPIES"}}`).
		want(t, "set policy", http.StatusNoContent)
	if got := policy(prepare("prepare after set", http.StatusOK)); got != "THREECOPIES" {
		t.Errorf("policy after set %q, want THREECOPIES", got)
	}
	h.proxy("POST", "container/set_properties", ref(""), nil,
		`{"properties": {}, "system": {"sys.m2.policy.storage": "TWOCOPIES"}}`).
		want(t, "set policy again", http.StatusNoContent)
	if got := policy(prepare("prepare after second set", http.StatusOK)); got != "TWOCOPIES" {
		t.Errorf("policy after second set %q, want TWOCOPIES", got)
	}
	h.proxy("POST", "container/destroy", ref(""), nil, "").
		want(t, "destroy", http.StatusNoContent)
	prepare("prepare after destroy", http.StatusNotFound)
}

// A prepare that cannot place its object creates no container.
func TestPrepareUnplaceableCreatesNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.clock.Advance(time.Minute)
	h.reg.Heartbeat("rawx", "rawx-1", 50, 100)
	h.reg.Heartbeat("rawx", "rawx-2", 50, 100)
	newRef := func(container, path string) url.Values {
		return url.Values{"acct": {"myaccount"}, "ref": {container}, "path": {path}}
	}
	h.proxy("POST", "content/prepare2", newRef("three", "o"), autocreate,
		`{"size": 1, "policy": "THREECOPIES"}`).want(t, "prepare THREECOPIES", http.StatusServiceUnavailable)
	h.proxy("GET", "container/show", newRef("three", ""), nil, "").
		want(t, "show after failed prepare", http.StatusNotFound)
	h.proxy("POST", "content/prepare2", newRef("two", "o"), autocreate,
		`{"size": 1, "policy": "TWOCOPIES"}`).want(t, "prepare TWOCOPIES", http.StatusOK)
	h.proxy("GET", "container/show", newRef("two", ""), nil, "").
		want(t, "show after prepare", http.StatusOK)
}

// TestConcurrentPreparesGetDistinctVersions: prepares of one name at once
// get versions of their own. Chunk ids derive from the version, so two
// puts given one version would write the same chunks, and the second be
// refused by the chunk servers (409).
func TestConcurrentPreparesGetDistinctVersions(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const n, workers = 400, 8
	versions := make(chan int64, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range n / workers {
				p, err := h.client.ContentPrepare(h.ctx, "acct", "ctr", "same",
					meta.PrepareRequest{Size: 1})
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				versions <- p.Version
			}
		})
	}
	wg.Wait()
	close(versions)
	seen := map[int64]bool{}
	for v := range versions {
		if seen[v] {
			t.Errorf("version %d given to two prepares", v)
		}
		seen[v] = true
	}
}
