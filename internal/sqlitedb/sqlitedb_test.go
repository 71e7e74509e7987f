package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func openTest(t *testing.T, opts Options) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

type pragmas struct {
	JournalMode string
	Synchronous int
	BusyTimeout int
	ForeignKeys int
	Checkpoint  int
}

func readPragmas(t *testing.T, conn *sql.Conn) pragmas {
	t.Helper()
	ctx := context.Background()
	var p pragmas
	for _, q := range []struct {
		pragma string
		dst    any
	}{
		{"journal_mode", &p.JournalMode},
		{"synchronous", &p.Synchronous},
		{"busy_timeout", &p.BusyTimeout},
		{"foreign_keys", &p.ForeignKeys},
		{"wal_autocheckpoint", &p.Checkpoint},
	} {
		if err := conn.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.dst); err != nil {
			t.Fatalf("pragma %s: %v", q.pragma, err)
		}
	}
	return p
}

func TestOpenConfiguresEveryConnection(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want pragmas
	}{
		{"zero options", Options{},
			pragmas{JournalMode: "wal", Synchronous: 1, BusyTimeout: 5000, ForeignKeys: 1,
				Checkpoint: DefaultCheckpointPages}},
		{"full sync", Options{Sync: SyncFull, BusyTimeout: 1500 * time.Millisecond,
			CheckpointPages: 500},
			pragmas{JournalMode: "wal", Synchronous: 2, BusyTimeout: 1500, ForeignKeys: 1,
				Checkpoint: 500}},
		{"SQLite's checkpoints", Options{CheckpointPages: -1},
			pragmas{JournalMode: "wal", Synchronous: 1, BusyTimeout: 5000, ForeignKeys: 1,
				Checkpoint: 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTest(t, tt.opts)
			ctx := context.Background()
			// Hold two connections at once so that both the first and a
			// later one of the pool are checked.
			var conns []*sql.Conn
			for range 2 {
				c, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				conns = append(conns, c)
			}
			for i, c := range conns {
				if diff := cmp.Diff(tt.want, readPragmas(t, c)); diff != "" {
					t.Errorf("connection %d pragmas (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		opts Options
	}{
		{"empty path", "", Options{}},
		{"memory", ":memory:", Options{}},
		{"uri", "file:x.db", Options{}},
		{"missing directory", filepath.Join(dir, "no", "such", "x.db"), Options{}},
		{"negative pool", filepath.Join(dir, "a.db"), Options{MaxOpenConns: -1}},
		{"tiny busy timeout", filepath.Join(dir, "b.db"), Options{BusyTimeout: time.Microsecond}},
		{"unknown sync", filepath.Join(dir, "c.db"), Options{Sync: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(context.Background(), tt.path, tt.opts)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q, %+v) succeeded", tt.path, tt.opts)
			}
		})
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a?b#c%41 d.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not created at its exact path: %v", err)
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	db, _ := openTest(t, Options{})
	_, err := db.Exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
		CREATE TABLE child (p INTEGER REFERENCES parent (id))`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO child (p) VALUES (42)"); err == nil {
		t.Error("insert of a dangling reference succeeded")
	}
}

// TestReadThenWriteTransactionsDoNotFail runs many transactions that read
// before they write. With deferred transactions, SQLite refuses the
// upgrade of all but one at once with SQLITE_BUSY; BEGIN IMMEDIATE makes
// them queue instead.
func TestReadThenWriteTransactionsDoNotFail(t *testing.T) {
	db, _ := openTest(t, Options{})
	_, err := db.Exec("CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0)")
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := increment(context.Background(), db); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := db.QueryRow("SELECT n FROM counter").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != workers*rounds {
		t.Errorf("counter = %d, want %d", n, workers*rounds)
	}
}

func increment(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT n FROM counter").Scan(&n); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE counter SET n = ?", n+1); err != nil {
		return err
	}
	return tx.Commit()
}

const killEnv = "SQLITEDB_TEST_KILL_PATH"

// TestCommittedSurvivesKill commits a row in a child process that then
// kills itself without closing the database, and checks the row is there.
func TestCommittedSurvivesKill(t *testing.T) {
	if path := os.Getenv(killEnv); path != "" {
		commitAndDie(path)
		return
	}
	path := filepath.Join(t.TempDir(), "kill.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCommittedSurvivesKill$")
	cmd.Env = append(os.Environ(), killEnv+"="+path)
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRow("SELECT v FROM t").Scan(&got); err != nil {
		t.Fatalf("committed row lost: %v", err)
	}
	if got != "committed" {
		t.Errorf("row = %q, want %q", got, "committed")
	}
}

func commitAndDie(path string) {
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		os.Exit(3)
	}
	tx, err := db.Begin()
	if err != nil {
		os.Exit(4)
	}
	if _, err := tx.Exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('committed')"); err != nil {
		os.Exit(5)
	}
	if err := tx.Commit(); err != nil {
		os.Exit(6)
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// BenchmarkOpen runs the driver comparison workloads on pools made by Open,
// with and without the per-connection statement cache.
func BenchmarkOpen(b *testing.B) {
	for _, w := range benchWorkloads {
		for _, stmts := range []int{DefaultStatements, -1} {
			b.Run(fmt.Sprintf("%s/statements=%d", w.name, max(stmts, 0)), func(b *testing.B) {
				db, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"),
					Options{Statements: stmts})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				w.run(b, db)
			})
		}
	}
}

// TestBackgroundCheckpoint checks that the pool copies committed pages
// from the write-ahead log into the database file by itself: with
// checkpoints by commits pushed out of reach, only the background
// checkpoints write the file.
func TestBackgroundCheckpoint(t *testing.T) {
	db, path := openTest(t, Options{CheckpointPages: 1 << 30,
		CheckpointInterval: time.Millisecond})
	if _, err := db.Exec(`CREATE TABLE t (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO t (v) SELECT printf('%.1000c', 'x')
		FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
		SELECT i FROM n)`); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 500*1000 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 500 {
		t.Fatalf("rows: %d, %v", n, err)
	}
}
