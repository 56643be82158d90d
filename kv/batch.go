package kv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// BatchConcurrency is how many single calls GetMany, SetMany and
// DeleteMany make at once on a store that is not a Batcher, and how many
// values All reads ahead by default: the one concurrency default of this
// module's map code (BucketMap's batches and All use it too).
//
// 16 is measured (the peer benchmark in bench/: GetMany and SetMany of
// 1 KiB values beside BucketMap Get and Set on 8 and 32 goroutines, on
// versitygw and MinIO over loopback, 2 cores): 8 left the servers idle
// between requests (Get 5-15% slower than 16); 32 gained 0-5% on Get,
// was level or slower on Set (MinIO: 11.2 s against 10.3 s on 8 for
// 10,000 values), and doubles the connections and values in flight. 16
// is also what the raw-SDK peers are measured with. On links with more
// latency than loopback more calls at once gain more: BucketMap's All
// takes Options.Concurrency.
const BatchConcurrency = 16

// BatchError reports the keys of a batch that failed, each with its own
// error. The keys not named were done. errors.Is and errors.As look
// through every per-key error, so errors.Is(err, ErrInvalidKey) holds when
// any key was invalid.
type BatchError struct {
	// Op is the batch operation: "GetMany", "SetMany" or "DeleteMany".
	Op string
	// Failed maps each failed key to its error.
	Failed map[string]error
}

// batchErrorShown is how many per-key errors Error spells out.
const batchErrorShown = 3

// Error names how many keys failed and the first few of them, in key order.
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kv: %s: %d key", e.Op, len(e.Failed))
	if len(e.Failed) != 1 {
		b.WriteString("s")
	}
	b.WriteString(" failed")
	keys := slices.Sorted(maps.Keys(e.Failed))
	for i, key := range keys {
		if i == batchErrorShown {
			fmt.Fprintf(&b, "; and %d more", len(keys)-i)
			break
		}
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%q: %v", sep, key, e.Failed[key])
	}
	return b.String()
}

// Unwrap returns the per-key errors in key order.
func (e *BatchError) Unwrap() []error {
	keys := slices.Sorted(maps.Keys(e.Failed))
	errs := make([]error, len(keys))
	for i, key := range keys {
		errs[i] = e.Failed[key]
	}
	return errs
}

// checkBatchKeys returns a *BatchError naming every key that CheckKey
// refuses, or nil when all are valid.
func checkBatchKeys(op string, keys iter.Seq[string]) error {
	return checkBatchKeysWith(op, keys, func(key string) error { return CheckKey("", key) })
}

// checkBatchKeysWith returns a *BatchError naming every key that check
// refuses, or nil when all are valid.
func checkBatchKeysWith(op string, keys iter.Seq[string], check func(key string) error) error {
	var failed map[string]error
	for key := range keys {
		if err := check(key); err != nil {
			if failed == nil {
				failed = make(map[string]error)
			}
			failed[key] = err
		}
	}
	if failed != nil {
		return &BatchError{Op: op, Failed: failed}
	}
	return nil
}

// keysOfMap yields the keys of m.
func keysOfMap[V any](m map[string]V) iter.Seq[string] {
	return maps.Keys(m)
}

// GetMany returns the values of keys from s. Missing keys are absent from
// the map; they are not errors. It uses s's Batcher when s has one, and
// otherwise calls Get for each distinct key, BatchConcurrency at a time.
//
// Without a Batcher, keys are first checked with s's KeyChecker (CheckKey
// when s has none): invalid keys fail the whole batch with a *BatchError
// naming each of them, before anything is read. When single reads fail, the error is a
// *BatchError naming each failed key and the map holds the keys that were
// read. A context done before anything was read returns ctx.Err() as it
// is; one done part way names each key not read in the *BatchError, with
// the context's error (errors.Is(err, context.DeadlineExceeded) holds).
func GetMany[V any](ctx context.Context, s Store[V], keys []string) (map[string]V, error) {
	if b, ok := s.(Batcher[V]); ok {
		return b.GetMany(ctx, keys)
	}
	if err := checkBatchKeysWith("GetMany", slices.Values(keys), keyCheckOf(s)); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		mu    sync.Mutex
		found = make(map[string]V, len(keys))
	)
	failed := eachKey(ctx, distinct(keys), func(key string) error {
		v, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		mu.Lock()
		found[key] = v
		mu.Unlock()
		return nil
	})
	if failed != nil {
		return found, &BatchError{Op: "GetMany", Failed: failed}
	}
	return found, nil
}

