package convert_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/namespace"
)

// The benchmarks of this file compare the converter with ceilings measured
// in the same run on the same volume of legacy chunks (8 attributes each:
// the five grid owner keys, position, chunk method and storage policy),
// 100 chunks of each object on the volume, so that the directory is asked
// once per 100 chunks, as when a volume holds large objects.
// The volume is made once and kept (GRIDKEEP_CONVERT_BENCH_DIR, default
// under the system temporary directory, GRIDKEEP_CONVERT_BENCH_CHUNKS
// chunks, default 200,000), because mass file creation and deletion slow
// some filesystems down for minutes; each step puts the legacy keys back.
// Run them one iteration each:
//
//	go test -run '^$' -bench ConvertVolume -benchtime 1x ./internal/convert/
//
// The cold-cache steps drop the kernel's caches (root only) and are
// skipped otherwise.

const (
	benchPerObject = 100 // chunks of each object on the volume
	benchVolumeID  = "bench-rawx"
	benchContainer = "bench"
)

// benchVolume is the kept volume and the namespace that knows its objects.
type benchVolume struct {
	vol    string
	ns     *namespace.Namespace
	dir    *meta.Client
	paths  []string
	owners []converttest.Owner // of each path
}

func BenchmarkConvertVolume(b *testing.B) {
	bv := openBenchVolume(b)
	conc := convert.DefaultConcurrency
	// Ceilings and runs alike get the processors the command gives a run.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(convert.Procs(conc)))
	b.Logf("%d chunks, concurrency %d, GOMAXPROCS %d, load: %s", len(bv.paths), conc,
		runtime.GOMAXPROCS(0), loadAverage())
	// Read every chunk once, untimed, so that the first warm step finds
	// the page cache warm whatever ran before.
	bv.ceiling(b, conc, false)
	var ceiling float64
	b.Run("ceiling-warm", func(b *testing.B) {
		ceiling = bv.measure(b, func() { bv.ceiling(b, conc, true) })
		bv.reset(b)
	})
	rates := map[bool]float64{}
	for _, backup := range []bool{false, true} {
		b.Run("convert-warm-backup="+strconv.FormatBool(backup), func(b *testing.B) {
			rates[backup] = bv.measure(b, func() { bv.convert(b, conc, !backup) })
			b.ReportMetric(100*rates[backup]/ceiling, "%ceiling")
			bv.reset(b)
		})
	}
	// Other work on the machine moves the figures: measure the ceiling
	// again and compare with the mean of both.
	b.Run("ceiling-warm-again", func(b *testing.B) {
		again := bv.measure(b, func() { bv.ceiling(b, conc, true) })
		bv.reset(b)
		mean := (ceiling + again) / 2
		b.Logf("warm: convert at %.0f%% (no backup) and %.0f%% (backups) of the mean ceiling "+
			"%.0f chunks/s; load: %s", 100*rates[false]/mean, 100*rates[true]/mean, mean, loadAverage())
	})
	if !canDropCaches() {
		b.Log("not root: cold-cache steps skipped")
		return
	}
	var coldRead, coldWrite float64
	b.Run("ceiling-read-cold", func(b *testing.B) {
		dropCaches(b)
		coldRead = bv.measure(b, func() { bv.ceiling(b, conc, false) })
	})
	b.Run("ceiling-cold", func(b *testing.B) {
		dropCaches(b)
		coldWrite = bv.measure(b, func() { bv.ceiling(b, conc, true) })
		bv.reset(b)
	})
	b.Run("convert-cold-backup=false", func(b *testing.B) {
		dropCaches(b)
		rate := bv.measure(b, func() { bv.convert(b, conc, true) })
		b.ReportMetric(100*rate/coldRead, "%read-ceiling")
		b.ReportMetric(100*rate/coldWrite, "%ceiling")
		bv.reset(b)
	})
}

