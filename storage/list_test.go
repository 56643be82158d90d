package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

func TestList(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		var want []string
		for i := range 23 {
			k := fmt.Sprintf("l/%02d", i)
			want = append(want, k)
			if _, err := st.Put(ctx, storage.Name{Key: k}, strings.NewReader(k), nil); err != nil {
				t.Fatal(err)
			}
		}
		st.Put(ctx, storage.Name{Key: "m/outside"}, strings.NewReader("x"), nil)
		list := func(opts *storage.ListOptions) []string {
			t.Helper()
			var got []string
			seq, errf := st.List(ctx, "", "l/", opts)
			for info := range seq {
				got = append(got, info.Name.Key)
				if info.Size != 4 || info.ETag == "" {
					t.Errorf("listed %s with size %d etag %q", info.Name.Key, info.Size, info.ETag)
				}
			}
			if err := errf(); err != nil {
				t.Fatal(err)
			}
			return got
		}
		if diff := cmp.Diff(want, list(nil)); diff != "" {
			t.Errorf("List (-want +got):\n%s", diff)
		}
		var lists atomic.Int64
		paged := withTransport(t, tg, countRequests(&lists, http.MethodGet, "list-type"), nil)
		var got []string
		seq, errf := paged.List(ctx, "", "l/", &storage.ListOptions{PageSize: 5})
		for info := range seq {
			got = append(got, info.Name.Key)
		}
		if err := errf(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("List in pages of 5 (-want +got):\n%s", diff)
		}
		if n := lists.Load(); n != 5 {
			t.Errorf("23 keys in pages of 5 took %d requests; want 5", n)
		}
		if diff := cmp.Diff(want[10:], list(&storage.ListOptions{StartAfter: "l/09"})); diff != "" {
			t.Errorf("List StartAfter (-want +got):\n%s", diff)
		}
		// Breaking early stops the requests.
		lists.Store(0)
		seq, errf = paged.List(ctx, "", "l/", &storage.ListOptions{PageSize: 5})
		for info := range seq {
			if info.Name.Key == "l/02" {
				break
			}
		}
		if err := errf(); err != nil || lists.Load() != 1 {
			t.Errorf("breaking in the first page: err %v after %d requests; want nil after 1", err, lists.Load())
		}
		// Delimiter: directories.
		var dirs []string
		seq, errf = st.List(ctx, "", "", &storage.ListOptions{Delimiter: "/"})
		for info := range seq {
			if info.IsPrefix {
				dirs = append(dirs, info.Name.Key)
			}
		}
		if err := errf(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"l/", "m/"}, dirs); diff != "" {
			t.Errorf("List with Delimiter (-want +got):\n%s", diff)
		}
	})
}

// A failure in the middle of a listing reaches the error function.
func TestListFailureReachesErrorFunc(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		for i := range 6 {
			tg.Storage.Put(ctx, storage.Name{Key: fmt.Sprint(i)}, strings.NewReader("x"), nil)
		}
		var lists atomic.Int64
		failing := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.URL.Query().Has("list-type") && lists.Add(1) == 2 {
					return nil, errors.New("injected network failure")
				}
				return next.RoundTrip(r)
			})
		}, nil)
		// One attempt, so the injected failure is not retried away.
		o := failing.Client().Options()
		o.RetryMaxAttempts = 1
		failing, _ = storage.New(s3.New(o), &storage.Options{DefaultBucket: tg.Config.DefaultBucket})
		n := 0
		seq, errf := failing.List(ctx, "", "", &storage.ListOptions{PageSize: 2})
		for range seq {
			n++
		}
		err := errf()
		if err == nil || !strings.Contains(err.Error(), "injected network failure") {
			t.Errorf("error func after a failed second page: %v; want the injected failure", err)
		}
		if n != 2 {
			t.Errorf("yielded %d keys before the failure; want the first page's 2", n)
		}
	})
}

func TestDeleteMany(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		var keys []string
		for i := range 2100 {
			keys = append(keys, fmt.Sprintf("d/%04d", i))
		}
		putAll(t, st, keys)
		var deletes atomic.Int64
		counted := withTransport(t, tg, countRequests(&deletes, http.MethodPost, "delete"), nil)
		bad := "bad\xff"
		withBad := append(slices.Clone(keys), bad, "d/never-existed")
		err := counted.DeleteMany(ctx, "", slices.Values(withBad))
		var be *storage.BatchError
		if !errors.As(err, &be) || len(be.Failed) != 1 || be.Failed[0].Key != bad || !errors.Is(err, storage.ErrInvalidName) {
			t.Fatalf("DeleteMany with one invalid key: %v; want a BatchError naming only it", err)
		}
		if n := deletes.Load(); n != 3 {
			t.Errorf("2101 keys took %d DeleteObjects requests; want 3", n)
		}
		seq, errf := st.List(ctx, "", "d/", nil)
		for info := range seq {
			t.Errorf("%s still listed after DeleteMany", info.Name.Key)
		}
		if err := errf(); err != nil {
			t.Fatal(err)
		}
	})
}

