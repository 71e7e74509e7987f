package event_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/eventtest"
	"github.com/gridkeep/gridkeep/internal/event/natsbus"
	"github.com/gridkeep/gridkeep/internal/event/sqloutbox"
)

// BenchmarkRelayFlush measures moving events from a SQLite outbox to the
// embedded bus: read, publish, remove.
func BenchmarkRelayFlush(b *testing.B) {
	ctx := b.Context()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "meta.db")+
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	out, err := sqloutbox.New(db, sqloutbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := out.CreateTable(ctx); err != nil {
		b.Fatal(err)
	}
	bus, err := natsbus.Open(ctx, natsbus.ServerOptions{Dir: b.TempDir()}, natsbus.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close()

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	ev := eventtest.Sample()[1]
	for range b.N {
		if err := out.Insert(ctx, tx, ev); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	n, err := event.NewRelay(out, bus, event.RelayOptions{}).Flush(ctx)
	if err != nil || n != b.N {
		b.Fatalf("Flush = %d, %v; want %d", n, err, b.N)
	}
}
