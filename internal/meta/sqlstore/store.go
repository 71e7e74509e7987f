// Package sqlstore keeps the gridkeep directory in a SQL database: SQLite
// files by default, through database/sql and portable SQL.
//
// Tables: accounts and containers carry their counters, kept up to date in
// the transaction of each change; container_props holds user ("u"),
// system ("s") and bucket ("b") properties; aliases holds object versions
// (content headers inline), alias_props their properties and chunks their
// chunk locations; outbox holds the events of committed changes until a
// relay publishes them.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/sqloutbox"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/sqlitedb"
)

// Options tune a Store. The zero value works.
type Options struct {
	// Namespace is the namespace configuration (see meta.Namespace).
	Namespace meta.Namespace
	// Now is the clock of ctimes, mtimes, versions and event times; nil
	// means time.Now.
	Now func() time.Time
	// SyncNormal syncs the SQLite log at checkpoints only: faster commits,
	// but the latest ones may be lost on power loss (never on a crash of
	// the process). By default every commit is synced.
	SyncNormal bool
	// Committed, if set, is called after each transaction that wrote
	// events commits: give it an event.Relay's Notify so that events
	// leave at once. It must not block.
	Committed func()
}

// Store is a meta.Store over SQL. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	d      dialect
	ns     meta.Namespace
	now    func() time.Time
	outbox *sqloutbox.Outbox
	notify func()
	writes *sqlitedb.WriteGroup // runs this process's write transactions
}

func newStore(ctx context.Context, db *sql.DB, d dialect, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ns := opts.Namespace.WithDefaults()
	if _, ok := ns.Policy(ns.DefaultPolicy); !ok {
		return nil, fmt.Errorf("%w: default policy %q", meta.ErrUnknownPolicy, ns.DefaultPolicy)
	}
	if err := sqlitedb.Migrate(ctx, db, sqlitedb.Schema{Name: schemaName,
		Steps: d.migrations}); err != nil {
		return nil, err
	}
	out, err := sqloutbox.New(db, sqloutbox.Options{Table: "outbox", Dialect: d.outbox})
	if err != nil {
		return nil, err
	}
	return &Store{db: db, d: d, ns: ns, now: opts.Now, outbox: out, notify: opts.Committed,
		writes: sqlitedb.NewWriteGroup(db, sqlitedb.WriteGroupOptions{})}, nil
}

// Namespace returns the namespace configuration, defaults filled in.
func (s *Store) Namespace() meta.Namespace { return s.ns }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// conn runs rebound queries on a querier.
type conn struct {
	q querier
	d dialect
}

func (c conn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, c.d.rebind(q), args...)
}

func (c conn) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, c.d.rebind(q), args...)
}

func (c conn) row(ctx context.Context, q string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.d.rebind(q), args...)
}

// wtx is a write transaction: its changes and the events it emits commit
// together.
type wtx struct {
	conn
	tx      *sql.Tx
	ctx     context.Context
	s       *Store
	now     time.Time
	reqID   string
	emitted bool
}

// update runs fn in a write transaction, committed if fn returns nil. The
// transaction may be shared with other updates (see sqlitedb.WriteGroup):
// fn makes its changes through w, with the context it is given.
func (s *Store) update(ctx context.Context, fn func(ctx context.Context, w *wtx) error) error {
	var emitted bool
	err := s.writes.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		w := &wtx{conn: conn{tx, s.d}, tx: tx, ctx: ctx, s: s, now: s.now(),
			reqID: meta.RequestID(ctx)}
		err := fn(ctx, w)
		emitted = w.emitted
		return err
	})
	if err == nil && emitted && s.notify != nil {
		s.notify()
	}
	return err
}

// read runs fn in a read-only transaction on a connection of its own, so
// that its queries see one snapshot without taking the write lock that
// transactions begun by database/sql take.
func (s *Store) read(ctx context.Context, fn func(conn) error) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, s.d.beginRead); err != nil {
		return err
	}
	err = fn(conn{c, s.d})
	if _, rerr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
		// Never give the pool a connection still inside a transaction.
		c.Raw(func(any) error { return driver.ErrBadConn })
		err = errors.Join(err, rerr)
	}
	return err
}

// plain returns a connection for single statements, each of which reads
// one snapshot.
func (s *Store) plain() conn { return conn{s.db, s.d} }

// micros returns the transaction time in microseconds.
func (w *wtx) micros() int64 { return w.now.UnixMicro() }

// emit writes ev to the outbox, in the transaction.
func (w *wtx) emit(ev event.Event) error {
	w.emitted = true
	return w.s.outbox.Insert(w.ctx, w.tx, ev)
}

func (w *wtx) emitContent(typ string, c *meta.Container, o *meta.Object) error {
	ev, err := meta.ContentEvent(typ, w.s.ns.Name, c, o, w.micros(), w.reqID)
	if err != nil {
		return err
	}
	return w.emit(ev)
}

func (w *wtx) emitContainer(typ string, c *meta.Container) error {
	ev, err := meta.ContainerEvent(typ, w.s.ns.Name, c, w.micros(), w.reqID)
	if err != nil {
		return err
	}
	return w.emit(ev)
}

// Pending returns up to limit outbox records, oldest first.
func (s *Store) Pending(ctx context.Context, limit int) ([]event.OutboxRecord, error) {
	return s.outbox.Pending(ctx, limit)
}

// Done removes published outbox records.
func (s *Store) Done(ctx context.Context, ids []int64) error {
	return s.writes.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.outbox.DoneTx(ctx, tx, ids)
	})
}
