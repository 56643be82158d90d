package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dirNames lists a directory's entries, to prove no temporary file stays.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// withTransport returns a Storage like tg.Storage whose HTTP requests go
// through rt, with options opts (DefaultBucket filled in).
func withTransport(t testing.TB, tg *s3test.Target, rt func(next http.RoundTripper) http.RoundTripper, opts *storage.Options) *storage.Storage {
	t.Helper()
	o := tg.Storage.Client().Options()
	next := o.HTTPClient
	o.HTTPClient = &http.Client{Transport: rt(roundTripperOf(next))}
	if opts == nil {
		opts = &storage.Options{}
	}
	opts.DefaultBucket = tg.Config.DefaultBucket
	st, err := storage.New(s3.New(o), opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

type doer interface {
	Do(*http.Request) (*http.Response, error)
}

func roundTripperOf(d doer) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) { return d.Do(r) })
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// countRequests counts requests whose query holds marker ("delete",
// "list-type") or all when marker is "".
func countRequests(n *atomic.Int64, method, marker string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == method && (marker == "" || r.URL.Query().Has(marker)) {
				n.Add(1)
			}
			return next.RoundTrip(r)
		})
	}
}

// With no bucket named and no default, every operation fails before any
// request: the endpoint here accepts no connection at all.
func TestNoBucket(t *testing.T) {
	tls := false
	st, err := storage.Open(context.Background(), storage.Config{Endpoint: "127.0.0.1:1", TLS: &tls, AccessKeyID: "a", SecretAccessKey: "b", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := storage.Name{Key: "k"}
	file := writeFile(t, t.TempDir(), "f", []byte("x"))
	calls := map[string]func() error{
		"Write":          func() error { return st.Write(ctx, file, n, nil) },
		"Read":           func() error { _, err := st.Read(ctx, n, file); return err },
		"Exists":         func() error { _, _, err := st.Exists(ctx, n); return err },
		"Delete":         func() error { return st.Delete(ctx, n) },
		"Copy":           func() error { return st.Copy(ctx, n, storage.Name{Bucket: "other", Key: "k"}, nil) },
		"UpdateMetadata": func() error { return st.UpdateMetadata(ctx, n, nil) },
		"Put":            func() error { _, err := st.Put(ctx, n, strings.NewReader("x"), nil); return err },
		"Get":            func() error { _, err := st.Get(ctx, n, nil); return err },
		"Stat":           func() error { _, err := st.Stat(ctx, n); return err },
		"List": func() error {
			seq, errf := st.List(ctx, "", "", nil)
			for range seq {
			}
			return errf()
		},
		"DeleteMany":   func() error { return st.DeleteMany(ctx, "", slices.Values([]string{"k"})) },
		"BucketExists": func() error { _, err := st.BucketExists(ctx, ""); return err },
		"DeleteBucket": func() error { return st.DeleteBucket(ctx, "") },
		"PresignGet":   func() error { _, err := st.PresignGet(ctx, n, time.Minute); return err },
		"PresignPut":   func() error { _, err := st.PresignPut(ctx, n, time.Minute, nil); return err },
	}
	for op, call := range calls {
		if err := call(); !errors.Is(err, storage.ErrNoBucket) {
			t.Errorf("%s: %v; want ErrNoBucket", op, err)
		}
	}
}

func TestInvalidNamesRefused(t *testing.T) {
	st := s3test.NewServer()
	defer st.Close()
	ctx := context.Background()
	for _, key := range []string{"", strings.Repeat("k", 1025), "bad\xffutf8", "ctl\x01char"} {
		if _, err := st.Storage().Put(ctx, storage.Name{Key: key}, strings.NewReader("x"), nil); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("Put key %q: %v; want ErrInvalidName", key, err)
		}
	}
	if _, err := st.Storage().Stat(ctx, storage.Name{Bucket: "a/b", Key: "k"}); !errors.Is(err, storage.ErrInvalidName) {
		t.Errorf("bucket with a slash: %v; want ErrInvalidName", err)
	}
}

func TestCancelledContext(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		st := tg.Storage
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		n := storage.Name{Key: "k"}
		file := writeFile(t, t.TempDir(), "f", []byte("x"))
		calls := map[string]func() error{
			"Write":  func() error { return st.Write(ctx, file, n, nil) },
			"Read":   func() error { _, err := st.Read(ctx, n, file); return err },
			"Exists": func() error { _, _, err := st.Exists(ctx, n); return err },
			"Delete": func() error { return st.Delete(ctx, n) },
			"Copy":   func() error { return st.Copy(ctx, n, storage.Name{Key: "k2"}, nil) },
			"Put":    func() error { _, err := st.Put(ctx, n, strings.NewReader("x"), nil); return err },
			"Get":    func() error { _, err := st.Get(ctx, n, nil); return err },
			"List": func() error {
				seq, errf := st.List(ctx, "", "", nil)
				for range seq {
				}
				return errf()
			},
			"DeleteMany": func() error { return st.DeleteMany(ctx, "", slices.Values([]string{"k"})) },
			"Buckets":    func() error { _, err := st.Buckets(ctx); return err },
		}
		for op, call := range calls {
			if err := call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: %v; want context.Canceled", op, err)
			}
		}
		if b, _ := os.ReadFile(file); string(b) != "x" {
			t.Errorf("cancelled Read changed the target to %q", b)
		}
	})
}

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