// measure runs f b.N times and reports chunks per second, and the CPU
// time of this process (user and system, the namespace's included) per
// chunk.
func (bv *benchVolume) measure(b *testing.B, f func()) float64 {
	b.ResetTimer()
	cpu := cpuTime(b)
	start := time.Now()
	for range b.N {
		f()
	}
	chunks := float64(len(bv.paths) * b.N)
	rate := chunks / time.Since(start).Seconds()
	b.ReportMetric(float64((cpuTime(b)-cpu).Microseconds())/chunks, "cpu-µs/chunk")
	b.ReportMetric(rate, "chunks/s")
	b.ReportMetric(0, "ns/op")
	return rate
}

// convert runs the converter on the whole volume, unpaced.
func (bv *benchVolume) convert(b *testing.B, conc int, noBackup bool) {
	backups := b.TempDir()
	c, err := convert.New(convert.Options{Volume: bv.vol, Dir: bv.dir, NoBackup: noBackup,
		BackupDir: backups, Concurrency: conc})
	if err != nil {
		b.Fatal(err)
	}
	s, err := c.Run(context.Background())
	if err != nil || s.Converted != int64(len(bv.paths)) {
		b.Fatalf("%v: %+v", err, s)
	}
	b.Logf("%d syncs of the volume took %s", s.Syncs, s.SyncTime)
	b.StopTimer()
	os.RemoveAll(backups)
	b.StartTimer()
}

// ceiling walks the volume like the converter and, for each chunk, reads
// every attribute and, with write, sets the fullpath and removes the five
// grid keys, with no sync at all.
func (bv *benchVolume) ceiling(b *testing.B, conc int, write bool) {
	paths := make(chan string, 4*conc)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range paths {
				if err := ceilingOne(p, write); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	chunk.WalkByInode(bv.vol, convert.WalkWindow, nil, func(f chunk.File) error { paths <- f.Path; return nil })
	close(paths)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d chunks failed", n)
	}
}

func ceilingOne(p string, write bool) error {
	attrs, err := chunk.ReadAttrs(p)
	if err != nil || !write {
		return err
	}
	id := filepath.Base(p)
	var fp string
	for _, a := range attrs {
		if a.Name == chunk.AttrLegacyPath {
			fp = a.Value // a value of about the size of a fullpath
		}
	}
	if err := unix.Lsetxattr(p, chunk.AttrFullpathPrefix+id, []byte(fp+"/0/0"), 0); err != nil {
		return err
	}
	for _, name := range chunk.LegacyOwnerAttrs {
		if err := unix.Lremovexattr(p, name); err != nil {
			return err
		}
	}
	return nil
}

