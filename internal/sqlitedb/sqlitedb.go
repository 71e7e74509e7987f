// Package sqlitedb opens SQLite database files the way every gridkeep
// service uses them, and applies numbered schema migrations.
//
// # Driver
//
// The driver is github.com/mattn/go-sqlite3, which links the SQLite C
// library through cgo. It was chosen over the pure-Go modernc.org/sqlite and
// ncruces/go-sqlite3 (SQLite compiled to WebAssembly, then to Go) by
// measurement; driverbench_test.go says how to rerun it. Median of five
// runs on a shared two-core machine, time relative to mattn (lower is
// better):
//
//	workload                               mattn  modernc  ncruces
//	single-row insert transaction          1      1.33     1.52
//	1000-row insert transaction            1      1.25     1.41
//	point select by primary key            1      1.85     0.93
//	point selects beside one writer        1      1.03     3.24
//	four concurrent writers                1      1.32     1.49
//
// The cost is that building needs CGO_ENABLED=1 and a C compiler (the
// first build compiles SQLite, about a minute), and cross-compiling needs a
// C cross toolchain.
//
// # Durability
//
// Databases are in WAL mode. A transaction is durable against a crash of
// the process (kill -9, panic, OOM kill) once Commit returns: its pages are
// in the write-ahead log, which the operating system keeps even if the
// process dies. With the default synchronous=NORMAL the log is synced only
// at checkpoints, so a power loss or kernel crash can lose the most recent
// commits, never the consistency of the file. With SyncFull the log is
// synced at every commit, so committed transactions also survive a power
// loss, at the price of one fsync per commit.
//
// # Concurrency
//
// SQLite allows one writer at a time per file. Every transaction begun
// with (*sql.DB).BeginTx starts with BEGIN IMMEDIATE and so takes the write
// lock at once: a transaction that reads then writes can never fail with
// SQLITE_BUSY when it upgrades, and waiting writers queue on the busy
// timeout instead. The driver ignores sql.TxOptions.ReadOnly, so an
// explicit read transaction also waits for writers; plain queries outside a
// transaction read a consistent snapshot without taking the write lock and
// run in parallel with one writer and with each other. With four goroutines
// committing at once on two cores, every transaction succeeded (benchmark
// FourWriters), so one pool with BEGIN IMMEDIATE is used rather than a
// separate single-connection pool for writes. Within one process, a
// WriteGroup queues writers and commits those that queued together.
package sqlitedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Sync is how often SQLite syncs the write-ahead log to stable storage.
type Sync int

const (
	// SyncNormal syncs the log at checkpoints only: committed transactions
	// survive a process crash, the latest may be lost on power loss.
	SyncNormal Sync = iota
	// SyncFull syncs the log at every commit: committed transactions
	// survive power loss too.
	SyncFull
)

// String returns the SQLite name of the level.
func (s Sync) String() string {
	switch s {
	case SyncNormal:
		return "NORMAL"
	case SyncFull:
		return "FULL"
	}
	return "Sync(" + strconv.Itoa(int(s)) + ")"
}

// Defaults used for zero fields of Options.
const (
	DefaultBusyTimeout  = 5 * time.Second
	DefaultMaxOpenConns = 8
	DefaultStatements   = 64
	// DefaultCheckpointPages lets the write-ahead log grow to about 40 MB
	// (of 4 KiB pages) before a commit copies it back into the database.
	DefaultCheckpointPages = 10000
	// DefaultCheckpointInterval is how often the log is checkpointed in
	// the background when Options.CheckpointInterval is zero.
	DefaultCheckpointInterval = 50 * time.Millisecond
)

// Options tunes Open. The zero value is the recommended configuration.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection before failing with SQLITE_BUSY; zero means
	// DefaultBusyTimeout. It is rounded down to milliseconds.
	BusyTimeout time.Duration
	// Sync is the durability level of commits; see the package doc.
	Sync Sync
	// MaxOpenConns bounds the pool; zero means DefaultMaxOpenConns. All
	// connections may read at once; writes are serialized by SQLite.
	MaxOpenConns int
	// Statements is how many prepared statements each connection keeps
	// for reuse, so that a query run again skips SQLite's parser and
	// planner; zero means DefaultStatements, a negative value none.
	Statements int
	// CheckpointPages is the size of the write-ahead log, in pages, past
	// which a commit checkpoints it (copies its pages into the database
	// file and, below SyncFull, syncs both); zero means
	// DefaultCheckpointPages, a negative value SQLite's default (1000).
	// A larger log is checkpointed less often: a page changed by many
	// commits in between is copied once, and fewer commits wait for the
	// copy and its syncs. It takes disk space, not durability: committed
	// transactions in the log survive a crash as well as in the file.
	CheckpointPages int
	// CheckpointInterval is how often a goroutine of the pool checkpoints
	// the log without waiting for readers or writers (a passive
	// checkpoint), so that commits seldom reach CheckpointPages and pay for
	// a checkpoint themselves; zero means DefaultCheckpointInterval, a
	// negative value no background checkpoints. The goroutine stops when
	// the pool is closed.
	CheckpointInterval time.Duration
}

