package bucketmap_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/storage/s3test"
)

// countingBody counts the bytes read from a response body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// A memory cache over a BucketMap revalidates an expired entry with a
// conditional GET: when the value is unchanged, S3 answers 304 and no
// value byte crosses the wire.
func TestCacheRevalidationMovesNoBytes(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		var getBytes, gets, notModified atomic.Int64
		st := transported(t, tg, 0, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := next.RoundTrip(r)
				if err == nil && r.Method == http.MethodGet && !r.URL.Query().Has("list-type") {
					gets.Add(1)
					if resp.StatusCode == http.StatusNotModified {
						notModified.Add(1)
					}
					resp.Body = countingBody{resp.Body, &getBytes}
				}
				return resp, err
			})
		})
		m := newMap(t, tg, st, nil)
		value := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB
		if err := m.Set(ctx, "big", value); err != nil {
			t.Fatal(err)
		}
		now := time.Unix(1_000_000, 0)
		memory := cache.New(m, &cache.Options{TTL: time.Minute, Now: func() time.Time { return now }})

		read := func() []byte {
			t.Helper()
			v, err := memory.Get(ctx, "big")
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if !bytes.Equal(read(), value) || getBytes.Load() != int64(len(value)) {
			t.Fatalf("first read moved %d bytes; want the value's %d", getBytes.Load(), len(value))
		}
		read() // fresh: no request
		if gets.Load() != 1 {
			t.Fatalf("a fresh hit sent a GET (%d in all)", gets.Load())
		}
		now = now.Add(2 * time.Minute)
		getBytes.Store(0)
		if !bytes.Equal(read(), value) {
			t.Fatal("revalidated read returned another value")
		}
		if gets.Load() != 2 || notModified.Load() != 1 || getBytes.Load() != 0 {
			t.Errorf("revalidation: %d GETs in all, %d answered 304, %d body bytes; want 2, 1, 0", gets.Load(), notModified.Load(), getBytes.Load())
		}
		stats := memory.Stats()
		if stats.Revalidations != 1 || stats.BytesSaved != uint64(len(value)) {
			t.Errorf("stats %+v; want 1 revalidation saving %d bytes", stats, len(value))
		}
		// A change behind the cache is seen after the TTL, in full.
		changed := append([]byte("changed "), value...)
		if err := m.Set(ctx, "big", changed); err != nil {
			t.Fatal(err)
		}
		now = now.Add(2 * time.Minute)
		getBytes.Store(0)
		if !bytes.Equal(read(), changed) || getBytes.Load() != int64(len(changed)) {
			t.Errorf("after a change: read %d bytes; want the new value's %d", getBytes.Load(), len(changed))
		}
	})
}
