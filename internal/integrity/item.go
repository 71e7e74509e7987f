package integrity

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// Kind is the level of a checked item.
type Kind string

// Kinds of items, from the top down.
const (
	KindAccount   Kind = "account"
	KindContainer Kind = "container"
	KindObject    Kind = "object"
	KindChunk     Kind = "chunk"
	// KindVolume is the walk of one chunk server's volume; its result says
	// whether the walk itself could be made, and names the misplaced chunk
	// files of the volume ("Misplaced chunk file: ").
	KindVolume Kind = "volume"
)

// Target names what to check: an account, a container, an object (one
// version, or every version when Version is 0), a chunk (by URL) or a
// whole volume. The kind is that of the most precise field set; the other
// fields, when known, say who owns the item.
type Target struct {
	Account   string
	Container string
	Object    string
	Version   int64
	ContentID string
	// ContainerID is the owner's container id; it is computed from
	// Account and Container when both are set.
	ContainerID string
	// Chunk is a chunk URL "http://<service id>/<CHUNKID>", or a
	// metachunk position for a copy the directory lacks.
	Chunk string
	// Volume is a chunk server's service id: check every chunk it holds
	// and every chunk the reverse index says it holds.
	Volume string
}

// Kind returns the level of the target. A volume target has no kind.
func (t Target) Kind() Kind {
	switch {
	case t.Chunk != "":
		return KindChunk
	case t.Object != "":
		return KindObject
	case t.Container != "":
		return KindContainer
	case t.Account != "":
		return KindAccount
	}
	return ""
}

// CID returns the container id of the target's container, if known.
func (t Target) CID() string {
	if t.Account != "" && t.Container != "" {
		return chunk.ContainerID(t.Account, t.Container)
	}
	return strings.ToUpper(t.ContainerID)
}

// Result is what checking one item found: a finding when Errors is not
// empty. Irreparable says that no copy is left to repair the item from.
// Failed says why the item, or part of it, could not be checked (the
// directory did not answer, the run was interrupted): it is no finding
// about the data, and is never written to the error or rebuild files.
// Results carry the identity of the item and of its owners, so that they
// can be written to the error and rebuild files and checked again.
type Result struct {
	Kind        Kind
	Target      Target
	Errors      []string
	Failed      []string
	Irreparable bool
}

// OK reports whether the item was checked and has no problem.
func (r *Result) OK() bool { return len(r.Errors) == 0 && len(r.Failed) == 0 }

// Finding reports whether something is wrong with the item itself.
func (r *Result) Finding() bool { return len(r.Errors) > 0 }

// Status returns "OK", "error" (a finding) or "failed" (not a finding,
// but the item could not be checked), as the result table shows it.
func (r *Result) Status() string {
	switch {
	case r.Finding():
		return "error"
	case len(r.Failed) > 0:
		return "failed"
	}
	return "OK"
}

// fail records why the check of the item could not be made.
func (r *Result) fail(what string, err error) {
	msg := "Check failed: " + err.Error()
	if what != "" {
		msg = "Check failed: " + what + ": " + err.Error()
	}
	r.Failed = append(r.Failed, msg)
}

// Item returns how the item is named in reports: ACCOUNT,
// ACCOUNT/CONTAINER, ACCOUNT/CONTAINER/OBJECT, the chunk URL, or
// "position P of ACCOUNT/CONTAINER/OBJECT" for a copy the directory lacks.
func (r *Result) Item() string {
	t := r.Target
	switch r.Kind {
	case KindVolume:
		return t.Volume
	case KindAccount:
		return t.Account
	case KindContainer:
		return t.Account + "/" + t.Container
	case KindObject:
		return t.Account + "/" + t.Container + "/" + t.Object
	}
	if isURL(t.Chunk) || t.Object == "" {
		return t.Chunk
	}
	return "position " + t.Chunk + " of " + t.Account + "/" + t.Container + "/" + t.Object
}

// key identifies the item across passes, for confirmations.
func (r *Result) key() string {
	return string(r.Kind) + "\x00" + r.Item() + "\x00" + strconv.FormatInt(r.Target.Version, 10)
}

func isURL(s string) bool { return strings.Contains(s, "://") }

// wireResult is the JSON form of a Result: one object per line with
// --json.
type wireResult struct {
	Type        Kind     `json:"type"`
	Item        string   `json:"item"`
	Status      string   `json:"status"`
	Errors      []string `json:"errors"`
	Failed      []string `json:"check_failed"`
	Irreparable bool     `json:"irreparable"`
	Account     string   `json:"account,omitempty"`
	Container   string   `json:"container,omitempty"`
	Object      string   `json:"object,omitempty"`
	Version     int64    `json:"version,omitempty"`
	ContentID   string   `json:"content_id,omitempty"`
	ContainerID string   `json:"cid,omitempty"`
	Chunk       string   `json:"chunk,omitempty"`
}

// MarshalJSON writes the result as {"type", "item", "status", "errors",
// "check_failed", "irreparable"} followed by the owner's identity; both
// lists are there, empty if need be, on every line.
func (r *Result) MarshalJSON() ([]byte, error) {
	t := r.Target
	w := wireResult{Type: r.Kind, Item: r.Item(), Status: r.Status(), Errors: r.Errors,
		Failed: r.Failed, Irreparable: r.Irreparable, Account: t.Account, Container: t.Container,
		Object: t.Object, Version: t.Version, ContentID: t.ContentID, ContainerID: t.CID(),
		Chunk: t.Chunk}
	if w.Errors == nil {
		w.Errors = []string{}
	}
	if w.Failed == nil {
		w.Failed = []string{}
	}
	return json.Marshal(w)
}
