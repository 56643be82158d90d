package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/kv/kvtest"
)

func TestCacheConformance(t *testing.T) {
	variants := map[string]struct {
		back func() kv.Store[[]byte]
		opts *cache.Options
	}{
		"Versioned":        {func() kv.Store[[]byte] { return kv.NewMemory[[]byte]() }, nil},
		"Plain":            {func() kv.Store[[]byte] { return layerPlain{kv.NewMemory[[]byte]()} }, nil},
		"AlwaysRevalidate": {func() kv.Store[[]byte] { return kv.NewMemory[[]byte]() }, &cache.Options{TTL: -1}},
		"Tiny":             {func() kv.Store[[]byte] { return kv.NewMemory[[]byte]() }, &cache.Options{MaxBytes: 4096}},
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
				return cache.New(v.back(), v.opts)
			}, &kvtest.Options{
				FailingKeys: func(t *testing.T) kv.Store[[]byte] {
					return cache.New(layerFailingKeys{kv.NewMemory[[]byte]()}, v.opts)
				},
			})
		})
	}
}

// fakeClock is a time source that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// backCounts is what a counting back store was asked and what it sent.
type backCounts struct {
	Gets         int64 // Get and GetVersion calls
	GetIfChanged int64
	Has          int64
	ValueBytes   int64 // value bytes returned by all reads
}

// countingBack is a store behind a cache that counts its reads and the
// value bytes they return, and fails reads on demand. It is not Versioned;
// countingVersionedBack is.
type countingBack struct {
	mem *kv.Memory[[]byte]

	gets, getIfChanged, has, valueBytes atomic.Int64

	failReads atomic.Int64 // how many more reads fail with errBack
	failSets  atomic.Int64 // how many more writes (Set, SetIfAbsent, CompareAndSwap) fail with errBack
}

var errBack = errors.New("back store failed on purpose")

func newCountingBack() *countingBack {
	return &countingBack{mem: kv.NewMemory[[]byte]()}
}

func (b *countingBack) counts() backCounts {
	return backCounts{
		Gets:         b.gets.Load(),
		GetIfChanged: b.getIfChanged.Load(),
		Has:          b.has.Load(),
		ValueBytes:   b.valueBytes.Load(),
	}
}

// take reports whether n was above zero, and lowers it by one if so.
func take(n *atomic.Int64) bool {
	for {
		left := n.Load()
		if left <= 0 {
			return false
		}
		if n.CompareAndSwap(left, left-1) {
			return true
		}
	}
}

func (b *countingBack) Get(ctx context.Context, key string) ([]byte, error) {
	b.gets.Add(1)
	if take(&b.failReads) {
		return nil, errBack
	}
	v, err := b.mem.Get(ctx, key)
	b.valueBytes.Add(int64(len(v)))
	return v, err
}

func (b *countingBack) Set(ctx context.Context, key string, v []byte) error {
	if take(&b.failSets) {
		return errBack
	}
	return b.mem.Set(ctx, key, v)
}

func (b *countingBack) Has(ctx context.Context, key string) (bool, error) {
	b.has.Add(1)
	return b.mem.Has(ctx, key)
}

func (b *countingBack) Delete(ctx context.Context, key string) error {
	return b.mem.Delete(ctx, key)
}

func (b *countingBack) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	return b.mem.Keys(ctx)
}

// countingVersionedBack is countingBack with Versioned.
type countingVersionedBack struct{ *countingBack }

func (b countingVersionedBack) GetVersion(ctx context.Context, key string) ([]byte, kv.Version, error) {
	b.gets.Add(1)
	if take(&b.failReads) {
		return nil, "", errBack
	}
	v, version, err := b.mem.GetVersion(ctx, key)
	b.valueBytes.Add(int64(len(v)))
	return v, version, err
}

