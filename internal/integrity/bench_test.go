package integrity_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// The benchmarks build a namespace, then alternate a check with its
// ceiling, the same chunk server requests in a tight loop, so that both
// see the same machine load; run them with -benchtime=1x (each run builds
// its namespace). Rates per CPU second count the CPU time of the whole
// process, namespace included, and do not depend on other load on the
// machine. Sizes come from the environment:
//
//	GRIDKEEP_BENCH_OBJECTS   objects of the metadata benchmark (8000, three
//	                         copies of one chunk each)
//	GRIDKEEP_BENCH_HASHED    8 MiB chunks of the checksum benchmark (96)
//	GRIDKEEP_BENCH_ROUNDS    rounds of each measure per run (3)
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

const benchConcurrency = 16

// BenchmarkCheckMetadata checks a namespace of small three-copy objects
// without checksums, against HEAD of every chunk in a tight loop.
func BenchmarkCheckMetadata(b *testing.B) {
	f := benchNamespace(b, 4, integritytest.ChunkSize, envInt("GRIDKEEP_BENCH_OBJECTS", 8000), 1,
		"THREECOPIES")
	compareWithHeads(b, f, false)
}

// BenchmarkCheckChecksum checks 8 MiB chunks with checksums, against HEAD
// with X-oio-check-hash of every chunk in a tight loop: the chunk servers'
// own hashing rate.
func BenchmarkCheckChecksum(b *testing.B) {
	f := benchNamespace(b, 3, 8<<20, envInt("GRIDKEEP_BENCH_HASHED", 96), 8<<20, "SINGLE")
	compareWithHeads(b, f, true)
}

// benchNamespace starts a namespace and writes n objects of size bytes.
func benchNamespace(b *testing.B, rawxCount int, chunkSize int64, n, size int,
	policy string) *integritytest.Fixture {
	b.Helper()
	f := integritytest.StartSized(b, rawxCount, chunkSize)
	f.Write(n, func(i int) object.Name {
		return object.Name{Account: "bench", Container: "c" + strconv.Itoa(i%8),
			Path: fmt.Sprintf("o%06d", i)}
	}, func(int) (int, string) { return size, policy })
	f.WaitIndexed()
	return f
}

// compareWithHeads alternates full checks and ceiling loops and reports
// both rates and their ratio.
func compareWithHeads(b *testing.B, f *integritytest.Fixture, checksum bool) {
	urls, bytes := chunkAddresses(b, f)
	opts := integrity.Options{Checksum: checksum, Concurrency: benchConcurrency}
	var checkTime, headTime, checkCPU, headCPU time.Duration
	var chunks int64
	rounds := envInt("GRIDKEEP_BENCH_ROUNDS", 3)
	b.ResetTimer()
	for range b.N * rounds {
		c, err := integrity.New(f.NS.ProxyURL, opts)
		if err != nil {
			b.Fatal(err)
		}
		start, cpu := time.Now(), cpuTime()
		st, err := c.Run(f.Ctx, []integrity.Target{{}})
		checkTime, checkCPU = checkTime+time.Since(start), checkCPU+cpuTime()-cpu
		if err != nil || st.Problems() != 0 {
			b.Fatalf("check: %v, %d problems", err, st.Problems())
		}
		chunks += st.Chunks.Checked
		start, cpu = time.Now(), cpuTime()
		headLoop(b, f.Ctx, urls, checksum)
		headTime, headCPU = headTime+time.Since(start), headCPU+cpuTime()-cpu
	}
	b.StopTimer()
	n := float64(b.N * rounds)
	checkRate := float64(chunks) / checkTime.Seconds()
	headRate := n * float64(len(urls)) / headTime.Seconds()
	b.ReportMetric(checkRate, "check-chunks/s")
	b.ReportMetric(headRate, "head-chunks/s")
	b.ReportMetric(float64(chunks)/checkCPU.Seconds(), "check-chunks/cpu-s")
	b.ReportMetric(n*float64(len(urls))/headCPU.Seconds(), "head-chunks/cpu-s")
	if checksum {
		b.ReportMetric(float64(chunks)/float64(len(urls))*float64(bytes)/checkTime.Seconds()/1e6,
			"check-MB/s")
		b.ReportMetric(n*float64(bytes)/headTime.Seconds()/1e6, "head-MB/s")
	}
	b.ReportMetric(checkRate/headRate, "ratio")
}

// chunkAddresses returns the address URL of every chunk of the fixture
// and their total size.
func chunkAddresses(b *testing.B, f *integritytest.Fixture) ([]string, int64) {
	var urls []string
	var total int64
	for _, n := range f.Objects {
		for _, c := range f.Locate(n).Chunks {
			urls = append(urls, c.RealURL)
			total += c.Size
		}
	}
	return urls, total
}

// headLoop sends HEAD for every URL from benchConcurrency workers over
// keep-alive connections: the least a check must do.
func headLoop(b *testing.B, ctx context.Context, urls []string, checkHash bool) {
	hc := &http.Client{Transport: rawx.DefaultTransport}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(urls)) {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodHead, urls[i], nil)
				if checkHash {
					req.Header[rawx.HdrCheckHash] = []string{"true"}
				}
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("HEAD %s: %d", urls[i], resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
}

// cpuTime returns the CPU time the process used so far, user and system:
// the chunk servers and the directory run in it too, so that a rate per
// CPU second says what the whole namespace spends, whatever else runs on
// the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
