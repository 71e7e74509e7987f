//go:build sqlitebench

package sqlitedb

// This file compares the three SQLite drivers for database/sql on the same
// workloads. It is kept out of normal builds so that only the chosen driver
// is linked. Both mattn/go-sqlite3 and ncruces/go-sqlite3 register the
// driver name "sqlite3", so the ncruces registration is switched off at
// link time and its sql.DB is opened through driver.Open:
//
//	go test -tags sqlitebench \
//	  -ldflags=-X=github.com/ncruces/go-sqlite3/driver.driverName= \
//	  -run '^$' -bench Driver -benchtime 2s ./internal/sqlitedb/

import (
	"database/sql"
	"path/filepath"
	"testing"

	mattn "github.com/mattn/go-sqlite3"
	ncruces "github.com/ncruces/go-sqlite3/driver"
	_ "modernc.org/sqlite"
)

// benchDrivers opens a database file with WAL, synchronous=NORMAL, a busy
// timeout of 5 s, foreign keys and BEGIN IMMEDIATE, with each driver's own
// DSN syntax.
var benchDrivers = []struct {
	name string
	open func(path string) (*sql.DB, error)
}{
	{"mattn", func(path string) (*sql.DB, error) {
		return sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL"+
			"&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate")
	}},
	{"modernc", func(path string) (*sql.DB, error) {
		return sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)"+
			"&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)"+
			"&_pragma=foreign_keys(1)&_txlock=immediate")
	}},
	{"ncruces", func(path string) (*sql.DB, error) {
		return ncruces.Open("file:" + path + "?_pragma=journal_mode(WAL)" +
			"&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)" +
			"&_pragma=foreign_keys(1)&_txlock=immediate")
	}},
}

var _ = mattn.SQLiteDriver{}

func BenchmarkDriver(b *testing.B) {
	for _, w := range benchWorkloads {
		b.Run(w.name, func(b *testing.B) {
			for _, d := range benchDrivers {
				b.Run(d.name, func(b *testing.B) {
					db, err := d.open(filepath.Join(b.TempDir(), "bench.db"))
					if err != nil {
						b.Fatal(err)
					}
					defer db.Close()
					db.SetMaxOpenConns(8)
					db.SetMaxIdleConns(8)
					w.run(b, db)
				})
			}
		})
	}
}