// reset puts the legacy keys back on every chunk, untimed.
func (bv *benchVolume) reset(b *testing.B) {
	b.StopTimer()
	defer b.StartTimer()
	var wg sync.WaitGroup
	var next atomic.Int64
	var failed atomic.Value
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(bv.paths); i = int(next.Add(1) - 1) {
				p := bv.paths[i]
				l := converttest.ForEra(converttest.EraGrid, filepath.Base(p), bv.owners[i])
				if err := converttest.Apply(p, l, filepath.Base(p)); err != nil {
					failed.Store(err)
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	bv.settle(b)
}

// openBenchVolume opens the kept benchmark volume, making it first if it
// is not there, and starts a namespace on its kept directory.
func openBenchVolume(b *testing.B) *benchVolume {
	n := 200000
	if s := os.Getenv("GRIDKEEP_CONVERT_BENCH_CHUNKS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	root := os.Getenv("GRIDKEEP_CONVERT_BENCH_DIR")
	if root == "" {
		root = filepath.Join(os.TempDir(), "gridkeep-convert-bench-"+strconv.Itoa(n))
	}
	ns, err := namespace.Start(context.Background(), namespace.Options{Data: filepath.Join(root, "ns"),
		PortBase: -1, Rawx: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ns.Close() })
	dir, err := meta.NewClient(ns.ProxyURL, meta.ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	bv := &benchVolume{vol: filepath.Join(root, "vol"), ns: ns, dir: dir}
	ready := filepath.Join(root, "ready")
	if _, err := os.Stat(ready); errors.Is(err, os.ErrNotExist) {
		start := time.Now()
		if err := bv.build(n); err != nil {
			b.Fatal(err)
		}
		must(b, os.WriteFile(ready, nil, 0o644))
		b.Logf("benchmark volume of %d chunks made in %s", n, time.Since(start))
	}
	bv.load(n)
	if len(bv.paths) != n {
		b.Fatalf("%d chunks on the benchmark volume, want %d: remove %s", len(bv.paths), n, root)
	}
	bv.settle(b)
	return bv
}

// settle writes the volume's pending changes to disk, untimed, so that
// each measured step starts on a warm page cache with nothing dirty: the
// kernel writing back the previous step's changes meanwhile would slow it,
// and the converter's syncs would pay for them.
func (bv *benchVolume) settle(b *testing.B) {
	fd, err := unix.Open(bv.vol, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		b.Fatal(err)
	}
}

// build registers objects of benchPerObject chunks each, n chunks in all,
// in the directory and writes their chunk files, in the legacy format.
func (bv *benchVolume) build(n int) error {
	if err := converttest.NewVolume(bv.vol, "OPENIO", benchVolumeID); err != nil {
		return err
	}
	ctx := context.Background()
	if _, err := bv.dir.ContainerCreate(ctx, "acct", benchContainer, nil, nil); err != nil {
		return err
	}
	for i := range n / benchPerObject {
		o, ids := benchObject(i, benchPerObject)
		if _, err := bv.dir.ContentCreate(ctx, "acct", benchContainer, o); err != nil {
			return err
		}
		owner := converttest.Owner{Account: "acct", Container: benchContainer, Path: o.Name,
			Version: o.Version, ContentID: o.ContentID}
		for j, id := range ids {
			attrs := append([]chunk.Attr{
				{Name: chunk.AttrPosition, Value: strconv.Itoa(j)},
				{Name: chunk.AttrChunkMethod, Value: "plain/cca=blake3,nb_copy=1"},
				{Name: chunk.AttrStoragePolicy, Value: "SINGLE"},
			}, converttest.ForEra(converttest.EraGrid, id, owner).Attrs()...)
			if _, err := converttest.WriteChunk(bv.vol, id, nil, attrs); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchObject returns object i of the benchmark and its chunk ids.
func benchObject(i, per int) (*meta.Object, []string) {
	name := fmt.Sprintf("objects/%05d", i)
	version := int64(1700000000000000 + i)
	cid := chunk.ContainerID("acct", benchContainer)
	o := &meta.Object{Name: name, Version: version, ContentID: fmt.Sprintf("%032X", i+1),
		Policy: "SINGLE", ChunkMethod: "plain/cca=blake3,nb_copy=1"}
	var ids []string
	for j := range per {
		id := meta.ChunkID(cid, name, version, strconv.Itoa(j), "SINGLE")
		ids = append(ids, id)
		o.Chunks = append(o.Chunks, meta.Chunk{URL: "http://" + benchVolumeID + "/" + id,
			Pos: strconv.Itoa(j), Hash: strings.Repeat("0", 64)})
	}
	return o, ids
}

// load lists the chunks of the kept volume and their owners.
func (bv *benchVolume) load(n int) {
	for i := range n / benchPerObject {
		o, ids := benchObject(i, benchPerObject)
		for _, id := range ids {
			bv.paths = append(bv.paths, converttest.ChunkPath(bv.vol, id))
			bv.owners = append(bv.owners, converttest.Owner{Account: "acct", Container: benchContainer,
				Path: o.Name, Version: o.Version, ContentID: o.ContentID})
		}
	}
}

// cpuTime returns the user and system time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func canDropCaches() bool { return os.Geteuid() == 0 }

// dropCaches empties the page, dentry and inode caches, untimed.
func dropCaches(b *testing.B) {
	b.StopTimer()
	defer b.StartTimer()
	unix.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0o200); err != nil {
		b.Fatal(err)
	}
}

func loadAverage() string {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
