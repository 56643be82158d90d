// Package cache holds two caches for kv stores: Cache, in memory, and
// Tiered, a near store (a local kv.Dir) in front of a far one (a
// bucketmap.BucketMap). Stacked, they make memory over disk over S3:
//
//	bucket, _ := bucketmap.New(st, storage.Name{Key: "app/"}, nil) // S3
//	dir, _ := kv.NewDir(cacheDir, nil)                             // disk
//	memory := cache.New(cache.NewTiered(dir, bucket, nil), nil)    // memory
//
// Both are a kv.Versioned store exactly when the store behind them is (as
// every layer is, by kv.KeepVersioned), so kv.Update works through the
// whole stack: each conditional write goes to the store of record, and
// every layer keeps the value with the version that store returned, or
// drops its copy when the outcome was a conflict or is unknown. A value
// that fails verification (kv.ErrCorrupt from the store behind, a near
// copy whose checksum does not match) is never kept.
//
// # Keys
//
// Keys are checked by the store of record, once per call: a key that
// store refuses is never cached. CheckKey answers as that store does.
//
// # Abilities
//
// Following kv's rule, both are always a kv.KeyChecker, a kv.PrefixLister
// and a kv.Batcher: listings and SetMany and DeleteMany call the kv
// package functions on the store behind (and then drop the keys' copies);
// GetMany reads key by key through the cache, so that every value is
// served from, or kept in, the cache.
//
// This package depends on github.com/maypok86/otter for Cache's memory;
// package kv itself depends on the standard library only.
package cache

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/s3map/s3map/kv"
)

// Defaults of Options.
const (
	// DefaultMaxBytes is the size of a Cache whose MaxBytes is zero.
	DefaultMaxBytes = 64 << 20
	// DefaultTTL is how long a Cache whose TTL is zero serves an entry
	// before it asks the store behind again.
	DefaultTTL = time.Minute
)

// entryOverhead is what an entry weighs beyond its key and value
// bytes: an estimate of its bookkeeping in memory.
const entryOverhead = 64

// Options tunes New. A nil *Options means the defaults.
type Options struct {
	// MaxBytes bounds the memory the cache holds: each entry weighs its
	// key and value bytes plus 64 bytes of bookkeeping. When the entries
	// weigh more, the least useful are evicted (W-TinyLFU, by
	// github.com/maypok86/otter). A value too heavy on its own is not
	// cached. Zero or less means DefaultMaxBytes.
	MaxBytes int64

	// TTL is how long an entry is served without asking the store behind.
	// After it, the next Get revalidates the entry (see Cache). Zero means
	// DefaultTTL; a negative TTL revalidates on every Get.
	TTL time.Duration

	// Now returns the current time; nil means time.Now. Tests set it to
	// move time forward without waiting.
	Now func() time.Time

	// Logger receives what the cache decides on its own: revalidating an
	// expired entry (Debug), dropping an entry because the store behind
	// reports it corrupt (Warn) or missing (Debug), or because a write's
	// outcome is unknown (Warn) or it conflicted or failed (Debug). Nil
	// means silent.
	Logger *slog.Logger
}

// Stats counts what a Cache did since it was made. See Cache.Stats.
type Stats struct {
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
	// weigh (see Options.MaxBytes). Both are approximate: evictions
	// are done a little after the writes that cause them.
	Entries int
	Bytes   uint64
}

