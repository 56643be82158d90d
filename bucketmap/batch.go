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
// once. Missing keys are absent from the map. Keys that fail are reported
// in a *kv.BatchError, each with its reason; the others are returned. A
// cancelled context is returned as it is.
func (m *BucketMap) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
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

// SetMany stores every item, up to Options.Concurrency at once. Keys that
// fail are reported in a *kv.BatchError; the others are stored.
func (m *BucketMap) SetMany(ctx context.Context, items map[string][]byte) error {
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return m.each(ctx, "SetMany", keys, func(ctx context.Context, key string) error {
		return m.Set(ctx, key, items[key])
	})
}

// DeleteMany deletes keys with DeleteObjects, 1000 keys a request. Missing
// keys are not errors. Keys that fail, invalid ones included, are reported
// in a *kv.BatchError; the others are deleted.
func (m *BucketMap) DeleteMany(ctx context.Context, keys []string) error {
	be := &kv.BatchError{Op: "DeleteMany", Failed: map[string]error{}}
	valid := make([]string, 0, len(keys))
	for _, k := range keys {
		if _, err := m.name("DeleteMany", k); err != nil {
			be.Failed[k] = err
			continue
		}
		valid = append(valid, m.prefix+k)
	}
	if m.err == nil {
		err := m.st.DeleteMany(ctx, m.bucket, slices.Values(valid))
		var sbe *storage.BatchError
		switch {
		case errors.As(err, &sbe):
			for _, f := range sbe.Failed {
				be.Failed[f.Key[len(m.prefix):]] = wrapErr(f)
			}
		case err != nil:
			return wrapErr(err)
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
// stops the fetches and leaks nothing.
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
		// pending holds the fetches in key order; its capacity bounds
		// how far ahead they run.
		pending := make(chan *fetched, m.opts.Concurrency)
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
