package storage_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// DeleteMany fed by a listing (as bucketmap's Clear does) lists the next
// page while the full batch before it is deleted: the first DeleteObjects
// is held until the second ListObjectsV2 has gone out, which never happens
// if listing and deleting take turns.
func TestDeleteManyListsWhileDeleting(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		const n = 1001 // two pages, two batches
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(16)
		for i := range n {
			g.Go(func() error {
				_, err := tg.Storage.Put(gctx, storage.Name{Key: fmt.Sprintf("d/%04d", i)}, nil, nil)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		var (
			mu         sync.Mutex
			order      []string
			lists      int
			secondList = make(chan struct{})
			heldOnce   sync.Once
			overlapped bool
		)
		st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				op := s3test.Operation(r)
				mu.Lock()
				order = append(order, op)
				if op == "ListObjectsV2" {
					lists++
					if lists == 2 {
						close(secondList)
					}
				}
				mu.Unlock()
				if op == "DeleteObjects" {
					heldOnce.Do(func() {
						select {
						case <-secondList:
							overlapped = true
						case <-time.After(10 * time.Second): // a guard against waiting forever, not a measurement
						}
					})
				}
				return next.RoundTrip(r)
			})
		}, nil)
		keys, errf := st.List(ctx, "", "d/", nil)
		err := st.DeleteMany(ctx, "", func(yield func(string) bool) {
			for info := range keys {
				if !yield(info.Name.Key) {
					return
				}
			}
		})
		if err != nil || errf() != nil {
			t.Fatalf("DeleteMany: %v; List: %v", err, errf())
		}
		if !overlapped {
			t.Errorf("the first DeleteObjects went out with no listing in flight after it: requests %v", order)
		}
		left := 0
		rest, errf := tg.Storage.List(ctx, "", "d/", nil)
		for range rest {
			left++
		}
		if errf() != nil || left != 0 {
			t.Errorf("%d keys left (%v)", left, errf())
		}
	})
}