func (o Options) normalized() (Options, error) {
	if o.BusyTimeout == 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.MaxOpenConns == 0 {
		o.MaxOpenConns = DefaultMaxOpenConns
	}
	if o.Statements == 0 {
		o.Statements = DefaultStatements
	}
	if o.CheckpointPages == 0 {
		o.CheckpointPages = DefaultCheckpointPages
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	switch {
	case o.BusyTimeout < time.Millisecond:
		return o, fmt.Errorf("busy timeout %v is below 1ms", o.BusyTimeout)
	case o.MaxOpenConns < 0:
		return o, fmt.Errorf("max open connections %d is negative", o.MaxOpenConns)
	case o.Sync != SyncNormal && o.Sync != SyncFull:
		return o, fmt.Errorf("unknown sync level %d", int(o.Sync))
	}
	return o, nil
}

// Open opens the SQLite database file at path, creating it if needed (its
// directory must exist), and returns a pool configured as described in the
// package doc: WAL journal, the busy timeout and sync level of opts,
// foreign keys enforced, transactions begun with BEGIN IMMEDIATE. It checks
// that the file can be opened and put in WAL mode before returning. The
// caller closes the pool.
func Open(ctx context.Context, path string, opts Options) (*sql.DB, error) {
	opts, err := opts.normalized()
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite %q: path must name a file", path)
	}
	c := &connector{dsn: dsn(path, opts), opts: opts, stop: make(chan struct{})}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxOpenConns)
	if err := checkWAL(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if opts.CheckpointInterval > 0 {
		go c.checkpoint(db, opts.CheckpointInterval)
	}
	return db, nil
}

// dsn returns the driver's URI for path: every connection the pool opens
// applies the same settings.
func dsn(path string, opts Options) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", opts.Sync.String())
	q.Set("_busy_timeout", strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	q.Set("_stmt_cache_size", strconv.Itoa(max(opts.Statements, 0)))
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// connector opens the connections of a pool: the settings the driver takes
// from the URI, then those it does not.
type connector struct {
	dsn  string
	opts Options
	stop chan struct{} // closed by Close, when the pool is closed
	once sync.Once
}

// Close stops the background checkpoints; (*sql.DB).Close calls it.
func (c *connector) Close() error {
	c.once.Do(func() { close(c.stop) })
	return nil
}

// checkpoint runs a passive checkpoint of db every interval until the
// pool is closed. A failed checkpoint is simply tried again at the next
// tick; meanwhile the commits that reach CheckpointPages checkpoint.
func (c *connector) checkpoint(db *sql.DB, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		_, _ = db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	}
}

var sqliteDriver = &sqlite3.SQLiteDriver{}

func (c *connector) Driver() driver.Driver { return sqliteDriver }

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := sqliteDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	// Temporary files (the journals that undo a statement or a savepoint,
	// sorts, temporary tables) live in memory: on disk they cost a write
	// per page of every change in a transaction, for a file deleted unread.
	pragmas := []string{"PRAGMA temp_store = MEMORY"}
	if c.opts.CheckpointPages > 0 {
		pragmas = append(pragmas, "PRAGMA wal_autocheckpoint = "+strconv.Itoa(c.opts.CheckpointPages))
	}
	for _, q := range pragmas {
		if _, err := conn.(*sqlite3.SQLiteConn).Exec(q, nil); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return conn, nil
}

// escapePath escapes the characters that would end or garble the path part
// of an SQLite URI filename.
func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
}

// checkWAL opens a first connection and verifies the journal mode, which
// SQLite silently leaves unchanged on file systems without shared memory.
func checkWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return errors.New("journal mode is " + mode + ", not wal")
	}
	return nil
}
