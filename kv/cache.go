package kv

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"math"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// Defaults of CacheOptions.
const (
	// DefaultCacheMaxBytes is the size of a Cache whose MaxBytes is zero.
	DefaultCacheMaxBytes = 64 << 20
	// DefaultCacheTTL is how long a Cache whose TTL is zero serves an entry
	// before it asks the store behind again.
	DefaultCacheTTL = time.Minute
)

// cacheEntryOverhead is what an entry weighs beyond its key and value
// bytes: an estimate of its bookkeeping in memory.
const cacheEntryOverhead = 64

// CacheOptions tunes NewCache. A nil *CacheOptions means the defaults.
type CacheOptions struct {
	// MaxBytes bounds the memory the cache holds: each entry weighs its
	// key and value bytes plus 64 bytes of bookkeeping. When the entries
	// weigh more, the least useful are evicted (W-TinyLFU, by
	// github.com/maypok86/otter). A value too heavy on its own is not
	// cached. Zero or less means DefaultCacheMaxBytes.
	MaxBytes int64

	// TTL is how long an entry is served without asking the store behind.
	// After it, the next Get revalidates the entry (see Cache). Zero means
	// DefaultCacheTTL; a negative TTL revalidates on every Get.
	TTL time.Duration

	// Now returns the current time; nil means time.Now. Tests set it to
	// move time forward without waiting.
	Now func() time.Time
}

// CacheStats counts what a Cache did since it was made. See Cache.Stats.
type CacheStats struct {
	// Hits counts Get and Has calls answered from a fresh entry, without
	// asking the store behind.
	Hits uint64
	// Misses counts Get calls that read the value from the store behind:
	// there was no entry, or an expired one that could not be revalidated.
	Misses uint64
	// Revalidations counts Get calls that found an expired entry and asked
	// the store behind whether it had changed (Versioned.GetIfChanged),
	// whatever the answer.
	Revalidations uint64
	// BytesSaved counts the value bytes that revalidations did not
	// transfer because the entry had not changed.
	BytesSaved uint64
	// Entries and Bytes are how many entries the cache holds and what they
	// weigh (see CacheOptions.MaxBytes). Both are approximate: evictions
	// are done a little after the writes that cause them.
	Entries int
	Bytes   uint64
}

// Cache is a Store[[]byte] that keeps recently used values of another store
// (the store behind, such as a BucketMap or a Dir) in memory.
//
// Reads go through the cache: Get answers from a fresh entry, and
// otherwise reads from the store behind and keeps the value. Writes go
// through to the store behind and then update the cache: Set stores the
// new value in both, Delete removes it from both. An error of the store
// behind is returned and never cached; nor is a missing key.
//
// The cache is bounded by CacheOptions.MaxBytes. An entry is fresh for
// CacheOptions.TTL after it was read, written or revalidated. When the store
// behind is a Versioned[[]byte], an entry keeps the version of its value,
// and Get revalidates an expired entry with GetIfChanged: when the value
// has not changed, the entry is fresh again and no value bytes move (with
// S3, a 304 Not Modified); when it has, the new value replaces it. Without
// Versioned, or for an entry written by Set (whose version the cache does
// not learn), an expired entry is read again in full.
//
// Has answers true from a fresh entry and otherwise asks the store behind.
// CheckKey checks keys as the store behind does.
// Keys and KeysWithPrefix always ask the store behind, since the cache does
// not hold every key.
//
// A Cache is safe for concurrent use. It sees only the writes made through
// it: a change made to the store behind by someone else shows after at most
// TTL. Writes through it never leave a stale entry behind, also when they
// race with each other or with reads of the same key: when two writes
// overlap, the cache drops the key rather than guess which one the store
// behind kept.
type Cache struct {
	back      Store[[]byte]
	versioned Versioned[[]byte] // back, when it is Versioned; else nil
	checkKey  func(key string) error
	entries   *otter.Cache[string, *cacheEntry]
	maxWeight int64
	ttl       time.Duration
	now       func() time.Time
	start     time.Time

	// Writes in flight, for keeping fills and writes from racing.
	writeTracker

	hits, misses, revalidations, bytesSaved atomic.Uint64
}