func (b countingVersionedBack) GetIfChanged(ctx context.Context, key string, known kv.Version) ([]byte, kv.Version, bool, error) {
	b.getIfChanged.Add(1)
	if take(&b.failReads) {
		return nil, "", false, errBack
	}
	v, version, changed, err := b.mem.GetIfChanged(ctx, key, known)
	b.valueBytes.Add(int64(len(v)))
	return v, version, changed, err
}

func (b countingVersionedBack) SetIfAbsent(ctx context.Context, key string, v []byte) (kv.Version, error) {
	if take(&b.failSets) {
		return "", errBack
	}
	return b.mem.SetIfAbsent(ctx, key, v)
}

func (b countingVersionedBack) CompareAndSwap(ctx context.Context, key string, old kv.Version, v []byte) (kv.Version, error) {
	if take(&b.failSets) {
		return "", errBack
	}
	return b.mem.CompareAndSwap(ctx, key, old, v)
}

func (b countingVersionedBack) CompareAndDelete(ctx context.Context, key string, old kv.Version) error {
	return b.mem.CompareAndDelete(ctx, key, old)
}

// statsOnly compares CacheStats without the approximate sizes.
var statsOnly = cmpopts.IgnoreFields(cache.Stats{}, "Entries", "Bytes")

// mustGetValue fails the test unless s.Get(key) is want.
func mustGetValue(t *testing.T, s kv.Store[[]byte], key, want string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil || string(got) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q", key, got, err, want)
	}
}

func wantCounts(t *testing.T, back *countingBack, want backCounts) {
	t.Helper()
	if diff := cmp.Diff(want, back.counts()); diff != "" {
		t.Errorf("back store counts (-want +got):\n%s", diff)
	}
}

func wantStats(t *testing.T, c cache.Cache, want cache.Stats) {
	t.Helper()
	if diff := cmp.Diff(want, c.Stats(), statsOnly); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestCacheHitMovesNothing(t *testing.T) {
	ctx := t.Context()
	back := newCountingBack()
	if err := back.mem.Set(ctx, "k", []byte("value")); err != nil {
		t.Fatal(err)
	}
	c := cache.New(countingVersionedBack{back}, nil)
	mustGetValue(t, c, "k", "value")
	wantCounts(t, back, backCounts{Gets: 1, ValueBytes: 5})
	for range 3 {
		mustGetValue(t, c, "k", "value")
	}
	if ok, err := c.Has(ctx, "k"); !ok || err != nil {
		t.Fatalf("Has = %v, %v", ok, err)
	}
	wantCounts(t, back, backCounts{Gets: 1, ValueBytes: 5})
	wantStats(t, c, cache.Stats{Hits: 4, Misses: 1})

	// The caller owns what Get returns.
	got, _ := c.Get(ctx, "k")
	got[0] = 'X'
	mustGetValue(t, c, "k", "value")
}

func TestCacheRevalidation(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	back := newCountingBack()
	value := strings.Repeat("v", 1000)
	if err := back.mem.Set(ctx, "k", []byte(value)); err != nil {
		t.Fatal(err)
	}
	const ttl = time.Minute
	c := cache.New(countingVersionedBack{back}, &cache.Options{TTL: ttl, Now: clock.Now})

	mustGetValue(t, c, "k", value)
	wantCounts(t, back, backCounts{Gets: 1, ValueBytes: 1000})

	// Expired and unchanged: one GetIfChanged, no value bytes.
	clock.Advance(ttl)
	mustGetValue(t, c, "k", value)
	wantCounts(t, back, backCounts{Gets: 1, GetIfChanged: 1, ValueBytes: 1000})
	wantStats(t, c, cache.Stats{Misses: 1, Revalidations: 1, BytesSaved: 1000})

	// Fresh again for a whole TTL: nothing asked.
	clock.Advance(ttl - time.Nanosecond)
	mustGetValue(t, c, "k", value)
	wantCounts(t, back, backCounts{Gets: 1, GetIfChanged: 1, ValueBytes: 1000})

	// A change behind the cache's back shows only once the entry expires.
	if err := back.mem.Set(ctx, "k", []byte("new")); err != nil {
		t.Fatal(err)
	}
	mustGetValue(t, c, "k", value)
	clock.Advance(time.Nanosecond)
	mustGetValue(t, c, "k", "new")
	wantCounts(t, back, backCounts{Gets: 1, GetIfChanged: 2, ValueBytes: 1003})
	mustGetValue(t, c, "k", "new")
	wantStats(t, c, cache.Stats{Hits: 3, Misses: 1, Revalidations: 2, BytesSaved: 1000})

	// The new value's version was learned: the next expiry is a 304 again.
	clock.Advance(ttl)
	mustGetValue(t, c, "k", "new")
	wantCounts(t, back, backCounts{Gets: 1, GetIfChanged: 3, ValueBytes: 1003})
	wantStats(t, c, cache.Stats{Hits: 3, Misses: 1, Revalidations: 3, BytesSaved: 1003})

	// Deleted behind the cache's back: the revalidation says so, and the
	// entry goes.
	if err := back.mem.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(ttl)
	if _, err := c.Get(ctx, "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get after a delete behind the cache = %v; want ErrNotFound", err)
	}
	if ok, err := c.Has(ctx, "k"); ok || err != nil {
		t.Errorf("Has = %v, %v; want false, nil", ok, err)
	}
}

