package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gridkeep/gridkeep/internal/parallel"
)

// Cleanup is what the deletion of a run's chunks came to. Every id the run
// uploaded to is deleted, whatever the upload's outcome (a server may store
// a chunk and fail to say so), except those the server refused with a 4xx
// status. An id the server does not have (404) counts nowhere.
type Cleanup struct {
	// Removed counts the chunks deleted, and RemovedUnacknowledged those
	// of them whose upload failed or was cut: the server stored them
	// without answering 201 Created.
	Removed, RemovedUnacknowledged int64
	// NotRemoved counts the chunks the server said it stored (201) that
	// are left: their delete failed, or the deletion gave up (see Run).
	NotRemoved int64
	// MaybeLeft counts the ids of uploads that failed or were cut whose
	// delete failed or was given up: the server may hold their chunks.
	MaybeLeft int64
}

// summary says what c counts, such as "12 deleted, 1 could not be".
func (c Cleanup) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d deleted", c.Removed)
	if c.RemovedUnacknowledged > 0 {
		fmt.Fprintf(&b, " (%d from failed or cut uploads)", c.RemovedUnacknowledged)
	}
	if c.NotRemoved > 0 {
		fmt.Fprintf(&b, ", %d could not be", c.NotRemoved)
	}
	if c.MaybeLeft > 0 {
		fmt.Fprintf(&b, ", %d failed or cut uploads may have left theirs", c.MaybeLeft)
	}
	return b.String()
}

// removal is what came of the delete of one id.
type removal int

const (
	removed    removal = iota // the chunk was deleted
	absent                    // the server had no such chunk
	notRemoved                // the delete failed, or was not sent
)

// add counts the removal of one id, whose upload the server said it
// stored or not.
func (c *Cleanup) add(rm removal, stored bool) {
	switch {
	case rm == removed:
		c.Removed++
		if !stored {
			c.RemovedUnacknowledged++
		}
	case rm == notRemoved && stored:
		c.NotRemoved++
	case rm == notRemoved:
		c.MaybeLeft++
	}
}

// removeAll deletes the chunk of every id the run uploaded to, read pool
// included, but those of uploads refused with a 4xx status, with
// cfg.Concurrency workers. The ids of the uploads that got no reply go
// last, to give the server time to finish storing those it was still
// receiving. It goes on after ctx ends, and gives up when no delete has
// been answered for removeStall.
func (r *runner) removeAll(ctx context.Context) Cleanup {
	n := r.names.issued()
	if n == 0 {
		return Cleanup{}
	}
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	defer r.watchReplies(cancel, removeStall, "delete")()
	var c Cleanup
	for _, unanswered := range []bool{false, true} {
		r.removeEach(ctx, n, func(seq uint64) bool {
			return r.unanswered.has(seq) == unanswered && !r.refused.has(seq)
		}, &c)
	}
	return c
}

// removeEach deletes the chunk of each id of the run, from the first to
// the n-th, that pick selects, with cfg.Concurrency workers, and adds what
// came of it to c.
func (r *runner) removeEach(ctx context.Context, n uint64, pick func(seq uint64) bool, c *Cleanup) {
	var mu sync.Mutex
	parallel.For(int(n), r.cfg.Concurrency, func(i int) {
		if seq := uint64(i) + 1; pick(seq) {
			rm := r.remove(ctx, seq)
			mu.Lock()
			defer mu.Unlock()
			c.add(rm, r.stored.has(seq))
		}
	})
}

// remove sends the delete of the chunk of the seq-th id of the run, unless
// ctx has ended, and says what came of it.
func (r *runner) remove(ctx context.Context, seq uint64) removal {
	if ctx.Err() != nil {
		return notRemoved
	}
	resp, err := r.send(r.newRequest(ctx, http.MethodDelete, r.names.name(seq).id, nil))
	if err != nil {
		return notRemoved
	}
	r.replies.Add(1)
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return removed
	case http.StatusNotFound:
		return absent
	default:
		return notRemoved
	}
}
