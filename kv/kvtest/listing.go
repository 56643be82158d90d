package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/s3map/s3map/kv"
)

// writeConcurrency is how many writes the tests make at once when they
// fill a store.
const writeConcurrency = 16

// listingTests: Keys is sorted, spans pages, stops early without leaks,
// tolerates writes in the loop and reports failures.
func listingTests(t *testing.T, s *suite) {
	s.run(t, "Empty", func(t *testing.T) {
		wantKeys(t, s.newStore(t), nil)
	})

	s.run(t, "Order", func(t *testing.T) {
		st := s.newStore(t)
		keys := []string{"b", "a", "B", "A", "a!", "a/b", "a0", "aa", "a b", "é", "e", "z", "~", "日本", "Z", "0", "a-", "a.b"}
		for _, key := range keys {
			mustSet(t, st, key, []byte(key))
		}
		want := slices.Clone(keys)
		slices.Sort(want) // Go compares strings byte-wise
		wantKeys(t, st, want)
	})

	s.run(t, "Afresh", func(t *testing.T) {
		st := s.newStore(t)
		mustSet(t, st, "a", []byte("1"))
		seq, errf := st.Keys(t.Context())
		first := slices.Collect(seq)
		if err := errf(); err != nil {
			t.Fatalf("Keys: %v", err)
		}
		mustSet(t, st, "b", []byte("2"))
		second := slices.Collect(seq) // the same sequence, ranged again
		if err := errf(); err != nil {
			t.Fatalf("Keys, second range: %v", err)
		}
		if diff := cmp.Diff([]string{"a"}, first); diff != "" {
			t.Errorf("first range (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"a", "b"}, second); diff != "" {
			t.Errorf("second range of the same sequence must list afresh (-want +got):\n%s", diff)
		}
	})

	s.run(t, "SetDuring", func(t *testing.T) {
		st := s.newStore(t)
		var want []string
		for i := range 10 {
			key := fmt.Sprintf("key%02d", i)
			mustSet(t, st, key, []byte("old"))
			want = append(want, key)
		}
		seq, errf := st.Keys(t.Context())
		var seen []string
		for key := range seq {
			seen = append(seen, key)
			if err := st.Set(t.Context(), key, []byte("new")); err != nil {
				t.Fatalf("Set(%q) inside the loop: %v", key, err)
			}
		}
		if err := errf(); err != nil {
			t.Fatalf("Keys: %v", err)
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("keys seen while overwriting each (-want +got):\n%s", diff)
		}
		for _, key := range want {
			wantValue(t, st, key, []byte("new"))
		}
	})

	s.run(t, "Many", func(t *testing.T) {
		st := s.newStore(t)
		want := fillMany(t, st, s.opts.ManyKeys)

		t.Run("Sorted", func(t *testing.T) {
			wantKeys(t, st, want)
		})
		t.Run("BreakEarly", func(t *testing.T) {
			for _, n := range slices.Compact([]int{1, 2, min(1001, len(want)), len(want) - 1}) {
				if n < 1 {
					continue
				}
				got := firstKeys(t, st, n)
				if diff := cmp.Diff(want[:n], got); diff != "" {
					t.Errorf("first %d keys (-want +got):\n%s", n, diff)
				}
			}
		})
		t.Run("NoLeak", func(t *testing.T) {
			testNoLeak(t, st, len(want))
		})
		t.Run("DeleteDuring", func(t *testing.T) {
			seq, errf := st.Keys(t.Context())
			var seen []string
			for key := range seq {
				seen = append(seen, key)
				if err := st.Delete(t.Context(), key); err != nil {
					t.Fatalf("Delete(%q) inside the loop: %v", key, err)
				}
			}
			if err := errf(); err != nil {
				t.Fatalf("Keys: %v", err)
			}
			if diff := cmp.Diff(want, seen); diff != "" {
				t.Errorf("keys seen while deleting each (-want +got):\n%s", diff)
			}
			wantKeys(t, st, nil)
		})
	})

	s.run(t, "Failure", func(t *testing.T) {
		if s.opts.FailingKeys == nil {
			t.Skip("Options.FailingKeys is nil: no store whose listing fails was given")
		}
		st := s.opts.FailingKeys(t)
		seq, errf := st.Keys(t.Context())
		for range seq {
		}
		if err := errf(); err == nil {
			t.Fatalf("Keys on the store from Options.FailingKeys (%T): the error function returned nil after the loop; want the listing's failure", st)
		}
	})
}

// fillMany writes n keys to st, writeConcurrency at a time, and returns
// them sorted. The keys are not zero-padded, so their byte-wise order is
// not their numeric order.
func fillMany(t *testing.T, st kv.Store[[]byte], n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("many/%d", i)
	}
	var group errgroup.Group
	group.SetLimit(writeConcurrency)
	for _, key := range keys {
		group.Go(func() error {
			if err := st.Set(t.Context(), key, []byte(key)); err != nil {
				return fmt.Errorf("Set(%q): %w", key, err)
			}
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// firstKeys ranges over st.Keys, breaks after n keys and returns them. The
// error function must report nil after the break.
func firstKeys(t *testing.T, st kv.Store[[]byte], n int) []string {
	t.Helper()
	seq, errf := st.Keys(t.Context())
	var got []string
	for key := range seq {
		got = append(got, key)
		if len(got) == n {
			break
		}
	}
	if err := errf(); err != nil {
		t.Fatalf("Keys, breaking after %d keys: error = %v; want nil", n, err)
	}
	return got
}

// Goroutine leak check: after leakBreaks early breaks, the number of
// goroutines must come back to at most leakSlack above what it was before.
// A store that leaks one goroutine per break fails.
const (
	leakBreaks = 20
	leakSlack  = 10
	leakWait   = 5 * time.Second
)

// testNoLeak breaks out of st.Keys many times and checks that no
// goroutine is left behind.
func testNoLeak(t *testing.T, st kv.Store[[]byte], total int) {
	listKeys(t, st) // warm up connections and caches
	before := runtime.NumGoroutine()
	for i := range leakBreaks {
		n := 1
		if i%2 == 1 {
			n = max(1, min(1001, total-1))
		}
		firstKeys(t, st, n)
	}
	deadline := time.Now().Add(leakWait)
	for {
		now := runtime.NumGoroutine()
		if now <= before+leakSlack {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines before %d early breaks out of Keys, %d after waiting %v; the goroutines:\n%s",
				before, leakBreaks, now, leakWait, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// concurrencyTests: writers and readers at once, for the race detector and
// for torn values.
func concurrencyTests(t *testing.T, s *suite) {
	// The promise of kv.Store.Keys: one sequence ranged from several
	// goroutines at once lists every key in each range, without a data race
	// (run with -race), and its error function then reports no failure.
	s.run(t, "RangeFromGoroutines", func(t *testing.T) {
		const keys, ranges = 30, 4
		st := s.newStore(t)
		var want []string
		for i := range keys {
			key := fmt.Sprintf("k%02d", i)
			mustSet(t, st, key, []byte("v"))
			want = append(want, key)
		}
		seq, errf := st.Keys(t.Context())
		got := make([][]string, ranges)
		var wg sync.WaitGroup
		for r := range ranges {
			wg.Go(func() {
				for key := range seq {
					got[r] = append(got[r], key)
				}
			})
		}
		wg.Wait()
		for r := range ranges {
			if diff := cmp.Diff(want, got[r]); diff != "" {
				t.Errorf("range %d of %d ranging one sequence at once (-want +got):\n%s", r, ranges, diff)
			}
		}
		if err := errf(); err != nil {
			t.Errorf("error function after the ranges: %v", err)
		}
	})

	s.run(t, "ReadersAndWriters", func(t *testing.T) {
		const (
			writers = 8
			writes  = 10
			readers = 4
			reads   = 20
		)
		st := s.newStore(t)
		ctx := t.Context()
		written := make(map[string]bool) // every value "shared" may hold
		for w := range writers {
			for i := range writes {
				written[fmt.Sprintf("writer %d write %d", w, i)] = true
			}
		}
		var group errgroup.Group
		for w := range writers {
			group.Go(func() error {
				for i := range writes {
					value := fmt.Appendf(nil, "writer %d write %d", w, i)
					if err := st.Set(ctx, fmt.Sprintf("w%d/%d", w, i), value); err != nil {
						return err
					}
					if err := st.Set(ctx, "shared", value); err != nil {
						return err
					}
				}
				return nil
			})
		}
		for range readers {
			group.Go(func() error {
				for range reads {
					got, err := st.Get(ctx, "shared")
					switch {
					case errors.Is(err, kv.ErrNotFound):
					case err != nil:
						return fmt.Errorf("Get(shared): %w", err)
					case !written[string(got)]:
						return fmt.Errorf("Get(shared) = %s, a value nobody wrote", describe(got))
					}
					if _, err := st.Has(ctx, "shared"); err != nil {
						return fmt.Errorf("Has(shared): %w", err)
					}
					seq, errf := st.Keys(ctx)
					prev := ""
					for key := range seq {
						if key <= prev {
							return fmt.Errorf("listing during writes: %q after %q", key, prev)
						}
						prev = key
					}
					if err := errf(); err != nil {
						return fmt.Errorf("listing during writes: %w", err)
					}
				}
				return nil
			})
		}
		if err := group.Wait(); err != nil {
			t.Fatal(err)
		}
		want := []string{"shared"}
		for w := range writers {
			for i := range writes {
				key := fmt.Sprintf("w%d/%d", w, i)
				wantValue(t, st, key, fmt.Appendf(nil, "writer %d write %d", w, i))
				want = append(want, key)
			}
		}
		slices.Sort(want)
		wantKeys(t, st, want)
		// The last write to "shared" was the last write of some writer.
		if got := mustGet(t, st, "shared"); !written[string(got)] || !bytes.HasSuffix(got, fmt.Appendf(nil, " write %d", writes-1)) {
			t.Errorf("Get(shared) after all writes = %s; want the last write of one of the writers", describe(got))
		}
	})
}
