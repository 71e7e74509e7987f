package object_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/namespace"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

func TestBench(t *testing.T) {
	ctx := context.Background()
	ns, err := namespace.Start(ctx, namespace.Options{Data: t.TempDir(), PortBase: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	dir, _ := meta.NewClient(ns.ProxyURL, meta.ClientOptions{})
	oc := &object.Client{Dir: dir, Rawx: &rawx.Client{}}
	for _, op := range []string{"put", "get"} {
		res, err := oc.Bench(ctx, object.BenchConfig{Op: op, Size: 4096, Concurrency: 2,
			Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond, Policy: "TWOCOPIES"})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK == 0 || res.Errors != 0 || res.Bytes != res.OK*4096 || res.P50 > res.P99 ||
			res.P99 > res.Max {
			t.Errorf("%s: %+v", op, res)
		}
	}
	// A configuration the namespace refuses stops the run at once.
	if _, err := oc.Bench(ctx, object.BenchConfig{Op: "put", Size: 1, Concurrency: 1,
		Duration: time.Minute, Policy: "NOPE"}); !errors.Is(err, object.ErrBenchConfig) {
		t.Errorf("a run with an unknown policy: %v, want ErrBenchConfig", err)
	}
	// So does a directory of another namespace, before any load.
	other, _ := meta.NewClient(ns.ProxyURL, meta.ClientOptions{Namespace: "OTHER"})
	if _, err := (&object.Client{Dir: other, Rawx: &rawx.Client{}}).Bench(ctx, object.BenchConfig{
		Op: "put", Size: 1, Concurrency: 1, Duration: time.Minute}); !errors.Is(err, object.ErrBenchConfig) {
		t.Errorf("a run in an unknown namespace: %v, want ErrBenchConfig", err)
	}
	// Failing puts are counted, and a worker failing again and again
	// pauses longer each time: 10+20+40+80+160 ms fit in 400 ms.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/conscience/list") {
			w.Write([]byte("[]")) // the directory answers, and fails every put
			return
		}
		http.Error(w, `{"status":503,"message":"failing on purpose"}`, http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	failDir, _ := meta.NewClient(failing.URL, meta.ClientOptions{})
	failClient := &object.Client{Dir: failDir, Rawx: &rawx.Client{}}
	res, _ := failClient.Bench(ctx, object.BenchConfig{Op: "put", Size: 1, Concurrency: 1,
		Duration: 400 * time.Millisecond})
	if res == nil || res.OK != 0 || res.Errors == 0 || res.Errors > 8 || res.LastErr == nil {
		t.Errorf("a run of failing puts measured %+v, want 1 to 8 errors", res)
	}
	// A directory that does not answer stops the run before any load.
	down, _ := meta.NewClient("http://127.0.0.1:1", meta.ClientOptions{}) // nothing listens there
	downClient := &object.Client{Dir: down, Rawx: &rawx.Client{}}
	start := time.Now()
	res, err = downClient.Bench(ctx, object.BenchConfig{Op: "put", Size: 1, Concurrency: 1,
		Duration: time.Minute})
	if res != nil || err == nil || !strings.Contains(err.Error(), "directory unreachable") ||
		errors.Is(err, object.ErrBenchConfig) || time.Since(start) > 30*time.Second {
		t.Errorf("a run against no directory: %+v, %v after %s; want no result and the directory "+
			"unreachable at once", res, err, time.Since(start))
	}
	_, err = oc.Bench(ctx, object.BenchConfig{Op: "delete", Concurrency: 1, Duration: time.Second})
	if err == nil {
		t.Error("an unknown operation was accepted")
	}
}
