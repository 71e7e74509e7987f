package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func openGroupTest(t *testing.T) (*sql.DB, *WriteGroup) {
	t.Helper()
	db, _ := openTest(t, Options{})
	if _, err := db.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return db, NewWriteGroup(db, WriteGroupOptions{})
}

func insert(k string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (k) VALUES (?)`, k)
		return err
	}
}

func keys(t *testing.T, db *sql.DB) []string {
	t.Helper()
	return column(t, db, `SELECT k FROM t ORDER BY k`)
}

// holdGroup starts a call that holds the group until release is closed,
// and returns once it runs; its error is sent on the returned channel.
func holdGroup(g *WriteGroup, release <-chan struct{}) <-chan error {
	running := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- g.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			close(running)
			<-release
			return insert("held")(ctx, tx)
		})
	}()
	<-running
	return errc
}

// waitQueued waits until n calls wait behind the running one.
func waitQueued(t *testing.T, g *WriteGroup, n int) {
	t.Helper()
	for {
		g.mu.Lock()
		k := len(g.queue)
		g.mu.Unlock()
		if k >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// group runs fns behind a held call, so that they share one transaction,
// and returns their errors in order.
func group(t *testing.T, g *WriteGroup, fns ...func(context.Context, *sql.Tx) error) []error {
	t.Helper()
	release := make(chan struct{})
	held := holdGroup(g, release)
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = g.Do(context.Background(), fn) })
		waitQueued(t, g, i+1) // keep the order of fns
	}
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatalf("held call: %v", err)
	}
	return errs
}

func TestWriteGroupConcurrentCallers(t *testing.T) {
	db, g := openGroupTest(t)
	var want []string
	errs := make([]error, 40)
	var wg sync.WaitGroup
	for i := range errs {
		k := fmt.Sprintf("k%02d", i)
		want = append(want, k)
		wg.Go(func() { errs[i] = g.Do(context.Background(), insert(k)) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, keys(t, db)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestWriteGroupFailureUndoesOnlyItsCaller(t *testing.T) {
	db, g := openGroupTest(t)
	boom := errors.New("boom")
	errs := group(t, g, insert("a"),
		func(ctx context.Context, tx *sql.Tx) error {
			if err := insert("b")(ctx, tx); err != nil {
				return err
			}
			return boom
		},
		insert("a"), // conflicts with the first: a statement error
		insert("c"))
	if errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] == nil || errs[3] != nil {
		t.Errorf("errors: %v", errs)
	}
	if diff := cmp.Diff([]string{"a", "c", "held"}, keys(t, db)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestWriteGroupSpoiledTransactionFailsEveryone(t *testing.T) {
	db, g := openGroupTest(t)
	errs := group(t, g, insert("a"),
		func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "ROLLBACK") // ends the shared transaction
			return err
		},
		insert("c"))
	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d: no error, though nothing was committed", i)
		}
	}
	if got := keys(t, db); slices.Contains(got, "a") || slices.Contains(got, "c") {
		t.Errorf("rows: %v", got)
	}
	if err := g.Do(context.Background(), insert("d")); err != nil {
		t.Fatalf("next call: %v", err)
	}
	if got := keys(t, db); !slices.Contains(got, "d") {
		t.Errorf("rows after the next call: %v", got)
	}
}

func TestWriteGroupCanceledWhileQueued(t *testing.T) {
	db, g := openGroupTest(t)
	release := make(chan struct{})
	held := holdGroup(g, release)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.Do(ctx, insert("canceled")) }()
	waitQueued(t, g, 1)
	cancel()
	close(release)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled call: %v", err)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"held"}, keys(t, db)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestWriteGroupPanicStaysWithItsCaller(t *testing.T) {
	db, g := openGroupTest(t)
	release := make(chan struct{})
	held := holdGroup(g, release)
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		g.Do(context.Background(), func(context.Context, *sql.Tx) error { panic("oops") })
	}()
	waitQueued(t, g, 1)
	other := make(chan error, 1)
	go func() { other <- g.Do(context.Background(), insert("b")) }()
	waitQueued(t, g, 2)
	close(release)
	if p := <-panicked; p != "oops" {
		t.Errorf("recovered %v, want the panic of the call", p)
	}
	if err := <-other; err != nil {
		t.Errorf("other call: %v", err)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b", "held"}, keys(t, db)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestWriteGroupMaxSize(t *testing.T) {
	db, _ := openGroupTest(t)
	g := NewWriteGroup(db, WriteGroupOptions{MaxSize: 2})
	var txs []*sql.Tx
	var mu sync.Mutex
	record := func(k string) func(context.Context, *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			mu.Lock()
			txs = append(txs, tx)
			mu.Unlock()
			return insert(k)(ctx, tx)
		}
	}
	errs := group(t, g, record("a"), record("b"), record("c"))
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(txs) != 3 || txs[0] != txs[1] || txs[1] == txs[2] {
		t.Errorf("transactions of a, b, c: %p %p %p; want a and b together, c apart",
			txs[0], txs[1], txs[2])
	}
}