// cacheEntry is one cached value. Only freshUntil changes after it is made.
type cacheEntry struct {
	value      []byte
	version    Version      // "" when unknown
	freshUntil atomic.Int64 // in the cache's clock (see Cache.clock)
}

// Interface checks.
var (
	_ Store[[]byte] = (*Cache)(nil)
	_ PrefixLister  = (*Cache)(nil)
	_ KeyChecker    = (*Cache)(nil)
)

// NewCache returns a Cache in front of back.
func NewCache(back Store[[]byte], opts *CacheOptions) *Cache {
	return newCache(back, opts, nil)
}

// newCache is NewCache with the executor of otter's maintenance tasks (nil
// means goroutines), so that tests can run them at once.
func newCache(back Store[[]byte], opts *CacheOptions, executor func(func())) *Cache {
	if opts == nil {
		opts = &CacheOptions{}
	}
	c := &Cache{
		back:      back,
		maxWeight: opts.MaxBytes,
		ttl:       opts.TTL,
		now:       opts.Now,
	}
	c.versioned, _ = back.(Versioned[[]byte])
	c.checkKey = keyCheckOf(back)
	if c.maxWeight <= 0 {
		c.maxWeight = DefaultCacheMaxBytes
	}
	if c.ttl == 0 {
		c.ttl = DefaultCacheTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.start = c.now()
	c.entries = otter.Must(&otter.Options[string, *cacheEntry]{
		MaximumWeight: uint64(c.maxWeight),
		Weigher: func(key string, e *cacheEntry) uint32 {
			return uint32(cacheWeight(key, e.value)) // fits: see fits
		},
		Executor: executor,
	})
	return c
}

// cacheWeight is what the entry of key and value weighs.
func cacheWeight(key string, value []byte) int64 {
	return int64(len(key)) + int64(len(value)) + cacheEntryOverhead
}

// fits reports whether an entry of key and value may be cached.
func (c *Cache) fits(key string, value []byte) bool {
	w := cacheWeight(key, value)
	return w <= c.maxWeight && w <= math.MaxUint32
}

// clock returns the nanoseconds since the cache was made; with time.Now,
// from the monotonic clock.
func (c *Cache) clock() int64 {
	return int64(c.now().Sub(c.start))
}

// newEntry returns an entry holding value (which the entry then owns),
// fresh for the TTL from now.
func (c *Cache) newEntry(value []byte, version Version) *cacheEntry {
	e := &cacheEntry{value: value, version: version}
	e.freshUntil.Store(c.freshUntil())
	return e
}

// freshUntil returns when an entry made or revalidated now expires.
func (c *Cache) freshUntil() int64 {
	if c.ttl < 0 {
		return math.MinInt64
	}
	return c.clock() + int64(c.ttl)
}

// fill stores value and version under key, replacing seen (nil when the
// read found no entry), unless a write or another read got there first.
func (c *Cache) fill(key string, seen *cacheEntry, t fillTicket, value []byte, version Version) {
	if !c.fits(key, value) {
		c.drop(key, seen)
		return
	}
	if !t.ok {
		return // a write is under way; it sets the entry when it ends
	}
	e := c.newEntry(bytes.Clone(value), version)
	c.entries.Compute(key, func(old *cacheEntry, found bool) (*cacheEntry, otter.ComputeOp) {
		if (found && old != seen) || !c.fillAllowed(t) {
			return old, otter.CancelOp
		}
		return e, otter.WriteOp
	})
}

// drop removes seen from under key, unless another entry replaced it.
func (c *Cache) drop(key string, seen *cacheEntry) {
	if seen == nil {
		return
	}
	c.entries.ComputeIfPresent(key, func(old *cacheEntry) (*cacheEntry, otter.ComputeOp) {
		if old != seen {
			return old, otter.CancelOp
		}
		return old, otter.InvalidateOp
	})
}

// CheckKey checks key as the store behind does.
func (c *Cache) CheckKey(key string) error {
	return c.checkKey(key)
}

// check checks key and then ctx.
func (c *Cache) check(ctx context.Context, key string) error {
	if err := c.checkKey(key); err != nil {
		return err
	}
	return ctx.Err()
}

// Get returns the value under key: from a fresh entry, from a revalidated
// one, or else from the store behind.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	if err := c.check(ctx, key); err != nil {
		return nil, err
	}
	e, ok := c.entries.GetIfPresent(key)
	if ok && c.clock() < e.freshUntil.Load() {
		c.hits.Add(1)
		return bytes.Clone(e.value), nil
	}
	if !ok {
		e = nil
	}
	t := c.fillStart()
	if e != nil && e.version != "" && c.versioned != nil {
		return c.revalidate(ctx, key, e, t)
	}
	c.misses.Add(1)
	var (
		v       []byte
		version Version
		err     error
	)
	if c.versioned != nil {
		v, version, err = c.versioned.GetVersion(ctx, key)
	} else {
		v, err = c.back.Get(ctx, key)
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			c.drop(key, e)
		}
		return nil, err
	}
	c.fill(key, e, t, v, version)
	return v, nil
}