// Cache is a kv.Store[[]byte] that keeps recently used values of another
// store (the store behind, such as a BucketMap, a Dir or a Tiered) in
// memory. New makes one.
//
// Reads go through the cache: Get answers from a fresh entry, and
// otherwise reads from the store behind and keeps the value. Writes go
// through to the store behind and then update the cache: Set stores the
// new value in both, Delete removes it from both. An error of the store
// behind is returned and never cached; nor is a missing key. An entry
// whose key the store behind reports missing or corrupt (kv.ErrCorrupt)
// is dropped.
//
// The cache is bounded by Options.MaxBytes. An entry is fresh for
// Options.TTL after it was read, written or revalidated.
//
// # Versions
//
// When the store behind is a kv.Versioned[[]byte], so is the Cache (find
// it by type assertion), and each entry keeps the version of its value:
// GetVersion, GetIfChanged, SetIfAbsent, CompareAndSwap and
// CompareAndDelete go to the store behind, and the entry keeps the value
// with the version it returned. A conflict (kv.ErrConflict), an outcome
// that cannot be known (kv.ErrOutcomeUnknown) or any other failure of a
// write drops the entry, so kv.Update through a Cache is exactly once and
// leaves no stale entry. Set writes with CompareAndSwap on the version the
// entry holds, so that it learns the new version too; when there is no
// entry, or that write does not succeed, it writes with Set and the entry
// keeps no version. Get revalidates an expired entry that has a version
// with GetIfChanged: when the value has not changed, the entry is fresh
// again and no value bytes move (with S3, a 304 Not Modified); when it
// has, the new value replaces it. An expired entry without a version, or
// any entry over a store behind that is not Versioned, is read again in
// full.
//
// Has answers true from a fresh entry and otherwise asks the store behind.
// Keys and KeysWithPrefix always ask the store behind, since the cache does
// not hold every key.
//
// A Cache is safe for concurrent use. It sees only the writes made through
// it: a change made to the store behind by someone else shows after at most
// TTL. Writes through it never leave a stale entry behind, also when they
// race with each other or with reads of the same key: when two writes
// overlap, the cache drops the key rather than guess which one the store
// behind kept.
type Cache interface {
	kv.Store[[]byte]
	kv.KeyChecker
	kv.PrefixLister
	kv.Batcher[[]byte]
	// Stats returns what the cache did since it was made.
	Stats() Stats
}

// store is the Cache that New returns over a store that is not Versioned;
// versionedStore adds the Versioned methods.
type store struct {
	back      kv.Store[[]byte]
	versioned kv.Versioned[[]byte] // back, when it is Versioned; else nil
	entries   *otter.Cache[string, *entry]
	maxWeight int64
	ttl       time.Duration
	now       func() time.Time
	start     time.Time
	log       logger

	// Writes in flight, for keeping fills and writes from racing.
	writeTracker

	hits, misses, revalidations, bytesSaved atomic.Uint64
}

// versionedStore is the Cache that New returns over a Versioned store.
type versionedStore struct{ *store }

// entry is one cached value. Only freshUntil changes after it is made.
type entry struct {
	value      []byte
	version    kv.Version   // "" when unknown
	freshUntil atomic.Int64 // in the cache's clock (see store.clock)
}

// Interface checks.
var (
	_ Cache                = (*store)(nil)
	_ Cache                = versionedStore{}
	_ kv.Versioned[[]byte] = versionedStore{}
)

// New returns a Cache in front of back. It is a kv.Versioned[[]byte]
// exactly when back is.
func New(back kv.Store[[]byte], opts *Options) Cache {
	return newCache(back, opts, nil)
}