// TestCacheSetThenRevalidate: an entry written by Set has no version; its
// first expiry reads it in full, later ones revalidate.
func TestCacheSetThenRevalidate(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	back := newCountingBack()
	c := cache.New(countingVersionedBack{back}, &cache.Options{TTL: time.Second, Now: clock.Now})
	if err := c.Set(ctx, "k", []byte("abc")); err != nil {
		t.Fatal(err)
	}
	mustGetValue(t, c, "k", "abc")
	wantCounts(t, back, backCounts{})
	clock.Advance(time.Second)
	mustGetValue(t, c, "k", "abc")
	wantCounts(t, back, backCounts{Gets: 1, ValueBytes: 3})
	clock.Advance(time.Second)
	mustGetValue(t, c, "k", "abc")
	wantCounts(t, back, backCounts{Gets: 1, GetIfChanged: 1, ValueBytes: 3})
	wantStats(t, c, cache.Stats{Hits: 1, Misses: 1, Revalidations: 1, BytesSaved: 3})
}

// TestCacheWritesLearnVersions: every write through a Versioned back
// keeps the version the back returned, so the next revalidation moves no
// value bytes (with S3, a 304).
func TestCacheWritesLearnVersions(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	back := newCountingBack()
	c := cache.New(countingVersionedBack{back}, &cache.Options{TTL: time.Second, Now: clock.Now})
	v := c.(kv.Versioned[[]byte])
	version, err := v.SetIfAbsent(ctx, "k", []byte("abc"))
	if err != nil {
		t.Fatal(err)
	}
	revalidated := func(want string) {
		t.Helper()
		before := back.counts()
		clock.Advance(time.Second)
		mustGetValue(t, c, "k", want)
		after := back.counts()
		if after.Gets != before.Gets || after.GetIfChanged != before.GetIfChanged+1 || after.ValueBytes != before.ValueBytes {
			t.Errorf("read after expiry: back counts went from %+v to %+v; want one GetIfChanged moving no value", before, after)
		}
	}
	revalidated("abc")
	if _, err := v.CompareAndSwap(ctx, "k", version, []byte("def")); err != nil {
		t.Fatal(err)
	}
	revalidated("def")
	if err := c.Set(ctx, "k", []byte("ghi")); err != nil { // the entry knows its version
		t.Fatal(err)
	}
	revalidated("ghi")
	err = kv.Update(ctx, c, "k", func(old []byte, _ bool) ([]byte, error) { return append(old, '!'), nil })
	if err != nil {
		t.Fatal(err)
	}
	revalidated("ghi!")
}

