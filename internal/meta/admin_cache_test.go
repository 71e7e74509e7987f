package meta_test

import (
	"net/http"
	"testing"
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
