package cache

import (
	"errors"
	"fmt"
	"time"
)

// DefaultCapacity is the capacity of a cache whose Options leave Capacity at
// zero. It matches the default size of OpenIO's CacheDict.
const DefaultCapacity = 262144

// MaxCapacity is the largest capacity a cache accepts, 67,108,863 entries:
// an entry records its place in the policy in 28 bits, and the FIFO queue
// may be up to four times as long as the cache.
const MaxCapacity = 1<<26 - 1

// Policy names the rule that picks which entry leaves a full cache.
type Policy int

const (
	// TinyLFU, the default, keeps the entries most likely to be read again:
	// new entries wait in a small window, and an entry leaving the window
	// replaces a resident one only if it has been seen more often recently.
	TinyLFU Policy = iota

	// FIFO evicts the entry inserted first, exactly like OpenIO's CacheDict:
	// reads do not refresh an entry, and overwriting a key keeps its place.
	FIFO
)

// String returns the policy's name.
func (p Policy) String() string {
	switch p {
	case TinyLFU:
		return "tinylfu"
	case FIFO:
		return "fifo"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// Options configures a cache. The zero value is a cache of DefaultCapacity
// entries with the TinyLFU policy, no expiry and no callback.
type Options[K comparable, V any] struct {
	// Capacity is the most entries the cache holds; zero means
	// DefaultCapacity. A TinyLFU cache of 2,048 entries or more is split
	// by key hash into up to 16 shards, each holding its share of the
	// capacity, so it may start evicting a few percent before it is full
	// (from about 92% for caches of 16 shards of 1,024 entries, as the keys
	// fall unevenly on the shards); the shards fill up as it runs.
	Capacity int

	// Policy chooses the eviction rule.
	Policy Policy

	// TTL is how long an entry stored by Set stays readable; zero means
	// forever. SetWithTTL overrides it per entry.
	TTL time.Duration

	// Clock tells the time for expiry; nil means the system clock. It may
	// move backwards, and may read any time between the years 1678 and
	// 2262, whatever it read at New; the cache counts nanoseconds in an
	// int64 from 1970, as time.Time.UnixNano does, and a clock reading
	// outside that span reads as its nearest end, where time stands still.
	// An entry has expired when the clock reads its deadline or later: set
	// back, the clock makes an expired entry not yet removed readable
	// again. Stats.LoadTime is measured on the system clock.
	Clock Clock

	// OnRemove, if set, is called once for every entry that leaves the
	// cache, with the reason. It runs on the goroutine that caused the
	// removal, after the cache's lock is released, so it may call the cache.
	// It should not panic: the panic reaches the caller, and the removals
	// that call had still to report (Clear reports many) are not reported.
	// A callback that stores entries in a full cache makes room for them by
	// removing others, which calls it again: it must stop storing at some
	// point, or the calls never end.
	OnRemove func(key K, value V, reason Reason)

	// ErrorTTL, when positive, makes GetOrLoad remember a loader's error for
	// that long and return it to later callers of the same key without
	// loading again. By default errors are not remembered. Any store of a
	// value under the key forgets the error (Set, SetWithTTL, a successful
	// load), and so do Delete and Clear; an error is not remembered if the
	// key has an entry when the loader returns, as when a value was stored
	// while it ran. Errors that wrap context.Canceled or
	// context.DeadlineExceeded are never remembered, nor any error returned
	// once the context of the loader's caller had ended, nor the failure of
	// a loader that panicked or ended its goroutine. The cache remembers at
	// most as many errors as its capacity, each shard its share: one that
	// has to remember more forgets its oldest quarter first.
	ErrorTTL time.Duration

	// RecordStats turns on hit and miss counting. It costs an atomic
	// increment per read; evictions and loads are always counted.
	RecordStats bool
}

// Clock is a source of time. Tests substitute a fake to control expiry.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

var errNegative = errors.New("must not be negative")

// validate checks o and returns it with defaults filled in.
func (o Options[K, V]) validate() (Options[K, V], error) {
	switch {
	case o.Capacity < 0:
		return o, fmt.Errorf("cache: capacity %d: %w", o.Capacity, errNegative)
	case o.Capacity > MaxCapacity:
		return o, fmt.Errorf("cache: capacity %d is above %d", o.Capacity, MaxCapacity)
	case o.TTL < 0:
		return o, fmt.Errorf("cache: ttl %v: %w", o.TTL, errNegative)
	case o.ErrorTTL < 0:
		return o, fmt.Errorf("cache: error ttl %v: %w", o.ErrorTTL, errNegative)
	case o.Policy != TinyLFU && o.Policy != FIFO:
		return o, fmt.Errorf("cache: unknown policy %v", o.Policy)
	}
	if o.Capacity == 0 {
		o.Capacity = DefaultCapacity
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	return o, nil
}

// Reason tells why an entry left the cache.
type Reason int

const (
	// Evicted: the cache was full and the policy chose this entry.
	Evicted Reason = iota
	// Expired: the entry's time to live ran out.
	Expired
	// Deleted: Delete removed the entry.
	Deleted
	// Replaced: Set stored a new value under the same key.
	Replaced
	// Cleared: Clear removed the entry.
	Cleared
)

// String returns the reason in lower case.
func (r Reason) String() string {
	switch r {
	case Evicted:
		return "evicted"
	case Expired:
		return "expired"
	case Deleted:
		return "deleted"
	case Replaced:
		return "replaced"
	case Cleared:
		return "cleared"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}