// TestCacheDropsOnConflictAndUnknownOutcome: a conditional write that
// conflicts, or whose outcome is unknown, leaves no entry, so the next
// read asks the back.
func TestCacheDropsOnConflictAndUnknownOutcome(t *testing.T) {
	for name, backErr := range map[string]error{"conflict": kv.ErrConflict, "unknown": kv.ErrOutcomeUnknown} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			mem := kv.NewMemory[[]byte]()
			back := &outcomeBack{Memory: mem}
			c := cache.New(back, nil)
			version, err := c.(kv.Versioned[[]byte]).SetIfAbsent(ctx, "k", []byte("mine"))
			if err != nil {
				t.Fatal(err)
			}
			// The write is applied but its reply says otherwise.
			back.fail = backErr
			if _, err := c.(kv.Versioned[[]byte]).CompareAndSwap(ctx, "k", version, []byte("next")); !errors.Is(err, backErr) {
				t.Fatalf("CompareAndSwap = %v; want %v", err, backErr)
			}
			back.fail = nil
			mustGetValue(t, c, "k", "next") // not the stale "mine"
		})
	}
}

// outcomeBack applies every CompareAndSwap and then, when fail is set,
// reports fail instead of success: a lost reply.
type outcomeBack struct {
	*kv.Memory[[]byte]
	fail error
}

func (b *outcomeBack) CompareAndSwap(ctx context.Context, key string, old kv.Version, v []byte) (kv.Version, error) {
	version, err := b.Memory.CompareAndSwap(ctx, key, old, v)
	if err == nil && b.fail != nil {
		return "", b.fail
	}
	return version, err
}

// TestCacheNeverKeepsCorrupt: a value the back reports corrupt is not
// cached, and an entry whose key turns corrupt is dropped.
func TestCacheNeverKeepsCorrupt(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	back := &corruptBack{Memory: kv.NewMemory[[]byte]()}
	c := cache.New(back, &cache.Options{TTL: time.Second, Now: clock.Now})
	if err := back.Memory.Set(ctx, "k", []byte("good")); err != nil {
		t.Fatal(err)
	}
	mustGetValue(t, c, "k", "good")
	clock.Advance(time.Second)
	back.corrupt = true
	if _, err := c.Get(ctx, "k"); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("Get of a corrupt value = %v; want ErrCorrupt", err)
	}
	if ok, _ := c.Has(ctx, "k"); !ok {
		t.Fatal("Has after a corrupt read: false")
	}
	if n := c.Stats().Entries; n != 0 {
		t.Errorf("entries after a corrupt read: %d; want 0 (the old entry dropped)", n)
	}
	if _, err := c.Get(ctx, "k"); !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("second Get of a corrupt value = %v; want ErrCorrupt again, not a cached value", err)
	}
}

// corruptBack reports ErrCorrupt for every read while corrupt is set.
type corruptBack struct {
	*kv.Memory[[]byte]
	corrupt bool
}

func (b *corruptBack) GetVersion(ctx context.Context, key string) ([]byte, kv.Version, error) {
	if b.corrupt {
		return nil, "", kv.ErrCorrupt
	}
	return b.Memory.GetVersion(ctx, key)
}

func (b *corruptBack) GetIfChanged(ctx context.Context, key string, known kv.Version) ([]byte, kv.Version, bool, error) {
	if b.corrupt {
		return nil, "", false, kv.ErrCorrupt
	}
	return b.Memory.GetIfChanged(ctx, key, known)
}

func TestCacheWithoutVersionedRefetches(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	back := newCountingBack()
	if err := back.mem.Set(ctx, "k", []byte("value")); err != nil {
		t.Fatal(err)
	}
	c := cache.New(back, &cache.Options{TTL: time.Second, Now: clock.Now})
	mustGetValue(t, c, "k", "value")
	mustGetValue(t, c, "k", "value")
	wantCounts(t, back, backCounts{Gets: 1, ValueBytes: 5})
	clock.Advance(time.Second)
	mustGetValue(t, c, "k", "value")
	wantCounts(t, back, backCounts{Gets: 2, ValueBytes: 10})
	wantStats(t, c, cache.Stats{Hits: 1, Misses: 2})
}

