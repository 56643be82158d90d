package bucketmap_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// newMap returns a map on a fresh prefix of the target's bucket.
func newMap(t testing.TB, tg *s3test.Target, st *storage.Storage, opts *bucketmap.Options) *bucketmap.BucketMap {
	t.Helper()
	if st == nil {
		st = tg.Storage
	}
	m, err := bucketmap.New(st, storage.Name{Key: fmt.Sprintf("map-%d/", seq.Add(1))}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var seq atomic.Int64

// transported returns tg's Storage with its HTTP requests going through rt.
// attempts > 0 sets the attempts per request (1: an error rt injects
// fails the call at once); 0 keeps the SDK's retries, which a server that
// closes idle connections (moto) needs.
func transported(t testing.TB, tg *s3test.Target, attempts int, rt func(next http.RoundTripper) http.RoundTripper) *storage.Storage {
	t.Helper()
	o := tg.Storage.Client().Options()
	next := o.HTTPClient
	o.HTTPClient = &http.Client{Transport: rt(roundTripFunc(func(r *http.Request) (*http.Response, error) { return next.Do(r) }))}
	if attempts > 0 {
		o.RetryMaxAttempts = attempts
	}
	st, err := storage.New(s3.New(o), &storage.Options{DefaultBucket: tg.Config.DefaultBucket})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// failListing fails every ListObjectsV2 request that continues a listing
// (so a listing of the whole map fails midway, after its first page) and
// every listing of a narrower prefix than root (kv.WithPrefix's, whose keys
// fit in one page).
func failListing(root string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			q := r.URL.Query()
			if q.Has("list-type") && (q.Has("continuation-token") || len(q.Get("prefix")) > len(root)) {
				return nil, errors.New("injected listing failure")
			}
			return next.RoundTrip(r)
		})
	}
}

// kvtestOptions says what each server cannot do, and how to make a
// listing fail.
func kvtestOptions(tg *s3test.Target, prefixLen int) *kvtest.Options {
	opts := &kvtest.Options{
		KeyPrefixLen:    prefixLen,
		UnsupportedKeys: map[string]string{},
		Skip:            map[string]string{},
		FailingKeys: func(t *testing.T) kv.Store[[]byte] {
			root := fmt.Sprintf("failing-%d/", seq.Add(1))
			m, err := bucketmap.New(transported(t, tg, 1, failListing(root)), storage.Name{Key: root}, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Two pages are needed for the second listing request. They
			// are written through tg's own client, with the SDK's retries:
			// only the listing is meant to fail.
			fill, err := bucketmap.New(tg.Storage, storage.Name{Key: root}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var keys = map[string][]byte{}
			for i := range 1001 {
				keys[fmt.Sprintf("k%04d", i)] = nil
			}
			if err := fill.SetMany(context.Background(), keys); err != nil {
				t.Fatal(err)
			}
			return m
		},
	}
	if tg.Name != s3test.InProcess {
		// Still two pages of 1000, at half the requests of the default:
		// the whole suite runs four times per server.
		opts.ManyKeys = 1100
	}
	for _, k := range []string{"a//b", "a/./b", "a/../b"} {
		// Some servers refuse or rewrite them (Caps.NoDotSegmentKeys), so
		// BucketMap refuses them everywhere (TestDotSegmentsAreRefused).
		opts.UnsupportedKeys[k] = "BucketMap refuses //, /./ and /../ in object names"
	}
	if tg.Caps.NoKeyBesideSubkeys {
		// These tests store a key and keys below it ("a" and "a/b").
		for _, name := range []string{"Listing/Order", "PrefixLister/Prefixes", "PrefixLister/BreakEarly", "WithPrefix/Isolation"} {
			opts.Skip[name] = tg.Name + ` keeps objects as files, so keys "a" and "a/b" cannot both exist (Caps.NoKeyBesideSubkeys)`
		}
	}
	if tg.Caps.NonAtomicConditionalWrites {
		opts.Skip["Versioned/Counter"] = tg.Name + " does not make concurrent conditional writes atomic: it lost an increment of 400 under 8 writers"
	}
	if tg.Caps.IgnoresDeleteIfMatch {
		opts.Skip["Versioned/CompareAndDelete"] = tg.Name + " ignores If-Match on DELETE and deletes anyway (docs/servers.md)"
	} else if tg.Caps.DeletesMissingWithIfMatch {
		opts.Skip["Versioned/CompareAndDelete"] = tg.Name + " answers success to a DELETE with If-Match on a missing key"
	}
	return opts
}

// The whole kv contract, on a BucketMap and on a Sub of one, on every
// server.
func TestConformance(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		t.Run("BucketMap", func(t *testing.T) {
			prefixLen := len("map-000000/")
			kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
				m, err := bucketmap.New(tg.Storage, storage.Name{Key: fmt.Sprintf("map-%06d/", seq.Add(1))}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return m
			}, kvtestOptions(tg, prefixLen))
		})
		t.Run("Sub", func(t *testing.T) {
			prefixLen := len("map-000000/") + len("sub/")
			kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
				m, err := bucketmap.New(tg.Storage, storage.Name{Key: fmt.Sprintf("map-%06d/", seq.Add(1))}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return m.Sub("sub/")
			}, kvtestOptions(tg, prefixLen))
		})
	})
}

