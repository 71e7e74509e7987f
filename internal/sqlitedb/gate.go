package sqlitedb

import "context"

// WriteGate queues the write transactions of one process on one database.
// SQLite admits one writer at a time and makes the others poll with
// growing sleeps (up to 100 ms each) in its busy handler; writers that
// queue on a gate first are handed the lock in order, without sleeping.
// Writers of other processes still meet the busy timeout. The zero value
// is not ready: use NewWriteGate.
type WriteGate struct{ ch chan struct{} }

// NewWriteGate returns an open gate.
func NewWriteGate() *WriteGate { return &WriteGate{ch: make(chan struct{}, 1)} }

// Enter waits for the gate, or for ctx to be done. On success the caller
// must call Leave once its transaction is committed or rolled back.
func (g *WriteGate) Enter(ctx context.Context) error {
	select {
	case g.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Leave lets the next writer in.
func (g *WriteGate) Leave() { <-g.ch }