func TestCacheNegativeTTLAlwaysAsks(t *testing.T) {
	back := newCountingBack()
	if err := back.mem.Set(t.Context(), "k", []byte("value")); err != nil {
		t.Fatal(err)
	}
	c := cache.New(countingVersionedBack{back}, &cache.Options{TTL: -1})
	for range 3 {
		mustGetValue(t, c, "k", "value")
	}
	wantCounts(t, back, backCounts{Gets: 1, GetIfChanged: 2, ValueBytes: 5})
	if ok, err := c.Has(t.Context(), "k"); !ok || err != nil {
		t.Fatalf("Has = %v, %v", ok, err)
	}
	wantCounts(t, back, backCounts{Gets: 1, GetIfChanged: 2, Has: 1, ValueBytes: 5})
}

func TestCacheEvicts(t *testing.T) {
	ctx := t.Context()
	back := newCountingBack()
	const (
		n         = 200
		valueSize = 1000
		maxBytes  = 20 * (valueSize + 100)
	)
	c := cache.NewSync(countingVersionedBack{back}, &cache.Options{MaxBytes: maxBytes})
	value := func(i int) string { return fmt.Sprintf("%04d", i) + strings.Repeat("x", valueSize-4) }
	for i := range n {
		if err := c.Set(ctx, fmt.Sprint("k", i), []byte(value(i))); err != nil {
			t.Fatal(err)
		}
	}
	cache.CleanUp(c)
	stats := c.Stats()
	if stats.Bytes > maxBytes || stats.Entries >= n || stats.Entries == 0 {
		t.Errorf("after %d values of %d bytes: %d entries weigh %d bytes; want some, at most %d bytes", n, valueSize, stats.Entries, stats.Bytes, maxBytes)
	}
	// Has answers from the entries left, and fills nothing: it counts them.
	for i := range n {
		if ok, err := c.Has(ctx, fmt.Sprint("k", i)); err != nil || !ok {
			t.Fatalf("Has(k%d) = %v, %v", i, ok, err)
		}
	}
	kept := c.Stats().Hits
	if kept == 0 || kept > uint64(stats.Entries) {
		t.Errorf("Has answered %d keys from the cache; want some, at most its %d entries", kept, stats.Entries)
	}
	// Every value still reads right; the evicted ones come from the back.
	for i := range n {
		mustGetValue(t, c, fmt.Sprint("k", i), value(i))
	}
	if gets := back.counts().Gets; gets < n-int64(kept) {
		t.Errorf("back Gets = %d; want at least the %d evicted keys", gets, n-int64(kept))
	}
}

func TestCacheSkipsValuesOverMaxBytes(t *testing.T) {
	ctx := t.Context()
	back := newCountingBack()
	c := cache.New(countingVersionedBack{back}, &cache.Options{MaxBytes: 1000})
	big := strings.Repeat("b", 1000)
	if err := c.Set(ctx, "big", []byte(big)); err != nil {
		t.Fatal(err)
	}
	mustGetValue(t, c, "big", big)
	mustGetValue(t, c, "big", big)
	wantCounts(t, back, backCounts{Gets: 2, ValueBytes: 2000})
	cache.CleanUp(c)
	if stats := c.Stats(); stats.Entries != 0 || stats.Bytes != 0 {
		t.Errorf("Stats = %+v; want nothing cached", stats)
	}
}