func TestErrorsCarryBothKinds(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		m := newMap(t, tg, nil, nil)
		_, err := m.Get(ctx, "missing")
		if !errors.Is(err, kv.ErrNotFound) || !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get missing: %v; want both kv.ErrNotFound and storage.ErrNotFound", err)
		}
		var se *storage.Error
		if !errors.As(err, &se) || se.Op != "Get" {
			t.Errorf("Get missing: %v does not unwrap to the *storage.Error", err)
		}
		first, _ := m.SetIfAbsent(ctx, "k", []byte("1"))
		_, err = m.SetIfAbsent(ctx, "k", []byte("2"))
		if !errors.Is(err, kv.ErrConflict) || !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Errorf("SetIfAbsent on a present key: %v; want kv.ErrConflict and storage.ErrPreconditionFailed", err)
		}
		if _, err := m.CompareAndSwap(ctx, "absent", first, []byte("x")); !errors.Is(err, kv.ErrConflict) {
			t.Errorf("CompareAndSwap on a missing key: %v; want kv.ErrConflict", err)
		}
		if err := m.Set(ctx, "ctl\x01", nil); !errors.Is(err, kv.ErrInvalidKey) || !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("Set with a control character: %v; want kv.ErrInvalidKey and storage.ErrInvalidName", err)
		}
		if err := m.CheckKey("ctl\x01"); !errors.Is(err, kv.ErrInvalidKey) {
			t.Errorf("CheckKey with a control character: %v; want kv.ErrInvalidKey (the same refusal as Set, without I/O)", err)
		}
		other, err := bucketmap.New(tg.Storage, storage.Name{Bucket: s3test.NewBucketName()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := other.Has(ctx, "k"); ok || err == nil || errors.Is(err, kv.ErrNotFound) {
			t.Errorf("Has in a missing bucket: %v, %v; want an error that is not kv.ErrNotFound", ok, err)
		}
	})
}

func TestNewRefusesBadRoots(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	tls := false
	noDefault, err := storage.Open(context.Background(), storage.Config{Endpoint: srv.URL, TLS: &tls, AccessKeyID: "a", SecretAccessKey: "b", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bucketmap.New(noDefault, storage.Name{Key: "p/"}, nil); !errors.Is(err, storage.ErrNoBucket) {
		t.Errorf("New with no bucket: %v; want ErrNoBucket", err)
	}
	if _, err := bucketmap.New(srv.Storage(), storage.Name{Key: "bad\xff"}, nil); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("New with a non-UTF-8 prefix: %v; want ErrInvalidKey", err)
	}
	m, err := bucketmap.New(srv.Storage(), storage.Name{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub := m.Sub(strings.Repeat("p", 1025))
	if err := sub.Set(context.Background(), "k", nil); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("Set on a Sub with a 1025-byte prefix: %v; want ErrInvalidKey", err)
	}
	if _, err := sub.Len(context.Background()); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("Len on a Sub with a 1025-byte prefix: %v; want ErrInvalidKey", err)
	}
}

func TestSubBucketsAreIsolated(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		root := newMap(t, tg, nil, nil)
		a, b := root.Sub("a/"), root.Sub("b/")
		a.Set(ctx, "x", []byte("in a"))
		b.Set(ctx, "x", []byte("in b"))
		b.Set(ctx, "y", []byte("in b"))
		root.Set(ctx, "top", []byte("root"))
		keys := func(m *bucketmap.BucketMap) []string {
			seq, errf := m.Keys(ctx)
			got := slices.Collect(seq)
			if err := errf(); err != nil {
				t.Fatal(err)
			}
			return got
		}
		if diff := cmp.Diff([]string{"a/x", "b/x", "b/y", "top"}, keys(root)); diff != "" {
			t.Errorf("root keys (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"x"}, keys(a)); diff != "" {
			t.Errorf("a keys (-want +got):\n%s", diff)
		}
		if v, _ := b.Get(ctx, "x"); string(v) != "in b" {
			t.Errorf("b x = %q", v)
		}
		if n, err := b.Len(ctx); n != 2 || err != nil {
			t.Errorf("b.Len = %d, %v; want 2", n, err)
		}
		if err := b.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"a/x", "top"}, keys(root)); diff != "" {
			t.Errorf("root keys after b.Clear (-want +got):\n%s", diff)
		}
	})
}

