package rebuild_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rebuild"
)

const benchConcurrency = 4

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkRebuildVolume loses a volume (its chunk files deleted) and
// rebuilds it from the reverse index, each round another volume; the
// ceiling, measured in the same round before the loss, streams the same
// chunks from their surviving copy to another chunk server (GET then PUT,
// as "gridkeep bench rawx" does) and nothing else. Run it with
// -benchtime=1x; GRIDKEEP_BENCH_OBJECTS sets the two-copy 4 MiB objects
// (96) and GRIDKEEP_BENCH_ROUNDS the rounds (4).
func BenchmarkRebuildVolume(b *testing.B) {
	f := integritytest.StartSized(b, 4, 4<<20)
	f.Write(envInt("GRIDKEEP_BENCH_OBJECTS", 96), func(i int) object.Name {
		return object.Name{Account: "bench", Container: "c", Path: fmt.Sprintf("o%05d", i)}
	}, func(int) (int, string) { return 4 << 20, "TWOCOPIES" })
	f.WaitIndexed()
	var copyTime, rebuildTime, copyCPU, rebuildCPU time.Duration
	var copied, rebuilt int64
	rounds := envInt("GRIDKEEP_BENCH_ROUNDS", 4)
	b.ResetTimer()
	for i := range b.N * rounds {
		lost := f.NS.Rawx[i%len(f.NS.Rawx)]
		plan := copyPlan(b, f, lost.ServiceID)
		start, cpu := time.Now(), cpuTime()
		copied += copyAll(b, f, plan)
		copyTime, copyCPU = copyTime+time.Since(start), copyCPU+cpuTime()-cpu
		b.StopTimer()
		removeCopies(b, f, plan)
		if err := chunk.WalkChunks(lost.Volume, os.Remove); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, cpu = time.Now(), cpuTime()
		st, _ := rebuildVolume(b, f, rebuild.Options{Concurrency: benchConcurrency}, lost.ServiceID)
		rebuildTime, rebuildCPU = rebuildTime+time.Since(start), rebuildCPU+cpuTime()-cpu
		if st.Failed+st.Irreparable != 0 {
			b.Fatalf("rebuild of %s: %+v", lost.ServiceID, st)
		}
		rebuilt += st.Bytes
	}
	b.StopTimer()
	rebuildRate := float64(rebuilt) / rebuildTime.Seconds() / 1e6
	copyRate := float64(copied) / copyTime.Seconds() / 1e6
	b.ReportMetric(rebuildRate, "rebuild-MB/s")
	b.ReportMetric(copyRate, "copy-MB/s")
	b.ReportMetric(rebuildRate/copyRate, "ratio")
	b.ReportMetric(float64(rebuilt)/rebuildCPU.Seconds()/1e6, "rebuild-MB/cpu-s")
	b.ReportMetric(float64(copied)/copyCPU.Seconds()/1e6, "copy-MB/cpu-s")
}

// cpuTime returns the CPU time the process (namespace included) used so
// far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// transfer is one chunk copy of the ceiling: from a surviving copy to a
// chunk server that holds none, under a new id.
type transfer struct {
	from, to string
	meta     *chunk.Meta
	size     int64
}

// copyPlan returns a transfer for each chunk the volume holds.
func copyPlan(b *testing.B, f *integritytest.Fixture, lost string) []transfer {
	var plan []transfer
	for _, n := range f.Objects {
		o := f.Locate(n)
		for _, c := range o.Chunks {
			if c.Host() != lost {
				continue
			}
			src, dst := survivor(o, c), freeServer(f, o, c, len(plan))
			if src.URL == "" || dst == "" {
				b.Fatalf("no source or target for %s", c.URL)
			}
			id := make([]byte, 32)
			rand.Read(id)
			plan = append(plan, transfer{from: src.RealURL,
				to: rawx.ChunkURL(dst, strings.ToUpper(hex.EncodeToString(id))), size: c.Size,
				meta: &chunk.Meta{Position: c.Pos, Hash: c.Hash, ChunkMethod: o.ChunkMethod,
					StoragePolicy: o.Policy, Fullpath: chunk.Fullpath{Account: n.Account,
						Container: n.Container, Path: n.Path, Version: o.Version,
						ContentID: o.ContentID}}})
		}
	}
	return plan
}

// survivor returns another copy at c's position.
func survivor(o *meta.Object, c meta.Chunk) meta.Chunk {
	for _, s := range o.Chunks {
		if s.Pos == c.Pos && s.URL != c.URL {
			return s
		}
	}
	return meta.Chunk{}
}

// freeServer returns the address of a chunk server holding no copy at c's
// position, the i-th of them in turn, to spread the writes as a rebuild
// does.
func freeServer(f *integritytest.Fixture, o *meta.Object, c meta.Chunk, i int) string {
	used := map[string]bool{}
	for _, s := range o.Chunks {
		if s.Pos == c.Pos {
			used[s.Host()] = true
		}
	}
	var free []string
	for _, r := range f.NS.Rawx {
		if !used[r.ServiceID] {
			free = append(free, r.Addr)
		}
	}
	if len(free) == 0 {
		return ""
	}
	return free[i%len(free)]
}

// copyAll runs the plan from benchConcurrency workers and returns the
// bytes copied.
func copyAll(b *testing.B, f *integritytest.Fixture, plan []transfer) int64 {
	var next atomic.Int64
	var total atomic.Int64
	var wg sync.WaitGroup
	var rc rawx.Client
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(plan)) {
					return
				}
				t := plan[i]
				body, _, err := rc.Get(f.Ctx, t.from, 0, -1)
				if err != nil {
					b.Error(err)
					return
				}
				_, err = rc.Put(f.Ctx, t.to, t.meta, body, t.size)
				body.Close()
				if err != nil {
					b.Error(err)
					return
				}
				total.Add(t.size)
			}
		}()
	}
	wg.Wait()
	return total.Load()
}

func removeCopies(b *testing.B, f *integritytest.Fixture, plan []transfer) {
	var rc rawx.Client
	for _, t := range plan {
		if err := rc.Delete(f.Ctx, t.to); err != nil {
			b.Fatal(err)
		}
	}
}