func TestCacheSetAndDelete(t *testing.T) {
	ctx := t.Context()
	back := newCountingBack()
	c := cache.New(countingVersionedBack{back}, nil)
	if err := c.Set(ctx, "k", []byte("one")); err != nil {
		t.Fatal(err)
	}
	mustGetValue(t, c, "k", "one")
	if err := c.Set(ctx, "k", []byte("two")); err != nil {
		t.Fatal(err)
	}
	mustGetValue(t, c, "k", "two")
	if got, err := back.mem.Get(ctx, "k"); err != nil || string(got) != "two" {
		t.Errorf("back has %q, %v; want \"two\" written through", got, err)
	}
	wantCounts(t, back, backCounts{})

	if err := c.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get after Delete = %v; want ErrNotFound", err)
	}
	if ok, err := c.Has(ctx, "k"); ok || err != nil {
		t.Errorf("Has after Delete = %v, %v; want false, nil", ok, err)
	}
	if ok, err := back.mem.Has(ctx, "k"); ok || err != nil {
		t.Errorf("back Has after Delete = %v, %v; want false, nil", ok, err)
	}

	// The caller's slice is not kept.
	v := []byte("mine")
	if err := c.Set(ctx, "k", v); err != nil {
		t.Fatal(err)
	}
	v[0] = 'X'
	mustGetValue(t, c, "k", "mine")
}

func TestCacheErrorsAreNotCached(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	back := newCountingBack()
	c := cache.New(countingVersionedBack{back}, &cache.Options{TTL: time.Second, Now: clock.Now})
	if err := back.mem.Set(ctx, "k", []byte("v1")); err != nil {
		t.Fatal(err)
	}

	back.failReads.Store(1)
	if _, err := c.Get(ctx, "k"); !errors.Is(err, errBack) {
		t.Fatalf("Get with a failing back = %v; want errBack", err)
	}
	mustGetValue(t, c, "k", "v1") // asks again
	wantCounts(t, back, backCounts{Gets: 2, ValueBytes: 2})

	// A failed revalidation is returned, and the next Get tries again.
	clock.Advance(time.Second)
	back.failReads.Store(1)
	if _, err := c.Get(ctx, "k"); !errors.Is(err, errBack) {
		t.Fatalf("Get with a failing revalidation = %v; want errBack", err)
	}
	mustGetValue(t, c, "k", "v1")
	wantCounts(t, back, backCounts{Gets: 2, GetIfChanged: 2, ValueBytes: 2})

	// A missing key is not remembered as missing.
	if _, err := c.Get(ctx, "later"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(later) = %v; want ErrNotFound", err)
	}
	if err := back.mem.Set(ctx, "later", []byte("here")); err != nil {
		t.Fatal(err)
	}
	mustGetValue(t, c, "later", "here")

	// A failed Set drops the entry, so reads show what the back holds. Set
	// tries CompareAndSwap on the entry's version first, then Set: both fail.
	back.failSets.Store(2)
	if err := c.Set(ctx, "k", []byte("v2")); !errors.Is(err, errBack) {
		t.Fatalf("Set with a failing back = %v; want errBack", err)
	}
	mustGetValue(t, c, "k", "v1")
}

// TestCacheRacingWrites: writers and readers of the same keys at once never
// leave the cache holding something other than the back store's value.
func TestCacheRacingWrites(t *testing.T) {
	ctx := t.Context()
	mem := kv.NewMemory[[]byte]()
	slow := yieldingBack{mem}
	keys := []string{"a", "b", "c"}
	for round := range 50 {
		c := cache.New(slow, &cache.Options{TTL: time.Hour})
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for i := range 200 {
					key := keys[r.IntN(len(keys))]
					switch r.IntN(4) {
					case 0:
						_ = c.Set(ctx, key, fmt.Appendf(nil, "%d-%d", w, i))
					case 1:
						_ = c.Delete(ctx, key)
					default:
						_, _ = c.Get(ctx, key)
					}
				}
			})
		}
		wg.Wait()
		for _, key := range keys {
			want, wantErr := mem.Get(ctx, key)
			got, err := c.Get(ctx, key)
			if !bytes.Equal(got, want) || (err == nil) != (wantErr == nil) {
				t.Fatalf("round %d: cache Get(%q) = %q, %v; back holds %q, %v", round, key, got, err, want, wantErr)
			}
		}
	}
}