// newCache is New with the executor of otter's maintenance tasks (nil
// means goroutines), so that tests can run them at once.
func newCache(back kv.Store[[]byte], opts *Options, executor func(func())) Cache {
	if opts == nil {
		opts = &Options{}
	}
	c := &store{
		back:      back,
		maxWeight: opts.MaxBytes,
		ttl:       opts.TTL,
		now:       opts.Now,
		log:       logger{opts.Logger},
	}
	c.versioned, _ = back.(kv.Versioned[[]byte])
	if c.maxWeight <= 0 {
		c.maxWeight = DefaultMaxBytes
	}
	if c.ttl == 0 {
		c.ttl = DefaultTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.start = c.now()
	c.entries = otter.Must(&otter.Options[string, *entry]{
		MaximumWeight: uint64(c.maxWeight),
		Weigher: func(key string, e *entry) uint32 {
			return uint32(weight(key, e.value)) // fits: see fits
		},
		Executor: executor,
	})
	return kv.KeepVersioned[Cache](back, c, versionedStore{c})
}

// weight is what the entry of key and value weighs.
func weight(key string, value []byte) int64 {
	return int64(len(key)) + int64(len(value)) + entryOverhead
}

// fits reports whether an entry of key and value may be cached.
func (c *store) fits(key string, value []byte) bool {
	w := weight(key, value)
	return w <= c.maxWeight && w <= math.MaxUint32
}

// clock returns the nanoseconds since the cache was made; with time.Now,
// from the monotonic clock.
func (c *store) clock() int64 {
	return int64(c.now().Sub(c.start))
}

// newEntry returns an entry holding value (which the entry then owns),
// fresh for the TTL from now.
func (c *store) newEntry(value []byte, version kv.Version) *entry {
	e := &entry{value: value, version: version}
	e.freshUntil.Store(c.freshUntil())
	return e
}

// freshUntil returns when an entry made or revalidated now expires.
func (c *store) freshUntil() int64 {
	if c.ttl < 0 {
		return math.MinInt64
	}
	return c.clock() + int64(c.ttl)
}

// fresh returns key's entry when it is fresh.
func (c *store) fresh(key string) (*entry, bool) {
	e, ok := c.entries.GetIfPresent(key)
	if ok && c.clock() < e.freshUntil.Load() {
		return e, true
	}
	return e, false
}

// fill stores value and version under key, replacing seen (nil when the
// read found no entry), unless a write or another read got there first.
func (c *store) fill(key string, seen *entry, t fillTicket, value []byte, version kv.Version) {
	if !c.fits(key, value) {
		c.drop(key, seen)
		return
	}
	if !t.ok {
		return // a write is under way; it sets the entry when it ends
	}
	e := c.newEntry(bytes.Clone(value), version)
	c.entries.Compute(key, func(old *entry, found bool) (*entry, otter.ComputeOp) {
		if (found && old != seen) || !c.fillAllowed(t) {
			return old, otter.CancelOp
		}
		return e, otter.WriteOp
	})
}

// drop removes seen from under key, unless another entry replaced it.
func (c *store) drop(key string, seen *entry) {
	if seen == nil {
		return
	}
	c.entries.ComputeIfPresent(key, func(old *entry) (*entry, otter.ComputeOp) {
		if old != seen {
			return old, otter.CancelOp
		}
		return old, otter.InvalidateOp
	})
}

// dropAfterRead drops seen when err says the store behind holds no
// usable value for key: missing, or failing verification.
func (c *store) dropAfterRead(ctx context.Context, key string, seen *entry, err error) {
	if errors.Is(err, kv.ErrNotFound) || errors.Is(err, kv.ErrCorrupt) {
		if seen != nil {
			c.log.readFailed(ctx, "kv/cache", key, err)
		}
		c.drop(key, seen)
	}
}

// afterWrite brings key's entry up to date after a write of the store
// behind (t) that ended: the entry holds value and version when keep is
// true and no other write overlapped, and is dropped otherwise.
func (c *store) afterWrite(key string, t writeTicket, keep bool, value []byte, version kv.Version) {
	var e *entry
	if keep && c.fits(key, value) {
		e = c.newEntry(bytes.Clone(value), version)
	}
	c.entries.Compute(key, func(old *entry, found bool) (*entry, otter.ComputeOp) {
		switch {
		case e != nil && !c.overlapped(t):
			return e, otter.WriteOp
		case found:
			return old, otter.InvalidateOp
		}
		return old, otter.CancelOp
	})
}

// CheckKey checks key as the store behind does.
func (c *store) CheckKey(key string) error {
	if checker, ok := c.back.(kv.KeyChecker); ok {
		return checker.CheckKey(key)
	}
	return kv.CheckKey("", key)
}

// Get returns the value under key: from a fresh entry, from a revalidated
// one, or else from the store behind.
func (c *store) Get(ctx context.Context, key string) ([]byte, error) {
	v, _, err := c.read(ctx, key)
	return v, err
}

// read returns the value under key and its version ("" when unknown).
// Only valid keys have entries, so a hit needs no key check; a miss leaves
// it to the store behind.
func (c *store) read(ctx context.Context, key string) ([]byte, kv.Version, error) {
	e, fresh := c.fresh(key)
	if fresh {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		c.hits.Add(1)
		return bytes.Clone(e.value), e.version, nil
	}
	t := c.fillStart()
	if e != nil && e.version != "" && c.versioned != nil {
		return c.revalidate(ctx, key, e, t)
	}
	c.misses.Add(1)
	var (
		v       []byte
		version kv.Version
		err     error
	)
	if c.versioned != nil {
		v, version, err = c.versioned.GetVersion(ctx, key)
	} else {
		v, err = c.back.Get(ctx, key)
	}
	if err != nil {
		c.dropAfterRead(ctx, key, e, err)
		return nil, "", err
	}
	c.fill(key, e, t, v, version)
	return v, version, nil
}

// revalidate asks the store behind whether the expired entry e of key
// still holds its value.
func (c *store) revalidate(ctx context.Context, key string, e *entry, t fillTicket) ([]byte, kv.Version, error) {
	c.revalidations.Add(1)
	v, version, changed, err := c.versioned.GetIfChanged(ctx, key, e.version)
	if err == nil {
		c.log.log(ctx, slog.LevelDebug, "kv/cache: revalidated an expired entry", key, slog.Bool("changed", changed))
	}
	switch {
	case err != nil:
		c.dropAfterRead(ctx, key, e, err)
		return nil, "", err
	case !changed:
		// If a write replaced e meanwhile, this changes an entry nobody
		// sees any more; if one is under way, it replaces e when it ends.
		e.freshUntil.Store(c.freshUntil())
		c.bytesSaved.Add(uint64(len(e.value)))
		return bytes.Clone(e.value), e.version, nil
	}
	c.fill(key, e, t, v, version)
	return v, version, nil
}

// Set stores v under key in the store behind, and then in the cache. If
// the store behind fails, the key leaves the cache and the error is
// returned. Over a Versioned store, it writes with CompareAndSwap on the
// entry's version when there is one, to learn the new version.
func (c *store) Set(ctx context.Context, key string, v []byte) error {
	t := c.writeStart()
	defer c.writeEnd()
	var version kv.Version
	err := errors.ErrUnsupported
	// Quietly: a write is not a use that should keep the entry cached.
	if e, ok := c.entries.GetEntryQuietly(key); ok && e.Value.version != "" && c.versioned != nil {
		version, err = c.versioned.CompareAndSwap(ctx, key, e.Value.version, v)
	}
	if err != nil {
		// No version to write on, or that write did not succeed: whatever
		// it did, writing v unconditionally leaves v, as Set must.
		if !errors.Is(err, errors.ErrUnsupported) {
			c.log.log(ctx, slog.LevelDebug, "kv/cache: Set's write on the entry's version failed; writing unconditionally", key, slog.Any("error", err))
		}
		version = ""
		err = c.back.Set(ctx, key, v)
	}
	c.log.writeFailed(ctx, "kv/cache", key, err)
	c.afterWrite(key, t, err == nil, v, version)
	return err
}

// Has reports whether key has a value: true from a fresh entry, and
// otherwise the answer of the store behind.
func (c *store) Has(ctx context.Context, key string) (bool, error) {
	if _, fresh := c.fresh(key); fresh {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		c.hits.Add(1)
		return true, nil
	}
	return c.back.Has(ctx, key)
}

// Delete removes key from the store behind and from the cache.
func (c *store) Delete(ctx context.Context, key string) error {
	t := c.writeStart()
	defer c.writeEnd()
	err := c.back.Delete(ctx, key)
	c.afterWrite(key, t, false, nil, "")
	return err
}

// Keys yields the keys of the store behind.
func (c *store) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	return c.back.Keys(ctx)
}

