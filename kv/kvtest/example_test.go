package kvtest_test

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
)

// mapStore is a store of your own: a map behind a mutex. It checks keys
// with kv.CheckKey, honours the context, copies bytes in and out, lists
// keys in order from a snapshot and releases its lock before each yield.
type mapStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMapStore() *mapStore { return &mapStore{m: map[string][]byte{}} }

func (s *mapStore) check(ctx context.Context, key string) error {
	if err := kv.CheckKey("", key); err != nil {
		return err
	}
	return ctx.Err()
}

func (s *mapStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.check(ctx, key); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, fmt.Errorf("%w: %q", kv.ErrNotFound, key)
	}
	return bytes.Clone(v), nil
}

func (s *mapStore) Set(ctx context.Context, key string, v []byte) error {
	if err := s.check(ctx, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = bytes.Clone(v)
	return nil
}

func (s *mapStore) Has(ctx context.Context, key string) (bool, error) {
	if err := s.check(ctx, key); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[key]
	return ok, nil
}

func (s *mapStore) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// Keys keeps kv.Store's promise: each range lists afresh, and ranges from
// several goroutines at once share nothing but the mutex-guarded error.
func (s *mapStore) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	var (
		mu      sync.Mutex
		lastErr error
	)
	seq := func(yield func(string) bool) {
		s.mu.Lock()
		keys := slices.Sorted(maps.Keys(s.m))
		s.mu.Unlock()
		var err error
		for _, key := range keys {
			if err = ctx.Err(); err != nil || !yield(key) {
				break
			}
		}
		mu.Lock()
		lastErr = err
		mu.Unlock()
	}
	return seq, func() error {
		mu.Lock()
		defer mu.Unlock()
		return lastErr
	}
}

// Run checks a store of your own against the whole kv.Store contract,
// again under kv.WithPrefix. Put the test function in a _test.go file of
// your package; this one is run by TestExampleStore.
func ExampleRun() {
	testConformance := func(t *testing.T) {
		kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
			return newMapStore() // a fresh, empty store for each subtest
		}, &kvtest.Options{
			// Say why your store cannot pass a subtest, if it cannot:
			// Skip: map[string]string{"Listing/Many": "lists slowly"},
		})
	}
	_ = testConformance // func TestConformance(t *testing.T) { ... } in your package
}

// TestExampleStore runs the example's store through Run, so the example
// shows a store that passes.
func TestExampleStore(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] { return newMapStore() }, nil)
}
