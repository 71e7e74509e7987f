// Package sqloutbox keeps an event outbox in a table of any database/sql
// store. A service inserts each event with Insert inside the transaction
// of the change it announces; an event.Relay reads the table through
// Pending and empties it through Done.
//
// The table, "outbox" unless told otherwise, has two columns:
//
//	id     integer key that grows with each insert and is never reused
//	event  the event envelope as JSON text
package sqloutbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/jsonx"
)

// Dialect says which SQL engine holds the table.
type Dialect int

// The supported engines.
const (
	SQLite     Dialect = iota // id INTEGER PRIMARY KEY AUTOINCREMENT, ? placeholders
	PostgreSQL                // id BIGSERIAL PRIMARY KEY, $n placeholders
)

// String returns the engine's name.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case PostgreSQL:
		return "postgresql"
	}
	return "dialect(" + strconv.Itoa(int(d)) + ")"
}

// Options configure an Outbox. The zero value works with SQLite.
type Options struct {
	// Table names the table; zero means "outbox". Letters, digits and '_'.
	Table string
	// Dialect is the engine holding the table.
	Dialect Dialect
}

// Outbox is an event.Outbox over one table. It is safe for concurrent use.
type Outbox struct {
	db    *sql.DB
	table string
	d     Dialect
}

var _ event.Outbox = (*Outbox)(nil)

// deleteBatch bounds the ids of one DELETE, well under every engine's limit
// on bound parameters.
const deleteBatch = 500

// New returns the outbox kept in db. It does not create the table: see
// CreateTable and Schema.
func New(db *sql.DB, opts Options) (*Outbox, error) {
	if opts.Table == "" {
		opts.Table = "outbox"
	}
	if !validTable(opts.Table) {
		return nil, fmt.Errorf("new outbox: bad table name %q", opts.Table)
	}
	if opts.Dialect != SQLite && opts.Dialect != PostgreSQL {
		return nil, fmt.Errorf("new outbox: unknown SQL %v", opts.Dialect)
	}
	return &Outbox{db: db, table: opts.Table, d: opts.Dialect}, nil
}

// validTable reports whether name can be spliced into a statement.
func validTable(name string) bool {
	if len(name) > 63 || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Schema returns the statement that creates the table if it is missing,
// for services that keep their own migrations.
//
// TODO(#3): on PostgreSQL, BIGSERIAL ids are taken at insert time but
// become visible at commit, so a relay may publish id 11 before a slower
// transaction commits id 10; events then leave slightly out of order, and
// two relays on one table would publish everything twice. Read with
// FOR UPDATE SKIP LOCKED, or order by commit, when PostgreSQL lands.
func (o *Outbox) Schema() string {
	id := "id INTEGER PRIMARY KEY AUTOINCREMENT"
	if o.d == PostgreSQL {
		id = "id BIGSERIAL PRIMARY KEY"
	}
	return "CREATE TABLE IF NOT EXISTS " + o.table + " (\n\t" + id +
		",\n\tevent TEXT NOT NULL\n)"
}

// CreateTable creates the table if it is missing.
func (o *Outbox) CreateTable(ctx context.Context) error {
	if _, err := o.db.ExecContext(ctx, o.Schema()); err != nil {
		return fmt.Errorf("create outbox table %s: %w", o.table, err)
	}
	return nil
}

// Insert adds ev to the outbox within tx, the caller's transaction: the
// event becomes visible to the relay when, and only if, tx commits. It
// checks ev.Type, since an event the bus refuses would stop the relay.
func (o *Outbox) Insert(ctx context.Context, tx *sql.Tx, ev event.Event) error {
	if err := event.CheckType(ev.Type); err != nil {
		return fmt.Errorf("outbox insert: %w", err)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("outbox insert %s: %w", ev.Type, err)
	}
	q := "INSERT INTO " + o.table + " (event) VALUES (" + o.placeholders(1) + ")"
	if _, err := tx.ExecContext(ctx, q, string(data)); err != nil {
		return fmt.Errorf("outbox insert %s: %w", ev.Type, err)
	}
	return nil
}

// Pending returns up to limit committed records, lowest id first. A record
// that is not a valid event is an error: the relay stops there rather than
// skip it.
func (o *Outbox) Pending(ctx context.Context, limit int) ([]event.OutboxRecord, error) {
	q := "SELECT id, event FROM " + o.table + " ORDER BY id LIMIT " + o.placeholders(1)
	rows, err := o.db.QueryContext(ctx, q, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var recs []event.OutboxRecord
	for rows.Next() {
		var rec event.OutboxRecord
		var data string
		if err := rows.Scan(&rec.ID, &data); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		if err := jsonx.Unmarshal([]byte(data), &rec.Event); err != nil {
			return nil, fmt.Errorf("read outbox record %d: %w", rec.ID, err)
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return recs, nil
}

// Done removes the records with the given ids; unknown ids are ignored.
func (o *Outbox) Done(ctx context.Context, ids []int64) error {
	return o.DoneTx(ctx, o.db, ids)
}

// Execer is what *sql.DB and *sql.Tx share to run a statement.
type Execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// DoneTx is Done through ex, for instance inside a transaction of the
// caller's.
func (o *Outbox) DoneTx(ctx context.Context, ex Execer, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), deleteBatch)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		q := "DELETE FROM " + o.table + " WHERE id IN (" + o.placeholders(n) + ")"
		if _, err := ex.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("remove %d outbox records: %w", n, err)
		}
		ids = ids[n:]
	}
	return nil
}

// placeholders returns n comma-separated parameter markers.
func (o *Outbox) placeholders(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		if o.d == PostgreSQL {
			b.WriteString("$" + strconv.Itoa(i))
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}