// KeysWithPrefix yields the keys of the store behind that start with
// prefix, with kv.KeysWithPrefix.
func (c *store) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	return kv.KeysWithPrefix(ctx, c.back, prefix)
}

// GetMany returns the values of keys, each through Get, so that every
// value is served from the cache or kept in it (kv.GetMany's fallback).
func (c *store) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	return kv.GetMany(ctx, singles(c), keys)
}

// SetMany stores every item in the store behind with kv.SetMany, and then
// drops the items' entries.
func (c *store) SetMany(ctx context.Context, items map[string][]byte) error {
	t := c.writeStart()
	defer c.writeEnd()
	err := kv.SetMany(ctx, c.back, items)
	for key := range items {
		c.afterWrite(key, t, false, nil, "")
	}
	return err
}

// DeleteMany deletes keys from the store behind with kv.DeleteMany, and
// then from the cache.
func (c *store) DeleteMany(ctx context.Context, keys []string) error {
	t := c.writeStart()
	defer c.writeEnd()
	err := kv.DeleteMany(ctx, c.back, keys)
	for _, key := range keys {
		c.afterWrite(key, t, false, nil, "")
	}
	return err
}

// Stats returns what the cache did since it was made.
func (c *store) Stats() Stats {
	return Stats{
		Hits:          c.hits.Load(),
		Misses:        c.misses.Load(),
		Revalidations: c.revalidations.Load(),
		BytesSaved:    c.bytesSaved.Load(),
		Entries:       c.entries.EstimatedSize(),
		Bytes:         c.entries.WeightedSize(),
	}
}

