package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testSchema = Schema{Name: "test", Steps: []string{
	`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
	 INSERT INTO items (name) VALUES ('seed')`,
	`ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT 0`,
}}

func itemNames(t *testing.T, db *sql.DB) []string {
	t.Helper()
	return column(t, db, "SELECT name FROM items ORDER BY id")
}

// column returns the text values of the only column query selects.
func column(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustVersion(t *testing.T, db *sql.DB, name string) int {
	t.Helper()
	v, err := Version(context.Background(), db, name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateAppliesEachStepOnce(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	if v := mustVersion(t, db, "test"); v != 0 {
		t.Fatalf("version of a new database = %d, want 0", v)
	}
	for range 2 {
		if err := Migrate(ctx, db, testSchema); err != nil {
			t.Fatal(err)
		}
	}
	if v := mustVersion(t, db, "test"); v != 2 {
		t.Errorf("version = %d, want 2", v)
	}
	if diff := cmp.Diff([]string{"seed"}, itemNames(t, db)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

func TestMigrateAppliesOnlyNewSteps(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	first := Schema{Name: "test", Steps: testSchema.Steps[:1]}
	if err := Migrate(ctx, db, first); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO items (name) VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, db, testSchema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE items SET size = 1"); err != nil {
		t.Errorf("second step not applied: %v", err)
	}
	if diff := cmp.Diff([]string{"seed", "kept"}, itemNames(t, db)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	if err := Migrate(ctx, db, testSchema); err != nil {
		t.Fatal(err)
	}
	older := Schema{Name: "test", Steps: testSchema.Steps[:1]}
	if err := Migrate(ctx, db, older); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Migrate with fewer steps = %v, want ErrSchemaTooNew", err)
	}
}

func TestMigrateFailingStepChangesNothing(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	bad := Schema{Name: "test", Steps: []string{
		testSchema.Steps[0],
		`INSERT INTO items (name) VALUES ('half'); INSERT INTO nowhere VALUES (1)`,
	}}
	if err := Migrate(ctx, db, bad); err == nil {
		t.Fatal("Migrate with a failing step succeeded")
	}
	if v := mustVersion(t, db, "test"); v != 1 {
		t.Errorf("version = %d, want 1", v)
	}
	if diff := cmp.Diff([]string{"seed"}, itemNames(t, db)); diff != "" {
		t.Errorf("items after a failed step (-want +got):\n%s", diff)
	}
}

func TestSchemasShareAFile(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	other := Schema{Name: "other", Steps: []string{"CREATE TABLE others (x INTEGER)"}}
	for _, s := range []Schema{testSchema, other} {
		if err := Migrate(ctx, db, s); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{"test": mustVersion(t, db, "test"), "other": mustVersion(t, db, "other")}
	if diff := cmp.Diff(map[string]int{"test": 2, "other": 1}, got); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
}

func TestMigrateRequiresName(t *testing.T) {
	db, _ := openTest(t, Options{})
	if err := Migrate(context.Background(), db, Schema{Steps: testSchema.Steps}); err == nil {
		t.Error("Migrate of an unnamed schema succeeded")
	}
}