func putAll(t testing.TB, st *storage.Storage, keys []string) {
	t.Helper()
	ctx := context.Background()
	sem := make(chan struct{}, 16)
	errs := make(chan error, len(keys))
	for _, k := range keys {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := st.Put(ctx, storage.Name{Key: k}, strings.NewReader(k), nil)
			errs <- err
		}()
	}
	for range keys {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// putEmpty puts n empty objects d/0000, d/0001 ...
func putEmpty(t *testing.T, st *storage.Storage, n int) {
	t.Helper()
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			_, err := st.Put(ctx, storage.Name{Key: fmt.Sprintf("d/%04d", i)}, nil, nil)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// deleteListed feeds DeleteMany the listing of d/, as Clear does.
func deleteListed(t *testing.T, st *storage.Storage) {
	t.Helper()
	ctx := context.Background()
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
}

// checkNoneLeft fails unless nothing is listed under d/.
func checkNoneLeft(t *testing.T, st *storage.Storage) {
	t.Helper()
	left := 0
	rest, errf := st.List(context.Background(), "", "d/", nil)
	for range rest {
		left++
	}
	if errf() != nil || left != 0 {
		t.Errorf("%d keys left (%v)", left, errf())
	}
}

// DeleteMany fed by a listing (as bucketmap's Clear does) lists the next
// page while the full batch before it is deleted: the first DeleteObjects
// is held until the second ListObjectsV2 has gone out, which never happens
// if listing and deleting take turns.
func TestDeleteManyListsWhileDeleting(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		putEmpty(t, tg.Storage, 1001) // two pages, two batches
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
		deleteListed(t, st)
		if !overlapped {
			t.Errorf("the first DeleteObjects went out with no listing in flight after it: requests %v", order)
		}
		checkNoneLeft(t, tg.Storage)
	})
}

// DeleteMany keeps more than one DeleteObjects out, and the listing fed in
// runs ahead of them: every DeleteObjects is held until the third and
// last ListObjectsV2 of 2001 keys has gone out, which never happens when
// the listing waits for a batch's delete (one request in flight: the
// listing of page 3 waits for the delete of page 1).
func TestDeleteManyKeepsSeveralBatchesOut(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		putEmpty(t, tg.Storage, 2001) // three pages, three batches
		var (
			mu              sync.Mutex
			lists, inFlight int
			most            int
			lastList        = make(chan struct{})
			heldTooLong     atomic.Bool
		)
		st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				switch s3test.Operation(r) {
				case "ListObjectsV2":
					mu.Lock()
					if lists++; lists == 3 {
						close(lastList)
					}
					mu.Unlock()
				case "DeleteObjects":
					mu.Lock()
					inFlight++
					most = max(most, inFlight)
					mu.Unlock()
					select {
					case <-lastList:
					case <-time.After(10 * time.Second): // a guard against waiting forever, not a measurement
						heldTooLong.Store(true)
					}
					resp, err := next.RoundTrip(r)
					mu.Lock()
					inFlight--
					mu.Unlock()
					return resp, err
				}
				return next.RoundTrip(r)
			})
		}, nil)
		deleteListed(t, st)
		if heldTooLong.Load() || most < 2 {
			t.Errorf("the listing did not run ahead of the deletes: at most %d DeleteObjects out at once, %d listings", most, lists)
		}
		checkNoneLeft(t, tg.Storage)
	})
}

// A listing reply that names a key outside the prefix listed (here its
// second page, rewritten on the way) ends the listing before that key
// with ErrCorrupt: no caller sees, and so acts on, a name it did not ask
// for.
func TestListRefusesKeysOutsideThePrefix(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		for _, k := range []string{"in/a", "in/b", "in/c", "in/d", "out"} {
			if _, err := tg.Storage.Put(ctx, storage.Name{Key: k}, strings.NewReader(k), nil); err != nil {
				t.Fatal(err)
			}
		}
		st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := next.RoundTrip(r)
				if err != nil || !r.URL.Query().Has("continuation-token") {
					return resp, err
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					return nil, err
				}
				// The page's keys are in/c and in/d: in/c becomes "out".
				body = bytes.Replace(body, []byte("<Key>in%2Fc</Key>"), []byte("<Key>out</Key>"), 1)
				body = bytes.Replace(body, []byte("<Key>in/c</Key>"), []byte("<Key>out</Key>"), 1)
				resp.Body = io.NopCloser(bytes.NewReader(body))
				resp.ContentLength = int64(len(body))
				resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
				return resp, nil
			})
		}, nil)
		var got []string
		seq, errf := st.List(ctx, "", "in/", &storage.ListOptions{PageSize: 2})
		for info := range seq {
			got = append(got, info.Name.Key)
		}
		err := errf()
		if !errors.Is(err, storage.ErrCorrupt) {
			t.Errorf("List after a reply naming a key outside the prefix: %v; want ErrCorrupt", err)
		}
		if want := []string{"in/a", "in/b"}; !slices.Equal(got, want) {
			t.Errorf("List yielded %q; want only the first page, %q", got, want)
		}
	})
}