// SetMany stores every item in s. It uses s's Batcher when s has one, and
// otherwise calls Set for each item, BatchConcurrency at a time.
//
// Without a Batcher, keys are first checked with s's KeyChecker (CheckKey
// when s has none): invalid keys fail the whole batch with a *BatchError
// naming each of them, before anything is written. When single writes fail, the error is
// a *BatchError naming each failed key; the other items were written. A
// context done before anything was written returns ctx.Err() as it is;
// one done part way (a deadline) gives a *BatchError naming every key not
// known to be stored, each with the context's error, so the caller knows
// which were stored and errors.Is(err, context.DeadlineExceeded) holds.
func SetMany[V any](ctx context.Context, s Store[V], items map[string]V) error {
	if b, ok := s.(Batcher[V]); ok {
		return b.SetMany(ctx, items)
	}
	if err := checkBatchKeysWith("SetMany", keysOfMap(items), keyCheckOf(s)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := eachKey(ctx, slices.Collect(maps.Keys(items)), func(key string) error {
		return s.Set(ctx, key, items[key])
	})
	if failed != nil {
		return &BatchError{Op: "SetMany", Failed: failed}
	}
	return nil
}

// DeleteMany deletes every key from s; missing keys are not errors. It
// uses s's Batcher when s has one, and otherwise calls Delete for each
// distinct key, BatchConcurrency at a time.
//
// Without a Batcher, keys are first checked with s's KeyChecker (CheckKey
// when s has none): invalid keys fail the whole batch with a *BatchError
// naming each of them, before anything is deleted. When single deletes fail, the error is
// a *BatchError naming each failed key; the other keys were deleted. A
// context done before anything was deleted returns ctx.Err() as it is; one
// done part way names each key not deleted, with the context's error.
func DeleteMany[V any](ctx context.Context, s Store[V], keys []string) error {
	if b, ok := s.(Batcher[V]); ok {
		return b.DeleteMany(ctx, keys)
	}
	if err := checkBatchKeysWith("DeleteMany", slices.Values(keys), keyCheckOf(s)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := eachKey(ctx, distinct(keys), func(key string) error {
		return s.Delete(ctx, key)
	})
	if failed != nil {
		return &BatchError{Op: "DeleteMany", Failed: failed}
	}
	return nil
}

// distinct returns keys without repeats, in their first order.
func distinct(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := make([]string, 0, len(keys))
	for _, key := range keys {
		if !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	return out
}

// eachKey calls do for every key, on BatchConcurrency goroutines (the
// caller's among them) that each take the next key when done with one,
// until ctx is done. It returns each key's failure, or nil when none
// failed: one failure does not stop the others, and a key not started
// because ctx was done fails with ctx's error.
//
// The goroutines live for the whole batch: a goroutine per key would
// start each call on a fresh stack, and an S3 request's deep call chain
// grows and copies it every time (tens of µs of CPU per key).
func eachKey(ctx context.Context, keys []string, do func(key string) error) map[string]error {
	var (
		mu     sync.Mutex
		failed map[string]error
		next   atomic.Int64
		wg     sync.WaitGroup
	)
	fail := func(key string, err error) {
		mu.Lock()
		if failed == nil {
			failed = make(map[string]error)
		}
		failed[key] = err
		mu.Unlock()
	}
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(keys) {
				return
			}
			if err := ctx.Err(); err != nil {
				fail(keys[i], err)
				continue
			}
			if err := do(keys[i]); err != nil {
				fail(keys[i], err)
			}
		}
	}
	workers := min(BatchConcurrency, len(keys))
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	return failed
}
