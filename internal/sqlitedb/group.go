package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// DefaultGroupSize is the most write transactions a WriteGroup commits
// together when WriteGroupOptions.MaxSize is zero.
const DefaultGroupSize = 64

// WriteGroupOptions tune a WriteGroup. The zero value works.
type WriteGroupOptions struct {
	// MaxSize bounds how many callers share one transaction; zero means
	// DefaultGroupSize, 1 gives every caller a transaction of its own.
	MaxSize int
}

// WriteGroup runs the write transactions of one process on one database.
// SQLite admits one writer at a time and makes the others poll with
// growing sleeps (up to 100 ms each) in its busy handler: callers queued
// on a group are handed the write lock in order, without sleeping. The
// callers that queue while a transaction runs are then run together in the
// next one, each inside a savepoint of its own, and committed at once (group
// commit): the pages they share, and the sync in SyncFull, are written once
// for all of them. Writers of other processes still meet the busy timeout.
// A WriteGroup is safe for concurrent use; the zero value is not ready: use
// NewWriteGroup.
type WriteGroup struct {
	db  *sql.DB
	max int

	mu      sync.Mutex
	running bool         // a caller is running a group
	queue   []*groupCall // callers waiting, in arrival order
}

// groupCall is one caller of Do.
type groupCall struct {
	ctx context.Context
	fn  func(context.Context, *sql.Tx) error
	err error
	// panicked is what fn panicked with, raised again in the caller's
	// goroutine once the group is answered.
	panicked any
	done     bool          // err is final
	wake     chan struct{} // the call is done, or its caller is to run the next group
}

// NewWriteGroup returns a group writing to db.
func NewWriteGroup(db *sql.DB, opts WriteGroupOptions) *WriteGroup {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultGroupSize
	}
	return &WriteGroup{db: db, max: opts.MaxSize}
}

// Do runs fn in a write transaction and returns once that transaction is
// committed, or fn's changes are undone. fn may share the transaction with
// other callers: it must make its changes through tx, with the context it
// is given, and must not commit or roll back. Its changes commit if it
// returns nil and the commit succeeds; otherwise they are undone, and Do
// returns fn's error or the commit's. Another caller's failure never undoes
// fn's changes silently: if it spoils the transaction, Do returns an error.
//
// ctx is checked before fn starts: a caller that gives up while queued is
// answered ctx.Err() and changes nothing. Once fn has started the
// transaction runs to its end, and fn's context is not canceled with ctx,
// because a statement interrupted by SQLite can roll back the whole
// transaction, the work of other callers with it.
func (g *WriteGroup) Do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	c := &groupCall{ctx: ctx, fn: fn, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.running {
		g.mu.Unlock()
		<-c.wake
		if c.done {
			if c.panicked != nil {
				panic(c.panicked)
			}
			return c.err
		}
	} else {
		g.running = true
		g.mu.Unlock()
		// Let the writers that are running reach the queue first, so that
		// they share this transaction: under load groups form without a
		// timer, and a lone writer gets the processor straight back.
		runtime.Gosched()
	}
	g.lead()
	if c.panicked != nil {
		panic(c.panicked)
	}
	return c.err
}

// lead runs the callers at the head of the queue in one transaction,
// answers them, then hands the queue to the next caller waiting, if any.
func (g *WriteGroup) lead() {
	g.mu.Lock()
	n := min(len(g.queue), g.max)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	g.run(batch)
	for _, c := range batch[1:] { // batch[0] is the leader
		c.done = true
		c.wake <- struct{}{}
	}

	g.mu.Lock()
	if len(g.queue) == 0 {
		g.running = false
		g.queue = nil // let the old backing array go
		g.mu.Unlock()
		return
	}
	next := g.queue[0]
	g.mu.Unlock()
	next.wake <- struct{}{}
}

// run runs the calls of a batch in one transaction and sets their errors.
func (g *WriteGroup) run(batch []*groupCall) {
	fail := func(err error) {
		for _, c := range batch {
			if c.err == nil {
				c.err = err
			}
		}
	}
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		fail(err)
		return
	}
	if len(batch) == 1 {
		g.runAlone(tx, batch[0])
		return
	}
	for _, c := range batch {
		if err := runSaved(tx, c); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("group transaction undone: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fail(err)
	}
}

// runAlone runs the only call of a transaction, without a savepoint.
func (g *WriteGroup) runAlone(tx *sql.Tx, c *groupCall) {
	c.err = c.ctx.Err()
	if c.err == nil {
		c.err = c.call(context.WithoutCancel(c.ctx), tx)
	}
	if c.err != nil {
		tx.Rollback()
		return
	}
	c.err = tx.Commit()
}

// runSaved runs c inside a savepoint of tx, undoing its changes if it
// fails. It returns an error only when the transaction can no longer be
// used: the changes of the calls before c are then lost too.
func runSaved(tx *sql.Tx, c *groupCall) error {
	if c.err = c.ctx.Err(); c.err != nil {
		return nil
	}
	ctx := context.WithoutCancel(c.ctx)
	if _, err := tx.ExecContext(ctx, "SAVEPOINT write_group"); err != nil {
		c.err = err
		return err
	}
	if c.err = c.call(ctx, tx); c.err != nil {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO write_group"); err != nil {
			return errors.Join(c.err, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "RELEASE write_group"); err != nil {
		if c.err == nil {
			c.err = err
		}
		return err
	}
	return nil
}

// call runs fn, turning a panic into an error so that the group is answered
// and handed on before the panic goes on in the caller's goroutine.
func (c *groupCall) call(ctx context.Context, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.panicked = p
			err = fmt.Errorf("write transaction: panic: %v", p)
		}
	}()
	return c.fn(ctx, tx)
}