// yieldingBack lets other goroutines run a few times before and after
// each call, so that calls interleave more.
type yieldingBack struct{ *kv.Memory[[]byte] }

func yieldSome() {
	for range rand.IntN(4) {
		runtime.Gosched()
	}
}

func (b yieldingBack) GetVersion(ctx context.Context, key string) ([]byte, kv.Version, error) {
	yieldSome()
	defer yieldSome()
	return b.Memory.GetVersion(ctx, key)
}

func (b yieldingBack) Set(ctx context.Context, key string, v []byte) error {
	yieldSome()
	defer yieldSome()
	return b.Memory.Set(ctx, key, v)
}

func (b yieldingBack) Delete(ctx context.Context, key string) error {
	yieldSome()
	defer yieldSome()
	return b.Memory.Delete(ctx, key)
}

func TestCacheKeysPassThrough(t *testing.T) {
	ctx := t.Context()
	back := newCountingBack()
	for _, key := range []string{"b", "a/1", "a/2"} {
		if err := back.mem.Set(ctx, key, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := cache.New(back, nil) // back is no PrefixLister: the cache filters
	for prefix, want := range map[string][]string{"": {"a/1", "a/2", "b"}, "a/": {"a/1", "a/2"}, "c": nil} {
		seq, errf := c.KeysWithPrefix(ctx, prefix)
		var got []string
		for key := range seq {
			got = append(got, key)
		}
		if err := errf(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("KeysWithPrefix(%q) (-want +got):\n%s", prefix, diff)
		}
	}
}

func BenchmarkCacheGet(b *testing.B) {
	value := bytes.Repeat([]byte("v"), 4096)
	for _, bc := range []struct {
		name string
		opts *cache.Options
	}{
		{"Hit", nil},
		{"Revalidate", &cache.Options{TTL: -1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := b.Context()
			c := cache.New(kv.NewMemory[[]byte](), bc.opts)
			keys := make([]string, 1024)
			for i := range keys {
				keys[i] = fmt.Sprint("key/", i)
				if err := c.Set(ctx, keys[i], value); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Get(ctx, keys[i]); err != nil { // learn the version
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(len(keys))
				for pb.Next() {
					if _, err := c.Get(ctx, keys[i%len(keys)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

// layerPlain hides every optional ability of the store it holds: only the
// Store methods are left.
type layerPlain struct{ kv.Store[[]byte] }

// errLayerListing is the failure of layerFailingKeys' listings.
var errLayerListing = errors.New("listing failed on purpose")

// layerFailingKeys is a store whose listings fail after yielding nothing.
type layerFailingKeys struct{ kv.Store[[]byte] }

func (layerFailingKeys) Keys(context.Context) (iter.Seq[string], func() error) {
	return func(func(string) bool) {}, func() error { return errLayerListing }
}

// checkCounter is a Memory that counts calls of its CheckKey method.
type checkCounter struct {
	*kv.Memory[[]byte]
	calls atomic.Int64
}

func (c *checkCounter) CheckKey(key string) error {
	c.calls.Add(1)
	return c.Memory.CheckKey(key)
}

// TestCacheChecksKeysOnce: Cache leaves the key check to the store behind
// (a key that store refuses never has an entry), so a key is checked once
// per call.
func TestCacheChecksKeysOnce(t *testing.T) {
	ctx := t.Context()
	back := &checkCounter{Memory: kv.NewMemory[[]byte]()}
	c := cache.New(back, nil)
	if err := c.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	mustGetValue(t, c, "k", "v")
	if _, err := c.Get(ctx, "bad\xff"); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("Get(invalid key) = %v; want ErrInvalidKey", err)
	}
	if n := back.calls.Load(); n != 0 {
		t.Errorf("%d calls of the back store's CheckKey; want 0", n)
	}
}
