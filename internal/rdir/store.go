package rdir

import (
	"context"
	"errors"
)

// Errors that callers branch on. Implementations wrap them with details;
// test with errors.Is.
var (
	// ErrNoVolume: the volume has no database (create it first).
	ErrNoVolume = errors.New("no such volume")
	// ErrLocked: the volume is locked by another owner.
	ErrLocked = errors.New("volume locked")
	// ErrInvalid: the request is malformed; nothing was changed.
	ErrInvalid = errors.New("invalid request")
)

// Listing limits, in records per call.
const (
	DefaultLimit = 1000
	MaxLimit     = 10000
)

// ListOptions selects a page of a volume's records for Fetch and Status.
// The zero value lists the first DefaultLimit records.
type ListOptions struct {
	// Marker, if set, lists only keys strictly greater than it; it is
	// normally the Marker of the previous page.
	Marker string
	// Prefix, if set, lists only keys starting with it: a container id or
	// a prefix of one.
	Prefix string
	// Limit is the page size: 0 or less means DefaultLimit, more than
	// MaxLimit means MaxLimit.
	Limit int
	// Rebuild lists only the records not newer than the volume's incident
	// date (Mtime <= date), and nothing if no incident date is set.
	// Status ignores it.
	Rebuild bool
	// ChunkID, if set, lists only the records of that chunk id (in any
	// container), and ContentID only those of that content: lookups the
	// index answers without reading the other records of the volume.
	ChunkID   string
	ContentID string
	// ByChunk lists in increasing order of chunk id, then key, instead of
	// key order: the order of a chunk server's own listing, so that a
	// volume and its index can be walked in step. Marker is still the key
	// of the last record of the previous page.
	ByChunk bool
}

// Page is one page of a listing, in increasing key order.
type Page struct {
	Records []Record
	// Truncated reports that more records match after this page.
	Truncated bool
	// Marker is the key of the last record of a truncated page, to pass
	// as ListOptions.Marker for the next page; empty otherwise.
	Marker string
}

// Counts counts chunk records.
type Counts struct {
	Total int64
	// ToRebuild counts the records not newer than the incident date; it
	// is meaningful only when an incident date is set.
	ToRebuild int64
}

// Status summarizes one page of a volume's records (see ListOptions).
type Status struct {
	Chunk      Counts
	Containers map[string]Counts // by container id
	// IncidentDate is the volume's incident date in seconds, 0 if unset.
	IncidentDate int64
	Truncated    bool
	Marker       string // last counted key, when Truncated
}

// Admin is the administrative state of a volume.
type Admin struct {
	Lock         string // lock owner, empty if unlocked
	IncidentDate int64  // seconds since the epoch, 0 if unset
}

// ClearOptions says what Clear removes besides the incident date.
type ClearOptions struct {
	All            bool // remove every record
	BeforeIncident bool // remove records not newer than the incident date
	Repair         bool // rewrite records stored under an old key format
}

// ClearResult counts what Clear did.
type ClearResult struct {
	Removed  int64
	Repaired int64
	Errors   int64
}

// ClearLockOwner is the lock owner Clear takes for the time it runs: Clear
// fails with ErrLocked if the volume is locked by anyone else.
const ClearLockOwner = "admin_clear"

// Store is the reverse index of chunk volumes: for each volume, a record
// per chunk, keyed by container id and chunk id. Implementations are safe
// for concurrent use. Every method but CreateVolume returns ErrNoVolume
// for a volume that was never created, and ErrInvalid, having changed
// nothing, for malformed input. A method that returns nil has committed
// its change durably to the implementation's standard (see each one).
type Store interface {
	// CreateVolume creates the volume's database if it does not exist.
	CreateVolume(ctx context.Context, vol string) error
	// Push inserts or replaces records, all or none.
	Push(ctx context.Context, vol string, recs []Record) error
	// Delete removes the records of refs, all or none; refs without a
	// record are ignored.
	Delete(ctx context.Context, vol string, refs []ChunkRef) error
	// Fetch returns one page of records.
	Fetch(ctx context.Context, vol string, opts ListOptions) (Page, error)
	// Status counts one page of records, ignoring opts.Rebuild.
	Status(ctx context.Context, vol string, opts ListOptions) (Status, error)
	// IncidentDate returns the incident date in seconds, 0 if unset.
	IncidentDate(ctx context.Context, vol string) (int64, error)
	// SetIncidentDate sets the incident date (seconds, >= 0; 0 unsets it).
	SetIncidentDate(ctx context.Context, vol string, date int64) error
	// Lock locks the volume for who; locking again by the same owner
	// succeeds, by another fails with ErrLocked.
	Lock(ctx context.Context, vol, who string) error
	// Unlock removes the lock, whoever holds it.
	Unlock(ctx context.Context, vol string) error
	// Show returns the administrative state.
	Show(ctx context.Context, vol string) (Admin, error)
	// Clear removes the incident date and the records opts selects, as
	// ClearLockOwner, and leaves the volume unlocked.
	Clear(ctx context.Context, vol string, opts ClearOptions) (ClearResult, error)
	// Close releases the store's resources.
	Close() error
}
