package sqlitedb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The benchmark workload is shaped like the reverse index: text primary
// keys of 64 hexadecimal characters and a handful of small columns.
const benchSchema = `CREATE TABLE IF NOT EXISTS bench (
	cid TEXT NOT NULL,
	chunk TEXT NOT NULL,
	content TEXT NOT NULL,
	path TEXT NOT NULL,
	version INTEGER NOT NULL,
	mtime INTEGER NOT NULL,
	PRIMARY KEY (cid, chunk)
) WITHOUT ROWID`

const benchInsert = `INSERT OR REPLACE INTO bench (cid, chunk, content, path, version, mtime)
	VALUES (?, ?, ?, ?, ?, ?)`

const benchSelect = `SELECT content, path, version, mtime FROM bench WHERE cid = ? AND chunk = ?`

// benchKey returns a deterministic pseudo-random 64-hex-digit key.
func benchKey(prefix string, i int64) string {
	var b [8]byte
	for j := range b {
		b[j] = byte(i >> (8 * j))
	}
	sum := sha256.Sum256(append([]byte(prefix), b[:]...))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// benchCID spreads rows over 16 containers.
func benchCID(i int64) string { return benchKey("cid", i%16) }

func benchInsertRow(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, i int64) error {
	_, err := ex.ExecContext(ctx, benchInsert, benchCID(i), benchKey("chunk", i),
		benchKey("content", i/3)[:32], "some/object/path", int64(1700000000000000)+i, int64(1700000000))
	return err
}

func benchPrepare(b *testing.B, db *sql.DB, rows int64) {
	b.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, benchSchema); err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	for start := int64(0); start < rows; start += batch {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := start; i < start+batch && i < rows; i++ {
			if err := benchInsertRow(ctx, tx, i); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSingleInsert measures one transaction per inserted row.
func benchSingleInsert(b *testing.B, db *sql.DB) {
	benchPrepare(b, db, 0)
	ctx := context.Background()
	b.ResetTimer()
	for i := range int64(b.N) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := benchInsertRow(ctx, tx, i); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchBatchInsert measures transactions of 1000 rows through a prepared
// statement; one op is one transaction.
func benchBatchInsert(b *testing.B, db *sql.DB) {
	benchPrepare(b, db, 0)
	ctx := context.Background()
	const rows = 1000
	b.ResetTimer()
	for n := range int64(b.N) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, benchInsert)
		if err != nil {
			b.Fatal(err)
		}
		for i := n * rows; i < (n+1)*rows; i++ {
			if err := benchInsertRow(ctx, stmtExec{stmt}, i); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

type stmtExec struct{ s *sql.Stmt }

func (s stmtExec) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return s.s.ExecContext(ctx, args...)
}

const benchRows = 20000

// benchPointSelect measures a lookup by primary key in a 20,000-row table.
func benchPointSelect(b *testing.B, db *sql.DB) {
	benchPrepare(b, db, benchRows)
	ctx := context.Background()
	b.ResetTimer()
	for i := range int64(b.N) {
		if err := benchLookup(ctx, db, (i*7919)%benchRows); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLookup(ctx context.Context, db *sql.DB, i int64) error {
	var content, path string
	var version, mtime int64
	return db.QueryRowContext(ctx, benchSelect, benchCID(i), benchKey("chunk", i)).
		Scan(&content, &path, &version, &mtime)
}

// benchMix measures point selects from 4 reader goroutines while one writer
// goroutine commits single-row transactions, with GOMAXPROCS=2. ns/op is per
// read; ns/write is the writer's mean time per committed transaction.
func benchMix(b *testing.B, db *sql.DB) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	benchPrepare(b, db, benchRows)
	ctx, cancel := context.WithCancel(context.Background())
	var writes atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	b.ResetTimer()
	go func() {
		defer wg.Done()
		for i := int64(benchRows); ctx.Err() == nil; i++ {
			if err := benchInsertRow(ctx, db, i); err != nil && ctx.Err() == nil {
				b.Error(err)
				return
			}
			writes.Add(1)
		}
	}()
	var seq atomic.Int64
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			if err := benchLookup(ctx, db, (i*7919)%benchRows); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := b.Elapsed()
	cancel()
	wg.Wait()
	if w := writes.Load(); w > 0 {
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(w), "ns/write")
	}
}

// benchWriters measures 4 goroutines committing single-row transactions
// at once, with GOMAXPROCS=2: SQLite lets one write at a time, so this
// shows how the driver and pool settings cope with lock contention.
func benchWriters(b *testing.B, db *sql.DB) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	benchPrepare(b, db, 0)
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Error(err)
				return
			}
			if err := benchInsertRow(ctx, tx, seq.Add(1)); err != nil {
				b.Error(err)
				tx.Rollback()
				return
			}
			if err := tx.Commit(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchWorkloads lists the workloads every driver is measured on.
var benchWorkloads = []struct {
	name string
	run  func(*testing.B, *sql.DB)
}{
	{"SingleInsertTx", benchSingleInsert},
	{"BatchInsert1000", benchBatchInsert},
	{"PointSelect", benchPointSelect},
	{"ReadersOneWriter", benchMix},
	{"FourWriters", benchWriters},
}