// revalidate asks the store behind whether the expired entry e of key
// still holds its value.
func (c *Cache) revalidate(ctx context.Context, key string, e *cacheEntry, t fillTicket) ([]byte, error) {
	c.revalidations.Add(1)
	v, version, changed, err := c.versioned.GetIfChanged(ctx, key, e.version)
	switch {
	case errors.Is(err, ErrNotFound):
		c.drop(key, e)
		return nil, err
	case err != nil:
		return nil, err
	case !changed:
		// If a write replaced e meanwhile, this changes an entry nobody
		// sees any more; if one is under way, it replaces e when it ends.
		e.freshUntil.Store(c.freshUntil())
		c.bytesSaved.Add(uint64(len(e.value)))
		return bytes.Clone(e.value), nil
	}
	c.fill(key, e, t, v, version)
	return v, nil
}

// Set stores v under key in the store behind, and then in the cache. If
// the store behind fails, the key leaves the cache and the error is
// returned.
func (c *Cache) Set(ctx context.Context, key string, v []byte) error {
	if err := c.check(ctx, key); err != nil {
		return err
	}
	t := c.writeStart()
	defer c.writeEnd()
	err := c.back.Set(ctx, key, v)
	var e *cacheEntry
	if err == nil && c.fits(key, v) {
		e = c.newEntry(bytes.Clone(v), "")
	}
	c.entries.Compute(key, func(old *cacheEntry, found bool) (*cacheEntry, otter.ComputeOp) {
		switch {
		case e != nil && !c.overlapped(t):
			return e, otter.WriteOp
		case found:
			return old, otter.InvalidateOp
		}
		return old, otter.CancelOp
	})
	return err
}

// Has reports whether key has a value: true from a fresh entry, and
// otherwise the answer of the store behind.
func (c *Cache) Has(ctx context.Context, key string) (bool, error) {
	if err := c.check(ctx, key); err != nil {
		return false, err
	}
	if e, ok := c.entries.GetIfPresent(key); ok && c.clock() < e.freshUntil.Load() {
		c.hits.Add(1)
		return true, nil
	}
	return c.back.Has(ctx, key)
}

// Delete removes key from the store behind and from the cache.
func (c *Cache) Delete(ctx context.Context, key string) error {
	if err := c.check(ctx, key); err != nil {
		return err
	}
	c.writeStart()
	defer c.writeEnd()
	err := c.back.Delete(ctx, key)
	c.entries.Invalidate(key)
	return err
}

// Keys yields the keys of the store behind.
func (c *Cache) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	return c.back.Keys(ctx)
}

// KeysWithPrefix yields the keys of the store behind that start with
// prefix: from its KeysWithPrefix when it is a PrefixLister, and otherwise
// by filtering its Keys.
func (c *Cache) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	return KeysWithPrefix(ctx, c.back, prefix)
}

// Stats returns what the cache did since it was made.
func (c *Cache) Stats() CacheStats {
	return CacheStats{
		Hits:          c.hits.Load(),
		Misses:        c.misses.Load(),
		Revalidations: c.revalidations.Load(),
		BytesSaved:    c.bytesSaved.Load(),
		Entries:       c.entries.EstimatedSize(),
		Bytes:         c.entries.WeightedSize(),
	}
}
