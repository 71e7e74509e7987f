// Package cache is a bounded, generic key-value cache held in memory and
// safe for concurrent use. It succeeds OpenIO's CacheDict: every gridkeep
// service that memoizes metadata (container names, content ids, listings,
// replication flags, job objects) goes through it.
//
// A cache holds at most Capacity entries. New takes an Options value whose
// zero value works: DefaultCapacity (262,144) entries, the TinyLFU policy,
// no expiry.
//
//	names, err := cache.New(cache.Options[string, string]{Capacity: 10_000})
//	names.Set(containerID, name)
//	name, ok := names.Get(containerID)
//
// GetOrLoad fills the cache on a miss, calling the loader once per key
// while other callers of the same key wait for its result. OnRemove is
// called for every entry that leaves, with the Reason. Entries may carry a
// time to live (Options.TTL, SetWithTTL) measured on a Clock that tests can
// replace; an expired entry is never returned.
//
// # Policies
//
// FIFO reproduces CacheDict exactly: the entry inserted first leaves first,
// reads do not refresh an entry, overwriting a key keeps its place, and
// Delete never evicts. (With a time to live, overwriting an expired entry
// removes it, with the Expired reason, and the new value joins at the end,
// as for a missing key.) OpenIO's ClosingCacheDict is a FIFO cache whose
// OnRemove closes values for the Evicted and Cleared reasons (not Replaced:
// ClosingCacheDict did not close an overwritten value, nor a deleted one);
// Clear reports entries oldest first. With a time to live, close values for
// the Expired reason too: an expired entry is reported Expired whatever
// removes it, Clear and Delete included.
//
// TinyLFU, the default, aims at the highest hit ratio. New entries enter a
// window of 1% of the capacity, kept in insertion order. An entry leaving
// the window joins the main area only if a frequency sketch has seen its key
// more often than the key of the victim the main area would give up; the
// victim is the next entry a clock hand stops at, skipping entries read
// since it last passed. In a shard where no entry ever had a time to live
// (each shard decides for itself, from the first entry stored with one),
// an entry seen only at its insertion is turned away without looking for a
// victim, which it would seldom beat on skewed workloads; elsewhere it
// meets a victim like any other entry. The sketch counts an entry's
// insertion and reads when it leaves the window, and the reads of a main
// entry when the hand meets it; it forgets by halving all counts every 8 ×
// capacity reads counted, or every 96 × capacity additions of any kind, so
// that scans of keys read once do not wash out what it knows.
//
// TinyLFU was chosen by measurement: the bench module replays Zipf,
// scan, loop, moving-hot-set and expiring workloads against this package,
// otter (adaptive W-TinyLFU), ristretto, golang-lru's LRU and 2Q, and
// reference SIEVE and S3-FIFO implementations (bench/RESULTS.md). On
// skewed workloads it is within half a point of S3-FIFO and SIEVE at a
// small capacity and ahead of every other policy at larger ones. On a loop
// slightly larger than the cache it keeps about 80% of hits, where LRU and
// SIEVE get none and S3-FIFO, otter and 2Q 60 to 70%, because a frequency
// filter refuses to replace resident entries with equally frequent ones.
//
// Frequency alone does worst on a hot set that moves wholesale: the sketch
// remembers the old favourites a while and turns the new ones away. So an
// entry the hand has passed over, and that nobody read since, may give its
// place to a newcomer the sketch rates lower, when the policy finds that
// such entries are asked for again less often than such newcomers: it
// remembers a sample of the entries it gave up and of the newcomers it
// turned away, and counts those asked for again within twice the capacity
// in insertions. On the moving-hot-set workload this takes TinyLFU from 6
// points behind 2Q, the best of the others there, to level with it, at a
// cost of under a tenth of a point on the others.
//
// Recency without repetition is TinyLFU's weak spot. Where each key is read
// a few times close together and then never again, reads further apart
// than the window holds, LRU and FIFO keep about twice as many hits: an
// entry leaving the window has too few reads to be admitted. A hot set
// that fits in the cache and moves every few times the capacity in reads
// does worse than under LRU too (76% against 90% for a uniform set of half
// the capacity moving every 5 × capacity reads), as each move waits for the
// policy to find that the old entries are not asked for again; so does
// popularity that drifts key by key. Where such workloads dominate, FIFO
// may serve better.
//
// # Cost
//
// Get takes no lock, never allocates and writes no shared memory, except
// that TinyLFU bumps a small per-entry hit counter until it saturates, and
// that a Get finding an expired entry takes the lock to remove it. A Set
// that overwrites a present key whose value fits in one machine word (a
// pointer, map, channel or function, or 4 or 8 bytes without pointers, such
// as an int) writes the value atomically into the entry, allocating nothing
// and locking only one of 64 stripes of keys, unless it moves the entry's
// deadline earlier. Any other Set allocates a new entry, which readers see
// whole, and serializes with Delete and Clear on one mutex per shard: a
// TinyLFU cache of 2,048 entries or more is split by key hash into up to 16
// shards of at least 1,024 entries, each with its own policy, so that
// writers on different cores seldom wait for each other. FIFO caches are
// never split, so that their order is exact.
//
// Beyond keys and values a full cache of a million entries with 16-byte
// string keys and int values costs about 64 bytes per entry, with or without
// a time to live: 48 for the entry, 7 for the hash table and 8 for the
// frequency sketch of TinyLFU, whose sample of given-up entries and
// turned-away newcomers takes 8 KiB per shard at most (2 to 4 bytes per
// entry below 20,000 entries). The sketch has one word per entry of the
// capacity rounded up to a power of two (so 8 to 16 bytes per entry) and is
// allocated when the cache is made (2 MiB at the default capacity); the
// hash table grows with the entries, keeping chains short, up to seven
// eighths of a slot per entry. Hit and miss counting is off unless
// Options.RecordStats asks for it, as it would make every Get write shared
// memory.
//
// # Expiry
//
// There is no background goroutine and nothing to close. An expired entry
// stays in memory until a read finds it, the policy meets it (the eviction
// scan, or, with TinyLFU, the entry leaving the admission window, which can
// happen before the cache is full), a Set overwrites it, Delete removes it
// or Clear runs; it is then removed and OnRemove sees it with the Expired
// reason. Len counts expired entries not yet removed. When entries of a
// full TinyLFU shard may have expired, its eviction scan goes up to eight
// entries further than usual to find an expired one to remove before a live
// one; there is no index by deadline, so a live entry can still leave
// first.
package cache
