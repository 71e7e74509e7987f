package convert

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// Outcome is what happened to one chunk.
type Outcome int

// Outcomes of a chunk.
const (
	// Converted: the chunk now has the current format (or would have, in
	// a dry run).
	Converted Outcome = iota
	// Current: the chunk already had the current format; nothing was done.
	Current
	// Orphan: the chunk, or a name sharing its inode, belongs to no object
	// the directory knows on this volume; nothing was done.
	Orphan
	// Failed: the chunk could not be converted (unreadable, corrupt, a
	// directory error); nothing was done on it.
	Failed
	// NotChunk: the path named in the input is not a chunk file, or a file
	// of the volume is named by a chunk id not in uppercase (its chunk
	// server never finds it); skipped.
	NotChunk
)

var outcomeNames = [...]string{"converted", "current", "orphan", "failed", "not-a-chunk"}

// String returns the outcome's name as in reports and JSON.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// MarshalText makes outcomes read as their names in JSON.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Result is the outcome of one chunk file.
type Result struct {
	Path    string       `json:"path"`
	ChunkID string       `json:"chunk_id,omitempty"`
	Outcome Outcome      `json:"outcome"`
	Format  chunk.Format `json:"format,omitempty"` // before conversion
	// Set and Remove are the attribute changes, made or (in a dry run)
	// planned.
	Set    []chunk.Attr `json:"set,omitempty"`
	Remove []string     `json:"remove,omitempty"`
	// Recovered says the owner was found through the reverse index.
	Recovered bool `json:"recovered,omitempty"`
	// Err says why an orphan or failed chunk was left as it was.
	Err error `json:"-"`
}

// Reason returns the text of Err, or "".
func (r Result) Reason() string {
	if r.Err == nil {
		return ""
	}
	// Joined errors read as one line.
	return strings.ReplaceAll(r.Err.Error(), "\n", "; ")
}

// ErrOrphan is the class of errors that make a chunk an orphan: its object
// is gone, does not list it on this volume, or a name that should share its
// inode does not. Test for it with errors.Is.
var ErrOrphan = errors.New("orphan chunk")

func orphanf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrOrphan, fmt.Sprintf(format, args...))
}

// Summary counts the outcomes of a run.
type Summary struct {
	Volume    string        `json:"volume"`
	Started   time.Time     `json:"started"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	DryRun    bool          `json:"dry_run,omitempty"`
	Chunks    int64         `json:"chunks"` // chunk files visited
	Converted int64         `json:"converted"`
	Current   int64         `json:"current"`
	Orphans   int64         `json:"orphans"`
	Failed    int64         `json:"failed"`
	NotChunks int64         `json:"not_chunks,omitempty"`
	Recovered int64         `json:"recovered"` // converted through the reverse index
	BackupDir string        `json:"backup_dir,omitempty"`
	// Syncs counts the syncs of the volume's filesystem, and SyncTime is
	// the time they took.
	Syncs    int64         `json:"syncs"`
	SyncTime time.Duration `json:"sync_ns"`
}

// Errors counts the chunks left unconverted: orphans and failures.
func (s Summary) Errors() int64 { return s.Orphans + s.Failed }

// Report is a progress report of a run, with the fields of OpenIO's
// converter report line.
type Report struct {
	Final     bool // DONE rather than RUN
	Volume    string
	Started   time.Time
	Passes    int64         // chunks since the previous report
	Errors    int64         // chunks left unconverted so far
	Chunks    int64         // chunks visited so far
	Rate      float64       // Chunks per second of TotalTime: the rate of the run so far
	TotalTime time.Duration // since the start of the run
}

// SuccessPercent is the share of visited chunks not left unconverted.
func (r Report) SuccessPercent() float64 {
	if r.Chunks == 0 {
		return 100
	}
	return 100 * float64(r.Chunks-r.Errors) / float64(r.Chunks)
}

// Line formats the report like OpenIO's converter:
// "RUN  <volume> started=... passes=... errors=... chunks=... <rate>/s
// total_time=... (converter: <success>%)".
func (r Report) Line() string {
	kind := "RUN "
	if r.Final {
		kind = "DONE"
	}
	return fmt.Sprintf("%s %s started=%s passes=%d errors=%d chunks=%d %.2f/s total_time=%.2f "+
		"(converter: %.2f%%)", kind, r.Volume, r.Started.Format(time.RFC3339), r.Passes, r.Errors,
		r.Chunks, r.Rate, r.TotalTime.Seconds(), r.SuccessPercent())
}
