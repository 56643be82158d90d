package storage_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
