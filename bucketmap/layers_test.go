package bucketmap_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/storage/s3test"
)

// updateCounts is what a run of concurrent kv.Update increments did.
type updateCounts struct {
	ok, gaveUp, failed int64 // updates that returned nil, ErrConflict, another error
	calls              int64 // calls of the update function: attempts
	mostCalls          int64 // the most attempts one update took
}

// countUpdates runs workers × each kv.Update increments of key in stores
// (workers share them round-robin) with opts, and returns what happened.
func countUpdates(t *testing.T, stores []kv.Store[[]byte], key string, workers, each int, opts *kv.UpdateOptions) updateCounts {
	t.Helper()
	var (
		c    updateCounts
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for range each {
				var calls int64
				err := kv.UpdateWithOptions(t.Context(), s, key, func(old []byte, exists bool) ([]byte, error) {
					calls++
					n := 0
					if exists {
						var err error
						if n, err = strconv.Atoi(string(old)); err != nil {
							return nil, fmt.Errorf("counter %q: %w", old, err)
						}
					}
					return []byte(strconv.Itoa(n + 1)), nil
				}, opts)
				atomic.AddInt64(&c.calls, calls)
				for {
					most := atomic.LoadInt64(&c.mostCalls)
					if calls <= most || atomic.CompareAndSwapInt64(&c.mostCalls, most, calls) {
						break
					}
				}
				switch {
				case err == nil:
					atomic.AddInt64(&c.ok, 1)
				case errors.Is(err, kv.ErrConflict):
					atomic.AddInt64(&c.gaveUp, 1)
				default:
					atomic.AddInt64(&c.failed, 1)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs[:min(len(errs), 3)] {
		t.Errorf("Update: %v", err)
	}
	return c
}

// TestUpdateCounterThroughLayers: 8 writers × 50 kv.Update increments of
// one key, with the default attempts and backoff, end at exactly 400 with
// no give-up, on every server: on the BucketMap itself, through one
// memory-over-disk-over-S3 stack
// shared by all writers, and through a stack per writer (as separate
// processes would have, each with its own caches). Afterwards no cache
// holds a stale value.
func TestUpdateCounterThroughLayers(t *testing.T) {
	const workers, each = 8, 50
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		type stack struct {
			stores []kv.Store[[]byte]
			caches []cache.Cache
			clock  *atomic.Int64 // the caches' clock, in seconds
		}
		newStack := func(t *testing.T, m kv.Store[[]byte], n int) stack {
			st := stack{clock: new(atomic.Int64)}
			for range n {
				dir, err := kv.NewDir(t.TempDir(), &kv.DirOptions{NoSync: true})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { dir.Close() })
				c := cache.New(cache.NewTiered(dir, m, nil), &cache.Options{
					TTL: time.Minute,
					Now: func() time.Time { return time.Unix(st.clock.Load(), 0) },
				})
				st.stores = append(st.stores, c)
				st.caches = append(st.caches, c)
			}
			return st
		}
		variants := []struct {
			name string
			make func(t *testing.T) stack
		}{
			{"BucketMap", func(t *testing.T) stack {
				return stack{stores: []kv.Store[[]byte]{newMap(t, tg, nil, nil)}}
			}},
			{"SharedCacheStack", func(t *testing.T) stack { return newStack(t, newMap(t, tg, nil, nil), 1) }},
			{"CacheStackPerWriter", func(t *testing.T) stack { return newStack(t, newMap(t, tg, nil, nil), workers) }},
		}
		for _, v := range variants {
			t.Run(v.name, func(t *testing.T) {
				st := v.make(t)
				c := countUpdates(t, st.stores, "counter", workers, each, nil)
				t.Logf("%s: %d updates, %d gave up, %d failed; %d attempts (%.2f each), at most %d for one",
					tg.Name, c.ok, c.gaveUp, c.failed, c.calls, float64(c.calls)/float64(workers*each), c.mostCalls)
				if c.gaveUp != 0 || c.ok != workers*each {
					t.Errorf("%d of %d updates succeeded, %d gave up; want all with the default options", c.ok, workers*each, c.gaveUp)
				}
				if tg.Caps.NonAtomicConditionalWrites {
					t.Logf("%s does not make conditional writes atomic (s3test.Caps): the final count is not checked", tg.Name)
					return
				}
				want := strconv.FormatInt(c.ok, 10)
				// The caches of writers that did not write last may hold
				// an older value until their TTL: move past it.
				if st.clock != nil && len(st.caches) > 1 {
					st.clock.Add(int64(2 * time.Minute / time.Second))
				}
				for i, s := range st.stores {
					got, err := s.Get(context.Background(), "counter")
					if err != nil || string(got) != want {
						t.Errorf("store %d: counter = %q, %v; want %s, the number of updates that returned nil", i, got, err, want)
					}
				}
			})
		}
	})
}