func TestClearBatches(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		// Batches are counted by their bodies, not by requests: a batch
		// the SDK sends again after a transient connection error (moto
		// closes its connections) is still one batch.
		var mu sync.Mutex
		batches := map[[sha256.Size]byte]bool{}
		var singles atomic.Int64
		o := tg.Storage.Client().Options()
		next := o.HTTPClient
		o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && r.URL.Query().Has("delete") && r.Body != nil {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					return nil, err
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				mu.Lock()
				batches[sha256.Sum256(body)] = true
				mu.Unlock()
			}
			if r.Method == http.MethodDelete {
				singles.Add(1)
			}
			return next.Do(r)
		})}
		st, err := storage.New(s3.New(o), &storage.Options{DefaultBucket: tg.Config.DefaultBucket})
		if err != nil {
			t.Fatal(err)
		}
		m := newMap(t, tg, st, nil)
		items := map[string][]byte{}
		for i := range 2345 {
			items[fmt.Sprintf("k%05d", i)] = []byte{byte(i)}
		}
		if err := m.SetMany(ctx, items); err != nil {
			t.Fatal(err)
		}
		if err := m.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := m.Len(ctx); n != 0 || err != nil {
			t.Errorf("Len after Clear = %d, %v", n, err)
		}
		if len(batches) != 3 || singles.Load() != 0 {
			t.Errorf("Clear of 2345 keys: %d DeleteObjects batches and %d single deletes; want 3 and 0", len(batches), singles.Load())
		}
	})
}

func TestAll(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		var inFlight, most atomic.Int64
		st := transported(t, tg, 0, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.Method != http.MethodGet || r.URL.Query().Has("list-type") {
					return next.RoundTrip(r)
				}
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				return next.RoundTrip(r)
			})
		})
		m := newMap(t, tg, st, &bucketmap.Options{Concurrency: 4})
		want := map[string][]byte{}
		for i := range 60 {
			want[fmt.Sprintf("k%03d", i)] = fmt.Appendf(nil, "value %d", i)
		}
		if err := m.SetMany(ctx, want); err != nil {
			t.Fatal(err)
		}
		got := map[string][]byte{}
		var order []string
		all, errf := m.All(ctx)
		for k, v := range all {
			got[k] = v
			order = append(order, k)
		}
		if err := errf(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("All (-want +got):\n%s", diff)
		}
		if !slices.IsSorted(order) {
			t.Errorf("All yielded keys out of order: %v", order)
		}
		if most.Load() > 4 {
			t.Errorf("All had %d value GETs in flight; want at most Concurrency 4", most.Load())
		}
		// Breaking early stops the fetches: no goroutine stays.
		before := runtime.NumGoroutine()
		for range 3 {
			all, _ := m.All(ctx)
			for k := range all {
				if k == "k002" {
					break
				}
			}
		}
		waitGoroutines(t, before)
		// A cancelled context reaches the error function.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		all, errf = m.All(cctx)
		n := 0
		for range all {
			if n++; n == 5 {
				cancel()
			}
		}
		if err := errf(); !errors.Is(err, context.Canceled) {
			t.Errorf("All with a context cancelled midway: %v after %d values; want context.Canceled", err, n)
		}
	})
}

// waitGoroutines fails unless the goroutine count comes back to at most
// before (plus slack for the HTTP client's idle connections) within a few
// seconds.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := runtime.NumGoroutine()
		if now <= before+4 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after breaking out of All; %d before\n%s", now, before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStreaming(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		m := newMap(t, tg, nil, nil)
		data := make([]byte, 18<<20)
		rand.Read(data)
		w, err := m.NewWriter(ctx, "big", &storage.PutOptions{Headers: storage.Headers{"Content-Type": "application/x-big"}})
		if err != nil {
			t.Fatal(err)
		}
		for chunk := range slices.Chunk(data, 1<<20) {
			if _, err := w.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := m.NewReader(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) || r.Info.ContentType != "application/x-big" {
			t.Fatalf("read back %d bytes (equal %v, type %q, err %v)", len(got), bytes.Equal(got, data), r.Info.ContentType, err)
		}
		if _, err := m.SetFrom(ctx, "from", strings.NewReader("streamed"), nil); err != nil {
			t.Fatal(err)
		}
		if v, _ := m.Get(ctx, "from"); string(v) != "streamed" {
			t.Errorf("SetFrom stored %q", v)
		}
		// An abandoned writer stores nothing.
		w, _ = m.NewWriter(ctx, "abandoned", nil)
		w.Write([]byte("partial"))
		w.CloseWithError(errors.New("changed my mind"))
		if ok, err := m.Has(ctx, "abandoned"); ok || err != nil {
			t.Errorf("Has after an abandoned writer = %v, %v; want false", ok, err)
		}
	})
}

