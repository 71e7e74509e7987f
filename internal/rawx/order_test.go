package rawx

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/event"
)

// heldDeletes records events in the order they are published, holding
// each "deleted" event until released.
type heldDeletes struct {
	events
	deleting chan struct{} // closed when a "deleted" event is being published
	release  chan struct{}
	once     sync.Once
}

func (h *heldDeletes) Publish(ev event.Event) error {
	if ev.Type == event.ChunkDeleted {
		h.once.Do(func() { close(h.deleting) })
		<-h.release
	}
	return h.events.Publish(ev)
}

// A PUT of an id whose DELETE has removed the file but not yet announced
// it is announced after the DELETE: the reverse index, which applies
// events in order, ends with the new chunk indexed.
func TestDeleteAndPutOfOneIDAnnouncedInOrder(t *testing.T) {
	pub := &heldDeletes{deleting: make(chan struct{}), release: make(chan struct{})}
	_, addr := startServer(t, Config{Namespace: "NS", ServiceID: "rawx-1", Publisher: pub})
	var c Client
	id := testID(7)
	url := ChunkURL(addr, id)
	put := func() error {
		data := []byte("chunk data")
		_, err := c.Put(ctx, url, testMeta(id), bytes.NewReader(data), int64(len(data)))
		return err
	}
	if err := put(); err != nil {
		t.Fatal(err)
	}
	deleted, stored := make(chan error, 1), make(chan error, 1)
	go func() { deleted <- c.Delete(ctx, url) }()
	<-pub.deleting
	go func() { stored <- put() }()
	// Give the second PUT time to get ahead of the held event, as it
	// would without the ordering.
	select {
	case err := <-stored:
		stored <- err
	case <-time.After(300 * time.Millisecond):
	}
	close(pub.release)
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	if err := <-stored; err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range pub.all() {
		types = append(types, ev.Type)
	}
	want := []string{event.ChunkNew, event.ChunkDeleted, event.ChunkNew}
	if !slices.Equal(types, want) {
		t.Fatalf("events published in the order %q, want %q", types, want)
	}
}
