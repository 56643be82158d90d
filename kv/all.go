package kv

import (
	"context"
	"errors"
	"iter"
	"sync"

	"github.com/s3map/s3map/internal/seqerr"
)

// All yields every key of s and its value, in key order. It ranges over
// s.Keys and reads values with s.Get up to concurrency at once, ahead of
// the loop, so memory holds at most that many values; concurrency zero or
// less means BatchConcurrency. A key deleted between the listing and its
// read is passed over. The sequence keeps the promise of Store.Keys: the
// error function reports the first failure (of the listing or of a read)
// once the loop is over, breaking out early stops the reads and leaks
// nothing, and each range lists afresh.
func All[V any](ctx context.Context, s Store[V], concurrency int) (iter.Seq2[string, V], func() error) {
	if concurrency <= 0 {
		concurrency = BatchConcurrency
	}
	return seqerr.New2(func(yield func(string, V) bool) error {
		parent := ctx
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type fetched struct {
			key   string
			value V
			err   error
			ready chan struct{}
		}
		// pending holds the reads in key order. With the one the loop
		// below waits on, its capacity bounds the reads in flight to
		// concurrency. Each read is also handed to one of concurrency
		// long-lived readers through jobs (a goroutine per key would grow
		// a fresh stack for every Get); jobs never blocks, as it holds no
		// more than the reads in flight.
		pending := make(chan *fetched, concurrency-1)
		jobs := make(chan *fetched, concurrency)
		keys, keysErr := s.Keys(ctx)
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				for f := range jobs {
					f.value, f.err = s.Get(ctx, f.key)
					close(f.ready)
				}
			})
		}
		wg.Go(func() {
			defer close(pending)
			defer close(jobs)
			for key := range keys {
				f := &fetched{key: key, ready: make(chan struct{})}
				select {
				case pending <- f:
				case <-ctx.Done():
					return
				}
				jobs <- f
			}
		})
		// On every way out: stop the reads, then wait for them.
		defer wg.Wait()
		defer cancel()
		for f := range pending {
			<-f.ready
			switch {
			case errors.Is(f.err, ErrNotFound):
				continue
			case f.err != nil:
				return contextOr(parent, f.err)
			}
			if !yield(f.key, f.value) {
				return nil
			}
		}
		// The listing has ended: pending is closed.
		wg.Wait()
		if err := keysErr(); err != nil {
			return err
		}
		return parent.Err()
	})
}
