package bucketmap

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/storage"
)

// GetMany returns the values of keys, fetching up to Options.Concurrency at
// once. Missing keys are absent from the map. Invalid keys fail the whole
// batch before any request, with a *kv.BatchError naming each. Keys that
// fail later are reported in a *kv.BatchError, each with its reason; the
// others are returned. A cancelled context is returned as it is.
func (m *BucketMap) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	if err := m.checkAll("GetMany", keys); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	values := make(map[string][]byte, len(keys))
	err := m.each(ctx, "GetMany", keys, func(ctx context.Context, key string) error {
		v, err := m.Get(ctx, key)
		if errors.Is(err, kv.ErrNotFound) {
			return nil
		}
		if err == nil {
			mu.Lock()
			values[key] = v
			mu.Unlock()
		}
		return err
	})
	return values, err
}

// SetMany stores every item, up to Options.Concurrency at once. Invalid
// keys fail the whole batch before any request; keys that fail later are
// reported in a *kv.BatchError, and the others are stored.
func (m *BucketMap) SetMany(ctx context.Context, items map[string][]byte) error {
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if err := m.checkAll("SetMany", keys); err != nil {
		return err
	}
	return m.each(ctx, "SetMany", keys, func(ctx context.Context, key string) error {
		return m.Set(ctx, key, items[key])
	})
}

// DeleteMany deletes keys with DeleteObjects, 1000 keys a request. Missing
// keys are not errors. Invalid keys fail the whole batch before any
// request; keys the server refuses are reported in a *kv.BatchError, and
// the others are deleted.
func (m *BucketMap) DeleteMany(ctx context.Context, keys []string) error {
	if err := m.checkAll("DeleteMany", keys); err != nil {
		return err
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = m.prefix + k
	}
	err := m.st.DeleteMany(ctx, m.bucket, slices.Values(full))
	var sbe *storage.BatchError
	if !errors.As(err, &sbe) {
		return wrapErr(err)
	}
	be := &kv.BatchError{Op: "DeleteMany", Failed: map[string]error{}}
	for _, f := range sbe.Failed {
		be.Failed[f.Key[len(m.prefix):]] = wrapErr(f)
	}
	return be
}

// checkAll refuses a batch holding an invalid key, before anything is
// done, with a *kv.BatchError naming every invalid key.
func (m *BucketMap) checkAll(op string, keys []string) error {
	be := &kv.BatchError{Op: op, Failed: map[string]error{}}
	for _, k := range keys {
		if _, err := m.name(op, k); err != nil {
			be.Failed[k] = err
		}
	}
	if len(be.Failed) > 0 {
		return be
	}
	return nil
}

// each calls f for every key, up to Options.Concurrency at once, gathering
// per-key failures in a *kv.BatchError. A cancelled context stops it and
// is returned as it is.
func (m *BucketMap) each(ctx context.Context, op string, keys []string, f func(context.Context, string) error) error {
	be := &kv.BatchError{Op: op, Failed: map[string]error{}}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(m.opts.Concurrency)
	for _, key := range keys {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := f(ctx, key); err != nil {
				mu.Lock()
				be.Failed[key] = err
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(be.Failed) > 0 {
		return be
	}
	return nil
}

// All yields every key and its value, in key order. It lists a page of
// keys at a time and fetches up to Options.Concurrency values ahead, in
// parallel, so memory holds at most that many values. A key deleted
// between the listing and the fetch is passed over. The error function
// reports the first failure once the loop is over; breaking out early
// stops the fetches and leaks nothing. Each range lists afresh and resets
// the error function: range one sequence from one goroutine at a time.
func (m *BucketMap) All(ctx context.Context) (iter.Seq2[string, []byte], func() error) {
	var failure error
	seq := func(yield func(string, []byte) bool) {
		failure = nil
		parent := ctx
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type fetched struct {
			key   string
			value []byte
			err   error
			ready chan struct{}
		}
		// pending holds the fetches in key order. With the one the loop
		// below waits on, its capacity bounds the fetches in flight to
		// Concurrency.
		pending := make(chan *fetched, m.opts.Concurrency-1)
		keys, keysErr := m.Keys(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(pending)
			for key := range keys {
				f := &fetched{key: key, ready: make(chan struct{})}
				select {
				case pending <- f:
				case <-ctx.Done():
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer close(f.ready)
					f.value, f.err = m.Get(ctx, f.key)
				}()
			}
		}()
		// On every way out: stop the fetches, then wait for them.
		defer wg.Wait()
		defer cancel()
		for f := range pending {
			<-f.ready
			switch {
			case errors.Is(f.err, kv.ErrNotFound):
				continue
			case f.err != nil:
				failure = f.err
				return
			}
			if !yield(f.key, f.value) {
				return
			}
		}
		// The listing has ended: pending is closed.
		wg.Wait()
		if failure = keysErr(); failure == nil {
			failure = parent.Err()
		}
	}
	return seq, func() error { return failure }
}
