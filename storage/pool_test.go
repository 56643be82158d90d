package storage_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// Callers beyond the SDK's default idle pool (10 per host) reuse their
// connections: after a warm-up at 32 callers, 32 callers at once open none.
// Each request holds its connection until all 32 have one, so the rounds
// truly run 32 connections at once.
func TestOpenKeepsIdleConnectionsForConcurrentCallers(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st, err := storage.Open(ctx, tg.Config)
		if err != nil {
			t.Fatal(err)
		}
		n := storage.Name{Key: "k"}
		if _, err := st.Put(ctx, n, nil, nil); err != nil {
			t.Fatal(err)
		}
		const callers = 32
		round := func() (fresh int64) {
			var (
				wg       sync.WaitGroup
				arrived  sync.WaitGroup
				released = make(chan struct{})
				newConns atomic.Int64
			)
			arrived.Add(callers)
			go func() { arrived.Wait(); close(released) }()
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					once := sync.Once{}
					trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
						if !ci.Reused {
							newConns.Add(1)
						}
						once.Do(func() {
							arrived.Done()
							select {
							case <-released:
							case <-time.After(30 * time.Second): // a guard against a hang, not a measurement
							}
						})
					}}
					if ok, _, err := st.Exists(httptrace.WithClientTrace(ctx, trace), n); err != nil || !ok {
						t.Errorf("Exists: %v, %v", ok, err)
					}
				}()
			}
			wg.Wait()
			return newConns.Load()
		}
		// A server that closes every connection (moto's) leaves nothing
		// to reuse: one request after another tells.
		var reused atomic.Bool
		reuse := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { reused.Store(ci.Reused) }})
		if _, _, err := st.Exists(reuse, n); err != nil {
			t.Fatal(err)
		}
		if !reused.Load() {
			t.Skip("the server closes its connections after each request")
		}
		round() // warm-up: 32 connections at once
		if fresh := round(); fresh != 0 {
			t.Errorf("after warm-up, %d callers opened %d new connections, want 0", callers, fresh)
		}
	})
}

// Writes do not hash their bodies a third time for the signature: PutObject
// and UploadPart go as UNSIGNED-PAYLOAD, each with a checksum header the
// server checks (Content-MD5 or x-amz-checksum-crc32c) among the signed
// headers.
func TestWritesSendUnsignedPayloadWithSignedChecksums(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		var (
			mu   sync.Mutex
			seen = map[string][]http.Header{}
		)
		st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				op := s3test.Operation(r)
				mu.Lock()
				seen[op] = append(seen[op], r.Header.Clone())
				mu.Unlock()
				return next.RoundTrip(r)
			})
		}, &storage.Options{MultipartThreshold: 5 << 20, PartSize: 5 << 20})
		ctx := context.Background()
		if _, err := st.Put(ctx, storage.Name{Key: "small"}, bytes.NewReader([]byte("value")), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Put(ctx, storage.Name{Key: "big"}, bytes.NewReader(randomBytes(t, 6<<20)), nil); err != nil {
			t.Fatal(err)
		}
		for _, op := range []string{"PutObject", "UploadPart"} {
			if len(seen[op]) == 0 {
				t.Fatalf("no %s sent", op)
			}
			for _, h := range seen[op] {
				if got := h.Get("X-Amz-Content-Sha256"); got != "UNSIGNED-PAYLOAD" {
					t.Errorf("%s: X-Amz-Content-Sha256 %q, want UNSIGNED-PAYLOAD", op, got)
				}
				signed := strings.ToLower(h.Get("Authorization"))
				if !strings.Contains(signed, "content-md5") && !strings.Contains(signed, "x-amz-checksum-crc32c") {
					t.Errorf("%s: no checksum header among the signed ones: %s", op, h.Get("Authorization"))
				}
			}
		}
	})
}
