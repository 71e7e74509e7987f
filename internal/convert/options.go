package convert

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/pace"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// Defaults of Options fields left at zero.
const (
	DefaultConcurrency = 4
	DefaultBatchSize   = 2048
	DefaultCacheSize   = 262144 // entries of each directory cache, as OpenIO
)

// Procs returns how many goroutines a run with concurrency planners
// should let execute at once (GOMAXPROCS): one per planner, at least one
// per CPU, at most four per CPU. A goroutine in a system call keeps its
// processor while the call waits for the disk, as the planners' calls do
// on a cold cache; with no more processors than CPUs, the runtime hands a
// waiting planner's processor over to another thread, tens of microseconds
// later, and the planner must wait for one when its call returns. On a
// cold 2-CPU machine, four planners convert about 25% more chunks per
// second with four processors than with two (see BenchmarkConvertVolume).
func Procs(concurrency int) int {
	n := runtime.NumCPU()
	return max(n, min(concurrency, 4*n))
}

// MaxConcurrency bounds Options.Concurrency: a disk gains nothing from
// more, and each costs memory.
const MaxConcurrency = 256

// Options configure a Converter. Volume and Dir are required; the zero
// value of every other field works.
type Options struct {
	// Volume is the root directory of the chunk volume. It must carry the
	// volume identity attributes (see chunk.CheckVolume).
	Volume string
	// Dir answers the directory questions: which object owns a chunk.
	Dir *meta.Client
	// Rdir is the reverse index of the volume, used to recover chunks whose
	// owner their attributes do not name. Nil means such chunks are
	// reported as orphans.
	Rdir rdir.Store
	// Input, when set, lists the chunks to convert instead of walking the
	// volume: paths relative to the volume (or absolute paths inside it),
	// one per call. It is called twice: once to count, once to convert. A
	// path listed more than once is visited once.
	Input func(yield func(path string, err error) bool)
	// DryRun plans every conversion and reports it, and writes nothing:
	// no attribute, no backup.
	DryRun bool
	// NoBackup skips the backups of original attributes.
	NoBackup bool
	// BackupDir is where backups go; empty means os.TempDir().
	BackupDir string
	// ChunksPerSecond paces the chunks visited; 0 means no limit.
	ChunksPerSecond float64
	// Pacer, when set, paces the chunks visited instead of ChunksPerSecond
	// (which must then be 0): one item per chunk, no bytes. Its rates may
	// change while the run goes on, by its owner or SetChunksPerSecond.
	Pacer *pace.Pacer
	// Concurrency is the number of chunks planned, and of attribute
	// writes, at once; 0 means DefaultConcurrency.
	Concurrency int
	// BatchSize is the least number of chunks made durable together; 0
	// means DefaultBatchSize. Batches grow, up to 16 times, while syncing
	// the volume takes longer than planning a batch.
	BatchSize int
	// CacheSize bounds each directory cache; 0 means DefaultCacheSize.
	CacheSize int
	// CountTotal counts the chunks to visit, in a second walk of the volume
	// (or read of Input) alongside the run, for Progress.
	CountTotal bool
	// ReportInterval is how often OnReport receives a RUN report; 0 means
	// only the final DONE report.
	ReportInterval time.Duration
	// OnStart is called once Run holds the volume's run lock and has made
	// the backup directory, before it visits any chunk; a run refused
	// because another converts the volume does not call it.
	OnStart func()
	// OnReport receives the periodic and final reports. It is called from
	// one goroutine at a time.
	OnReport func(Report)
	// OnResult receives the outcome of every chunk visited, in no
	// particular order. It is called from one goroutine at a time and
	// should return quickly.
	OnResult func(Result)
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Volume == "" {
		return o, errors.New("convert: no volume")
	}
	if o.Dir == nil {
		return o, errors.New("convert: no directory client")
	}
	if o.ChunksPerSecond < 0 || o.Concurrency < 0 || o.BatchSize < 0 || o.CacheSize < 0 ||
		o.ReportInterval < 0 {
		return o, fmt.Errorf("convert: negative pacing, concurrency, batch, cache or interval")
	}
	if o.Concurrency > MaxConcurrency {
		return o, fmt.Errorf("convert: concurrency %d over %d", o.Concurrency, MaxConcurrency)
	}
	if o.Pacer != nil && o.ChunksPerSecond != 0 {
		return o, errors.New("convert: give ChunksPerSecond or a Pacer, not both")
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
