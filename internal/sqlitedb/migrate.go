package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrSchemaTooNew is returned by Migrate when the database records a schema
// version newer than the steps the code knows: the file was written by a
// newer release and must not be used by this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this program")

// Schema is the schema of one component, as numbered steps. Several schemas
// may live in one database file; their versions are recorded separately.
type Schema struct {
	// Name identifies the component, such as "rdir".
	Name string
	// Steps are DDL (and data fix-up) statements; Steps[i] brings the
	// schema from version i to version i+1. A step may hold several
	// statements separated by semicolons. Released steps are never
	// edited or removed; changes are new steps appended at the end.
	Steps []string
}

const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_version (
	name TEXT PRIMARY KEY,
	version INTEGER NOT NULL
)`

// Migrate applies, in order, the steps of s that the database has not
// recorded yet in its schema_version table. Each step runs in its own
// transaction together with the update of its recorded version, so a step
// is applied entirely and exactly once even if processes migrate
// concurrently or are killed midway. It returns ErrSchemaTooNew if the
// database is ahead of s.
func Migrate(ctx context.Context, db *sql.DB, s Schema) error {
	if s.Name == "" {
		return errors.New("migrate: schema has no name")
	}
	if _, err := db.ExecContext(ctx, createVersionTable); err != nil {
		return fmt.Errorf("migrate %s: %w", s.Name, err)
	}
	for {
		done, err := migrateStep(ctx, db, s)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", s.Name, err)
		}
		if done {
			return nil
		}
	}
}

// migrateStep applies the next missing step, if any, and reports whether
// the schema was already up to date.
func migrateStep(ctx context.Context, db *sql.DB, s Schema) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	v, err := version(ctx, tx, s.Name)
	if err != nil {
		return false, err
	}
	switch {
	case v > len(s.Steps):
		return false, fmt.Errorf("%w: version %d, known %d", ErrSchemaTooNew, v, len(s.Steps))
	case v == len(s.Steps):
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, s.Steps[v]); err != nil {
		return false, fmt.Errorf("step %d: %w", v+1, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_version (name, version) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET version = excluded.version`, s.Name, v+1)
	if err != nil {
		return false, fmt.Errorf("record version %d: %w", v+1, err)
	}
	return false, tx.Commit()
}

// Version returns the schema version of the named component recorded in
// the database, 0 if none.
func Version(ctx context.Context, db *sql.DB, name string) (int, error) {
	var tables int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema
		WHERE type = 'table' AND name = 'schema_version'`).Scan(&tables)
	if err != nil || tables == 0 {
		return 0, err
	}
	v, err := version(ctx, db, name)
	if err != nil {
		return 0, fmt.Errorf("schema version %s: %w", name, err)
	}
	return v, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func version(ctx context.Context, q querier, name string) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}