func TestS3Side(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		m := newMap(t, tg, nil, nil)
		if _, err := m.SetFrom(ctx, "doc", strings.NewReader("hello"), &storage.PutOptions{Headers: storage.Headers{"Content-Type": "text/plain", "x-amz-meta-owner": "ann"}}); err != nil {
			t.Fatal(err)
		}
		if err := m.Copy(ctx, "doc", "copy"); err != nil {
			t.Fatal(err)
		}
		if err := m.UpdateMetadata(ctx, "copy", storage.Headers{"x-amz-meta-owner": "bob"}); err != nil {
			t.Fatal(err)
		}
		if err := m.Rename(ctx, "doc", "renamed"); err != nil {
			t.Fatal(err)
		}
		for key, owner := range map[string]string{"copy": "bob", "renamed": "ann"} {
			info, err := m.Stat(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			md, _ := m.Metadata(ctx, key)
			if info.ContentType != "text/plain" || info.Size != 5 || md["x-amz-meta-owner"] != owner {
				t.Errorf("%s: type %q size %d metadata %v; want text/plain, 5, owner %s", key, info.ContentType, info.Size, md, owner)
			}
		}
		if ok, _ := m.Has(ctx, "doc"); ok {
			t.Error("doc still there after Rename")
		}
	})
}

func TestBatchesRefuseInvalidKeysWhole(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		m := newMap(t, tg, nil, nil)
		m.SetMany(ctx, map[string][]byte{"a": []byte("1"), "b": []byte("2")})
		got, err := m.GetMany(ctx, []string{"a", "b", "missing"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][]byte{"a": []byte("1"), "b": []byte("2")}, got); diff != "" {
			t.Errorf("GetMany values (-want +got):\n%s", diff)
		}
		_, err = m.GetMany(ctx, []string{"a", "", "bad\xff"})
		var be *kv.BatchError
		if !errors.As(err, &be) || len(be.Failed) != 2 || !errors.Is(be.Failed[""], kv.ErrInvalidKey) || !errors.Is(be.Failed["bad\xff"], kv.ErrInvalidKey) {
			t.Errorf("GetMany with two invalid keys: %v; want a BatchError naming both", err)
		}
		err = m.DeleteMany(ctx, []string{"a", "ctl\x01", "missing"})
		if !errors.As(err, &be) || len(be.Failed) != 1 || !errors.Is(err, kv.ErrInvalidKey) {
			t.Errorf("DeleteMany with a control character: %v; want a BatchError naming it", err)
		}
		if ok, _ := m.Has(ctx, "a"); !ok {
			t.Error("a deleted by a DeleteMany refused for an invalid key")
		}
		if err := m.DeleteMany(ctx, []string{"a", "missing"}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := m.Has(ctx, "a"); ok {
			t.Error("a still there after DeleteMany")
		}
	})
}

// A Concurrency that would make All hold a huge number of values at once
// is refused by New with a clear error, before any request.
func TestConcurrencyBounded(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	_, err := bucketmap.New(srv.Storage(), storage.Name{Key: "p/"}, &bucketmap.Options{Concurrency: 1_000_000_000})
	if !errors.Is(err, storage.ErrInvalidConfig) || !strings.Contains(err.Error(), "Concurrency") {
		t.Fatalf("New with Concurrency 1e9: %v; want ErrInvalidConfig naming Concurrency", err)
	}
	if _, err := bucketmap.New(srv.Storage(), storage.Name{Key: "p/"}, &bucketmap.Options{Concurrency: bucketmap.MaxConcurrency}); err != nil {
		t.Fatalf("New with Concurrency %d: %v", bucketmap.MaxConcurrency, err)
	}
	if _, err := bucketmap.New(srv.Storage(), storage.Name{Bucket: "no", Key: "p/"}, nil); !errors.Is(err, storage.ErrInvalidName) {
		t.Fatalf("New with bucket %q: %v; want ErrInvalidName", "no", err)
	}
}
