package sqloutbox_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/eventtest"
	"github.com/gridkeep/gridkeep/internal/event/sqloutbox"
)

// PostgresEnv names the variable holding the URL of a PostgreSQL database
// the tests may create tables in; without it they run on SQLite only.
const PostgresEnv = "GRIDKEEP_POSTGRES_URL"

// engine is a database to run the tests on.
type engine struct {
	name string
	open func(t *testing.T) (*sql.DB, sqloutbox.Options)
}

func engines(t *testing.T) []engine {
	es := []engine{{"sqlite", openSQLite}}
	if url := os.Getenv(PostgresEnv); url != "" {
		es = append(es, engine{"postgresql", func(t *testing.T) (*sql.DB, sqloutbox.Options) {
			return openPostgres(t, url)
		}})
	} else {
		t.Logf("%s is not set: PostgreSQL not tested", PostgresEnv)
	}
	return es
}

// OpenSQLite opens a fresh SQLite database file the way a service would.
func openSQLite(t *testing.T) (*sql.DB, sqloutbox.Options) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, sqloutbox.Options{Dialect: sqloutbox.SQLite}
}

// openPostgres opens url and gives the test a table of its own.
func openPostgres(t *testing.T, url string) (*sql.DB, sqloutbox.Options) {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("outbox_test_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		db.Exec("DROP TABLE IF EXISTS " + table)
		db.Close()
	})
	return db, sqloutbox.Options{Dialect: sqloutbox.PostgreSQL, Table: table}
}

// newOutbox opens a database with an empty outbox table.
func newOutbox(t *testing.T, e engine) (*sql.DB, *sqloutbox.Outbox) {
	t.Helper()
	db, opts := e.open(t)
	o, err := sqloutbox.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // creating twice is harmless
		if err := o.CreateTable(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return db, o
}

// insert commits evs in one transaction, or rolls it back.
func insert(t *testing.T, db *sql.DB, o *sqloutbox.Outbox, commit bool, evs ...event.Event) {
	t.Helper()
	ctx := t.Context()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if err := o.Insert(ctx, tx, ev); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
	}
	if !commit {
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestPendingDone(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := t.Context()
			db, o := newOutbox(t, e)
			sample := eventtest.Sample()
			insert(t, db, o, true, sample[:2]...)
			insert(t, db, o, false, eventtest.Numbered("test.rolled.back", 1)...)
			insert(t, db, o, true, sample[2:]...)

			recs, err := o.Pending(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, recs, sample)

			if err := o.Done(ctx, []int64{recs[0].ID, recs[2].ID, 1 << 40}); err != nil {
				t.Fatal(err)
			}
			if err := o.Done(ctx, nil); err != nil {
				t.Fatal(err)
			}
			left, err := o.Pending(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, left, []event.Event{sample[1], sample[3]})
		})
	}
}

// checkRecords checks recs hold want in order, with growing ids.
func checkRecords(t *testing.T, recs []event.OutboxRecord, want []event.Event) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("%d pending records, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		if i > 0 && rec.ID <= recs[i-1].ID {
			t.Errorf("record %d has id %d after id %d", i, rec.ID, recs[i-1].ID)
		}
		if d := eventtest.JSONDiff(want[i], rec.Event); d != "" {
			t.Errorf("record %d (-inserted +read):\n%s", i, d)
		}
	}
}

func TestPendingLimitAndLargeDone(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := t.Context()
			db, o := newOutbox(t, e)
			evs := eventtest.Numbered(event.ChunkNew, 1200)
			insert(t, db, o, true, evs...)

			first, err := o.Pending(ctx, 7)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, first, evs[:7])
			all, err := o.Pending(ctx, 5000)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, len(all))
			for i, rec := range all {
				ids[i] = rec.ID
			}
			if err := o.Done(ctx, ids); err != nil { // more ids than one DELETE takes
				t.Fatal(err)
			}
			left, err := o.Pending(ctx, 5000)
			if err != nil || len(left) != 0 {
				t.Fatalf("after Done of every id: %d records left, err %v", len(left), err)
			}
		})
	}
}

// TestIDsNotReused checks that removing the newest record does not give
// its id to the next one: a relay that published it would take the new
// event for the old one.
func TestIDsNotReused(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := t.Context()
			db, o := newOutbox(t, e)
			insert(t, db, o, true, eventtest.Numbered(event.ChunkNew, 1)...)
			recs, err := o.Pending(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Done(ctx, []int64{recs[0].ID}); err != nil {
				t.Fatal(err)
			}
			insert(t, db, o, true, eventtest.Numbered(event.ChunkDeleted, 1)...)
			next, err := o.Pending(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(next) != 1 || next[0].ID <= recs[0].ID {
				t.Fatalf("new record %+v after removed id %d, want a greater id", next, recs[0].ID)
			}
		})
	}
}

func TestInsertRejectsBadType(t *testing.T) {
	db, o := newOutbox(t, engine{"sqlite", openSQLite})
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := o.Insert(t.Context(), tx, event.Event{Type: "no spaces allowed"}); err == nil {
		t.Fatal("Insert accepted an event type the bus refuses")
	}
}

func TestInsertRejectsBadData(t *testing.T) {
	db, o := newOutbox(t, engine{"sqlite", openSQLite})
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ev := event.Event{Type: event.ChunkNew, Data: json.RawMessage(`{not json`)}
	if err := o.Insert(t.Context(), tx, ev); err == nil {
		t.Fatal("Insert accepted data that is not JSON")
	}
}

func TestSchema(t *testing.T) {
	tests := []struct {
		name string
		opts sqloutbox.Options
		want string
	}{
		{"sqlite", sqloutbox.Options{},
			"CREATE TABLE IF NOT EXISTS outbox (\n\tid INTEGER PRIMARY KEY AUTOINCREMENT,\n" +
				"\tevent TEXT NOT NULL\n)"},
		{"postgresql", sqloutbox.Options{Dialect: sqloutbox.PostgreSQL, Table: "meta_outbox"},
			"CREATE TABLE IF NOT EXISTS meta_outbox (\n\tid BIGSERIAL PRIMARY KEY,\n" +
				"\tevent TEXT NOT NULL\n)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := sqloutbox.New(nil, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, o.Schema()); d != "" {
				t.Errorf("schema (-want +got):\n%s", d)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	for _, opts := range []sqloutbox.Options{
		{Table: "outbox; DROP TABLE x"}, {Table: "1outbox"}, {Table: "a-b"},
		{Table: strings.Repeat("t", 64)}, {Dialect: sqloutbox.Dialect(7)},
	} {
		if _, err := sqloutbox.New(nil, opts); err == nil {
			t.Errorf("New accepted %+v", opts)
		}
	}
}