// The Versioned methods, on the store behind, which KeepVersioned made
// sure is Versioned.

// GetVersion returns the value under key and its version: from a fresh
// entry that knows its version, from a revalidated one, or else from the
// store behind.
func (c versionedStore) GetVersion(ctx context.Context, key string) ([]byte, kv.Version, error) {
	if e, fresh := c.fresh(key); fresh && e.version == "" {
		// A fresh entry written by Set, whose version is unknown: read it.
		t := c.fillStart()
		c.misses.Add(1)
		v, version, err := c.versioned.GetVersion(ctx, key)
		if err != nil {
			c.dropAfterRead(ctx, key, e, err)
			return nil, "", err
		}
		c.fill(key, e, t, v, version)
		return v, version, nil
	}
	return c.read(ctx, key)
}

// GetIfChanged returns the value and version of key unless its version is
// still known. A fresh entry answers without the store behind; an expired
// one is revalidated first; without an entry, the store behind answers.
func (c versionedStore) GetIfChanged(ctx context.Context, key string, known kv.Version) ([]byte, kv.Version, bool, error) {
	if e, ok := c.entries.GetIfPresent(key); ok && e.version != "" {
		v, version, err := c.read(ctx, key)
		switch {
		case err != nil:
			return nil, "", false, err
		case version == known:
			return nil, known, false, nil
		case version != "":
			return v, version, true, nil
		}
	}
	seen, _ := c.entries.GetIfPresent(key)
	t := c.fillStart()
	v, version, changed, err := c.versioned.GetIfChanged(ctx, key, known)
	if err != nil {
		c.dropAfterRead(ctx, key, seen, err)
		return nil, "", false, err
	}
	if changed {
		c.fill(key, seen, t, v, version)
	}
	return v, version, changed, nil
}

// SetIfAbsent stores v under key in the store behind if key has no value
// there, and then keeps v and its new version. Any failure drops the
// entry.
func (c versionedStore) SetIfAbsent(ctx context.Context, key string, v []byte) (kv.Version, error) {
	t := c.writeStart()
	defer c.writeEnd()
	version, err := c.versioned.SetIfAbsent(ctx, key, v)
	c.log.writeFailed(ctx, "kv/cache", key, err)
	c.afterWrite(key, t, err == nil, v, version)
	return version, err
}

// CompareAndSwap stores v under key in the store behind if key's version
// there is old, and then keeps v and its new version. Any failure drops
// the entry.
func (c versionedStore) CompareAndSwap(ctx context.Context, key string, old kv.Version, v []byte) (kv.Version, error) {
	t := c.writeStart()
	defer c.writeEnd()
	version, err := c.versioned.CompareAndSwap(ctx, key, old, v)
	c.log.writeFailed(ctx, "kv/cache", key, err)
	c.afterWrite(key, t, err == nil, v, version)
	return version, err
}

// CompareAndDelete deletes key from the store behind if its version there
// is old, and drops the entry whatever the outcome.
func (c versionedStore) CompareAndDelete(ctx context.Context, key string, old kv.Version) error {
	t := c.writeStart()
	defer c.writeEnd()
	err := c.versioned.CompareAndDelete(ctx, key, old)
	c.log.writeFailed(ctx, "kv/cache", key, err)
	c.afterWrite(key, t, false, nil, "")
	return err
}

// singles returns s with only its single-key methods and its key check, so
// that kv's batch functions fall back to them rather than call s's own
// (as io.Copy callers wrap a writer in struct{ io.Writer }).
func singles(s interface {
	kv.Store[[]byte]
	kv.KeyChecker
}) kv.Store[[]byte] {
	return struct {
		kv.Store[[]byte]
		kv.KeyChecker
	}{s, s}
}
