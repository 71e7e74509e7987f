// Command mem measures the heap a cache needs per entry: it stores n
// entries of a 16-byte string key and an int value in a cache of capacity
// n, and divides the growth of the live heap by n. The keys are allocated
// before the first measurement, so only the cache's own overhead counts.
//
//	go run ./cmd/mem [-n 1000000]            # every implementation, a table
//	go run ./cmd/mem -impl otter -n 1000 -ttl # one measurement
//
// Without -impl it runs itself once per implementation and setting, so that
// each measurement has a fresh heap.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gridkeep/gridkeep/bench/internal/impl"
	"github.com/gridkeep/gridkeep/bench/internal/workload"
)

func main() {
	name := flag.String("impl", "", "implementation to measure; empty for all")
	n := flag.Int("n", 1_000_000, "entries")
	ttl := flag.Bool("ttl", false, "give every entry a time to live")
	flag.Parse()
	var err error
	if *name != "" {
		err = measure(*name, *n, *ttl)
	} else {
		err = table(*n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mem:", err)
		os.Exit(1)
	}
}

var names = []string{"gridkeep", "gridkeep-fifo", "otter", "ristretto", "lru", "2q", "lru-expirable"}

// table prints one row per implementation, measuring each in a child
// process.
func table(n int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("| implementation | bytes/entry | bytes/entry with TTL |\n|---|---:|---:|\n")
	var ours []string
	for _, name := range names {
		cells := make([]string, 2)
		for i, ttl := range []bool{false, true} {
			if ttl && (name == "lru" || name == "2q") || !ttl && name == "lru-expirable" {
				cells[i] = "n/a"
				continue
			}
			out, err := exec.Command(self, "-impl", name, "-n", strconv.Itoa(n),
				"-ttl="+strconv.FormatBool(ttl)).Output()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			cells[i] = strings.TrimSpace(string(out))
		}
		fmt.Printf("| %s | %s | %s |\n", name, cells[0], cells[1])
		if name == "gridkeep" {
			ours = cells
		}
	}
	fmt.Printf("\ngridkeep: %s B/entry (target ≤ 64: %s), %s B/entry with TTL (target ≤ 80: %s).\n",
		ours[0], verdict(ours[0], 64), ours[1], verdict(ours[1], 80))
	return nil
}

func verdict(cell string, limit float64) string {
	v, err := strconv.ParseFloat(cell, 64)
	switch {
	case err != nil:
		return "not measured"
	case v <= limit:
		return "met"
	}
	return fmt.Sprintf("missed by %.1f B", v-limit)
}

// measure prints the heap growth per entry of one implementation.
func measure(name string, n int, ttl bool) error {
	keys := workload.Keys(n)
	before := heap()
	cfg := impl.Config{Capacity: n}
	if ttl {
		cfg.TTL = time.Hour
	}
	c, err := impl.New(name, cfg)
	if err != nil {
		return err
	}
	for i, k := range keys {
		c.Set(k, i)
	}
	impl.Wait(c)
	after := heap()
	runtime.KeepAlive(c)
	runtime.KeepAlive(keys)
	fmt.Printf("%.1f\n", float64(after-before)/float64(n))
	return nil
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
