package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

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

// The seed's first flow: write a file, check it exists, read it back,
// compare, delete, check it is gone.
func TestWriteExistsReadDelete(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		dir := t.TempDir()
		data := randomBytes(t, 100_000)
		src := writeFile(t, dir, "in.bin", data)
		name := storage.Name{Key: "flow/one.bin"}

		if err := st.Write(ctx, src, name, nil); err != nil {
			t.Fatal(err)
		}
		ok, md, err := st.Exists(ctx, name)
		if err != nil || !ok {
			t.Fatalf("Exists after Write = %v, %v, %v; want true", ok, md, err)
		}
		if diff := cmp.Diff(storage.Metadata{}, md); diff != "" {
			t.Errorf("metadata of an object written without any (-want +got):\n%s", diff)
		}
		dst := filepath.Join(dir, "out.bin")
		if _, err := st.Read(ctx, name, dst); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
		}
		if err := st.Delete(ctx, name); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := st.Exists(ctx, name); ok || err != nil {
			t.Fatalf("Exists after Delete = %v, %v; want false, nil", ok, err)
		}
		if err := st.Delete(ctx, name); err != nil {
			t.Errorf("deleting a missing object: %v; want nil", err)
		}
		if diff := cmp.Diff([]string{"in.bin", "out.bin"}, dirNames(t, dir)); diff != "" {
			t.Errorf("files left beside the target (-want +got):\n%s", diff)
		}
	})
}

// The seed's second flow, and the metadata rules: names lower-cased,
// non-ASCII values, metadata == headers.
func TestMetadataRoundTrip(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		other := s3test.NewBucketName()
		if err := st.CreateBucket(ctx, other); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s3test.RemoveBucket(context.Background(), st, other) })
		src := writeFile(t, t.TempDir(), "state.txt", []byte("payload"))
		name := storage.Name{Bucket: other, Key: "state.txt"}

		headers := storage.Headers{"x-amz-meta-state": "unprocessed", "x-amz-meta-note": "café ☕ 東京", "X-Amz-Meta-Mixed-Case": "v"}
		if err := st.Write(ctx, src, name, headers); err != nil {
			t.Fatal(err)
		}
		want := storage.Metadata{"x-amz-meta-state": "unprocessed", "x-amz-meta-note": "café ☕ 東京", "x-amz-meta-mixed-case": "v"}
		_, md, err := st.Exists(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, md); diff != "" {
			t.Fatalf("metadata after Write (-want +got):\n%s", diff)
		}
		update := storage.Headers{"x-amz-meta-state": "processed"}
		if err := st.UpdateMetadata(ctx, name, update); err != nil {
			t.Fatal(err)
		}
		md, err = st.Read(ctx, name, filepath.Join(t.TempDir(), "back.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(storage.Metadata(update), md); diff != "" {
			t.Fatalf("metadata after UpdateMetadata (-want +got):\n%s", diff)
		}
		info, err := st.Stat(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if info.ContentType != "text/plain; charset=utf-8" || info.Size != int64(len("payload")) {
			t.Errorf("after UpdateMetadata: content type %q, size %d; want the file's text/plain; charset=utf-8 and 7", info.ContentType, info.Size)
		}
	})
}

// Bad headers and metadata are refused before anything is sent, and what
// is stored stays.
func TestBadHeadersRefusedBeforeSending(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		var requests atomic.Int64
		st := withTransport(t, tg, countRequests(&requests, http.MethodPut, ""), nil)
		name := storage.Name{Key: "kept"}
		if _, err := st.Put(ctx, name, strings.NewReader("original"), nil); err != nil {
			t.Fatal(err)
		}
		requests.Store(0)
		src := writeFile(t, t.TempDir(), "f", []byte("new"))
		cases := []struct {
			h    storage.Headers
			kind error
		}{
			{storage.Headers{"X-Unknown": "v"}, storage.ErrInvalidHeader},
			{storage.Headers{"x-amz-meta-big": strings.Repeat("x", 2100)}, storage.ErrMetadataTooLarge},
			{storage.Headers{"x-amz-meta-a": "1", "X-AMZ-META-A": "2"}, storage.ErrInvalidHeader},
			{storage.Headers{"Expires": "tomorrow"}, storage.ErrInvalidHeader},
		}
		for _, c := range cases {
			for op, call := range map[string]func() error{
				"Write": func() error { return st.Write(ctx, src, name, c.h) },
				"Put": func() error {
					_, err := st.Put(ctx, name, strings.NewReader("new"), &storage.PutOptions{Headers: c.h})
					return err
				},
				"Copy":           func() error { return st.Copy(ctx, name, storage.Name{Key: "copy"}, c.h) },
				"UpdateMetadata": func() error { return st.UpdateMetadata(ctx, name, c.h) },
			} {
				if err := call(); !errors.Is(err, c.kind) {
					t.Errorf("%s with %v: %v; want %v", op, c.h, err, c.kind)
				}
			}
		}
		if n := requests.Load(); n != 0 {
			t.Errorf("%d PUT requests sent for refused headers; want 0", n)
		}
		r, err := st.Get(ctx, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if b, _ := io.ReadAll(r); string(b) != "original" {
			t.Errorf("stored value now %q; want %q", b, "original")
		}
	})
}

func TestStandardHeadersSurvive(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		h := storage.Headers{
			"Content-Type":        "application/x-test",
			"Content-Disposition": `attachment; filename="a.txt"`,
			"Content-Encoding":    "identity",
			"x-amz-meta-a":        "1",
		}
		if tg.Caps.AllStandardHeaders {
			h["Cache-Control"] = "max-age=60"
			h["Content-Language"] = "fr"
		}
		src := storage.Name{Key: "std/src"}
		if _, err := st.Put(ctx, src, strings.NewReader("x"), &storage.PutOptions{Headers: h}); err != nil {
			t.Fatal(err)
		}
		want := storage.Headers{}
		for k, v := range h {
			if !strings.HasPrefix(k, "x-amz-meta-") {
				want[strings.ToLower(k)] = v
			}
		}
		check := func(what string, n storage.Name, wantMeta storage.Metadata) {
			t.Helper()
			info, err := st.Stat(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			got := storage.Headers{}
			for k := range want {
				got[k] = info.Headers[k]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: standard headers (-want +got):\n%s", what, diff)
			}
			if diff := cmp.Diff(wantMeta, info.Metadata); diff != "" {
				t.Errorf("%s: metadata (-want +got):\n%s", what, diff)
			}
		}
		check("Put", src, storage.Metadata{"x-amz-meta-a": "1"})
		if err := st.Copy(ctx, src, storage.Name{Key: "std/copy-keep"}, nil); err != nil {
			t.Fatal(err)
		}
		check("Copy without metadata", storage.Name{Key: "std/copy-keep"}, storage.Metadata{"x-amz-meta-a": "1"})
		if err := st.Copy(ctx, src, storage.Name{Key: "std/copy-new"}, storage.Headers{"x-amz-meta-b": "2"}); err != nil {
			t.Fatal(err)
		}
		check("Copy with metadata", storage.Name{Key: "std/copy-new"}, storage.Metadata{"x-amz-meta-b": "2"})
		if err := st.UpdateMetadata(ctx, src, nil); err != nil {
			t.Fatal(err)
		}
		check("UpdateMetadata to none", src, storage.Metadata{})
	})
}

func TestWriteContentTypeFromExtension(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		dir := t.TempDir()
		for file, want := range map[string]string{"a.json": "application/json", "b.html": "text/html; charset=utf-8"} {
			if err := tg.Storage.Write(ctx, writeFile(t, dir, file, []byte("{}")), storage.Name{Key: file}, nil); err != nil {
				t.Fatal(err)
			}
			info, err := tg.Storage.Stat(ctx, storage.Name{Key: file})
			if err != nil {
				t.Fatal(err)
			}
			if info.ContentType != want {
				t.Errorf("%s: Content-Type %q; want %q", file, info.ContentType, want)
			}
		}
	})
}

// Keys with characters that need escaping, also as copy sources.
func TestOddKeys(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		keys := []string{"with space", "plus+sign", "unicode-ü-東京-😀", "pct%41", "q?a#b&c=d;e", "tilde~star*(paren)"}
		if tg.Caps.DotSegmentKeys {
			keys = append(keys, "a//b", "a/./b", "a/../b")
		}
		for _, k := range keys {
			n := storage.Name{Key: "odd/" + k}
			if _, err := st.Put(ctx, n, strings.NewReader(k), nil); err != nil {
				t.Fatalf("Put %q: %v", k, err)
			}
			cp := storage.Name{Key: "copied/" + k}
			if err := st.Copy(ctx, n, cp, nil); err != nil {
				t.Fatalf("Copy %q: %v", k, err)
			}
			r, err := st.Get(ctx, cp, nil)
			if err != nil {
				t.Fatalf("Get copy of %q: %v", k, err)
			}
			b, _ := io.ReadAll(r)
			r.Close()
			if string(b) != k {
				t.Errorf("copy of %q holds %q", k, b)
			}
		}
		var listed []string
		seq, errf := st.List(ctx, "", "odd/", nil)
		for info := range seq {
			listed = append(listed, strings.TrimPrefix(info.Name.Key, "odd/"))
		}
		if err := errf(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(keys)
		if diff := cmp.Diff(keys, listed); diff != "" {
			t.Errorf("listed keys (-want +got):\n%s", diff)
		}
	})
}

func TestPutGetStreams(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		data := randomBytes(t, 20<<20) // over the 16 MiB threshold: multipart
		// An io.Reader of unknown length that is not a seeker.
		body := io.MultiReader(bytes.NewReader(data[:1000]), bytes.NewReader(data[1000:]))
		info, err := st.Put(ctx, storage.Name{Key: "big"}, body, &storage.PutOptions{Headers: storage.Headers{"x-amz-meta-k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(data)) || info.ETag == "" {
			t.Errorf("Put info: size %d, etag %q; want %d and an etag", info.Size, info.ETag, len(data))
		}
		r, err := st.Get(ctx, storage.Name{Key: "big"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get: %d bytes, err %v; want the %d put", len(got), err, len(data))
		}
		if r.Info.Size != int64(len(data)) || (tg.Caps.MultipartETag && r.Info.ETag != info.ETag) || r.Info.Metadata["x-amz-meta-k"] != "v" {
			t.Errorf("Get info = %+v; want size %d, etag %s, metadata k=v", r.Info, len(data), info.ETag)
		}
		r, err = st.Get(ctx, storage.Name{Key: "big"}, &storage.GetOptions{Offset: 5 << 20, Length: 1000})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, data[5<<20:5<<20+1000]) || r.Length != 1000 || r.Info.Size != int64(len(data)) {
			t.Errorf("ranged Get: %d bytes (Length %d, Size %d), equal %v", len(got), r.Length, r.Info.Size, bytes.Equal(got, data[5<<20:5<<20+1000]))
		}
		r, err = st.Get(ctx, storage.Name{Key: "big"}, &storage.GetOptions{Offset: int64(len(data)) - 10})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, data[len(data)-10:]) {
			t.Errorf("Get of the last 10 bytes gave %d bytes", len(got))
		}
		// Large file round trip through Read's parallel ranges.
		dst := filepath.Join(t.TempDir(), "big.out")
		if _, err := st.Read(ctx, storage.Name{Key: "big"}, dst); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(dst); !bytes.Equal(b, data) {
			t.Errorf("Read of a multipart object gave %d bytes that differ", len(b))
		}
	})
}

func TestConditionalPut(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		n := storage.Name{Key: "cond"}
		first, err := st.Put(ctx, n, strings.NewReader("1"), &storage.PutOptions{IfNoneMatch: "*"})
		if err != nil {
			t.Fatalf("IfNoneMatch on a missing key: %v", err)
		}
		_, err = st.Put(ctx, n, strings.NewReader("2"), &storage.PutOptions{IfNoneMatch: "*"})
		if !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Errorf("IfNoneMatch on an existing key: %v; want ErrPreconditionFailed", err)
		}
		second, err := st.Put(ctx, n, strings.NewReader("3"), &storage.PutOptions{IfMatch: first.ETag})
		if err != nil {
			t.Fatalf("IfMatch with the current ETag: %v", err)
		}
		_, err = st.Put(ctx, n, strings.NewReader("4"), &storage.PutOptions{IfMatch: first.ETag})
		if !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Errorf("IfMatch with a stale ETag: %v; want ErrPreconditionFailed", err)
		}
		_, err = st.Put(ctx, storage.Name{Key: "cond-missing"}, strings.NewReader("5"), &storage.PutOptions{IfMatch: first.ETag})
		if !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Errorf("IfMatch on a missing key: %v; want ErrPreconditionFailed", err)
		}
		if _, err := st.Put(ctx, n, nil, &storage.PutOptions{IfNoneMatch: "etag"}); !errors.Is(err, storage.ErrInvalidHeader) {
			t.Errorf("IfNoneMatch other than *: %v; want ErrInvalidHeader", err)
		}
		_, err = st.Get(ctx, n, &storage.GetOptions{IfNoneMatch: second.ETag})
		if !errors.Is(err, storage.ErrNotModified) {
			t.Errorf("Get IfNoneMatch current ETag: %v; want ErrNotModified", err)
		}
		r, err := st.Get(ctx, n, &storage.GetOptions{IfNoneMatch: first.ETag})
		if err != nil {
			t.Fatalf("Get IfNoneMatch stale ETag: %v", err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if string(b) != "3" {
			t.Errorf("Get IfNoneMatch stale ETag read %q; want 3", b)
		}
		if tg.Caps.GetIfMatch {
			if _, err := st.Get(ctx, n, &storage.GetOptions{IfMatch: first.ETag}); !errors.Is(err, storage.ErrPreconditionFailed) {
				t.Errorf("Get IfMatch stale ETag: %v; want ErrPreconditionFailed", err)
			}
		}
	})
}

func TestMissingObjects(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		n := storage.Name{Key: "nope"}
		_, err := st.Get(ctx, n, nil)
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get missing: %v; want ErrNotFound", err)
		}
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) {
			t.Errorf("Get missing: %v does not unwrap to a smithy.APIError", err)
		}
		var se *storage.Error
		if !errors.As(err, &se) || se.Op != "Get" || se.Name.Key != "nope" || se.Name.Bucket != tg.Config.DefaultBucket {
			t.Errorf("Get missing: %#v; want a *storage.Error for Get on the name", err)
		}
		if _, err := st.Stat(ctx, n); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat missing: %v; want ErrNotFound", err)
		}
		if _, err := st.Read(ctx, n, filepath.Join(t.TempDir(), "x")); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Read missing: %v; want ErrNotFound", err)
		}
		if err := st.Copy(ctx, n, storage.Name{Key: "y"}, nil); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Copy missing: %v; want ErrNotFound", err)
		}
		nb := storage.Name{Bucket: s3test.NewBucketName(), Key: "k"}
		if ok, _, err := st.Exists(ctx, nb); ok || !errors.Is(err, storage.ErrBucketNotFound) {
			t.Errorf("Exists in a missing bucket: %v, %v; want an ErrBucketNotFound error", ok, err)
		}
	})
}

// A 403 is an error, never "missing".
func TestForbiddenIsNotMissing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		if r.Method != http.MethodHead {
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		}
	}))
	defer srv.Close()
	tls := false
	st, err := storage.Open(context.Background(), storage.Config{Endpoint: srv.URL, TLS: &tls, AccessKeyID: "a", SecretAccessKey: "b", Region: "us-east-1", DefaultBucket: "bucket", RetryMaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ok, _, err := st.Exists(ctx, storage.Name{Key: "k"})
	if ok || !errors.Is(err, storage.ErrForbidden) || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Exists on 403: %v, %v; want an ErrForbidden error", ok, err)
	}
	if ok, err := st.BucketExists(ctx, ""); ok || !errors.Is(err, storage.ErrForbidden) {
		t.Errorf("BucketExists on 403: %v, %v; want an ErrForbidden error", ok, err)
	}
	if _, err := st.Get(ctx, storage.Name{Key: "k"}, nil); !errors.Is(err, storage.ErrForbidden) {
		t.Errorf("Get on 403: %v; want ErrForbidden", err)
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

func TestCopyInParts(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		tg.Require(t, tg.Caps.UploadPartCopy, "UploadPartCopy")
		ctx := context.Background()
		st := withTransport(t, tg, func(rt http.RoundTripper) http.RoundTripper { return rt }, &storage.Options{CopyThreshold: 1, CopyPartSize: 5 << 20})
		data := randomBytes(t, 11<<20)
		src := storage.Name{Key: "mp/src"}
		if _, err := st.Put(ctx, src, bytes.NewReader(data), &storage.PutOptions{Headers: storage.Headers{"Content-Type": "application/x-big", "x-amz-meta-a": "1"}}); err != nil {
			t.Fatal(err)
		}
		dst := storage.Name{Key: "mp/dst"}
		if err := st.Copy(ctx, src, dst, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateMetadata(ctx, src, storage.Headers{"x-amz-meta-b": "2"}); err != nil {
			t.Fatal(err)
		}
		for n, wantMeta := range map[storage.Name]storage.Metadata{dst: {"x-amz-meta-a": "1"}, src: {"x-amz-meta-b": "2"}} {
			r, err := st.Get(ctx, n, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			if !bytes.Equal(got, data) {
				t.Errorf("%s: content of %d bytes differs from the source", n, len(got))
			}
			if diff := cmp.Diff(wantMeta, r.Info.Metadata); diff != "" || r.Info.ContentType != "application/x-big" {
				t.Errorf("%s: content type %q, metadata (-want +got):\n%s", n, r.Info.ContentType, diff)
			}
		}
	})
}

// A cancelled multipart upload is aborted: no parts stay behind.
func TestCancelledUploadLeavesNoParts(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		st := tg.Storage
		data := randomBytes(t, 40<<20)
		// Cancel once enough has been read for parts to be under way.
		r := &cancelAfter{r: bytes.NewReader(data), n: 30 << 20, cancel: cancel}
		_, err := st.Put(ctx, storage.Name{Key: "cancelled"}, struct{ io.Reader }{r}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Put: %v; want context.Canceled", err)
		}
		out, err := st.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &tg.Config.DefaultBucket})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Uploads) != 0 {
			t.Errorf("%d multipart uploads left after a cancelled Put", len(out.Uploads))
		}
		if ok, _, err := st.Exists(context.Background(), storage.Name{Key: "cancelled"}); ok || err != nil {
			t.Errorf("Exists after a cancelled Put: %v, %v; want false, nil", ok, err)
		}
	})
}

type cancelAfter struct {
	r      io.Reader
	n      int
	read   int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	if c.read >= c.n {
		c.cancel()
	}
	return n, err
}

// A download that fails midway leaves the target as it was and no
// temporary file.
func TestReadFailureKeepsTarget(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		data := randomBytes(t, 20<<20)
		if _, err := tg.Storage.Put(ctx, storage.Name{Key: "r"}, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		var gets atomic.Int64
		// Parts of 5 MiB: the third ranged GET fails.
		failing := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.Method == http.MethodGet && r.Header.Get("Range") != "" && gets.Add(1) == 3 {
					return nil, errors.New("injected failure")
				}
				return next.RoundTrip(r)
			})
		}, &storage.Options{PartSize: 5 << 20, Concurrency: 1})
		o := failing.Client().Options()
		o.RetryMaxAttempts = 1
		failing, _ = storage.New(s3.New(o), &storage.Options{DefaultBucket: tg.Config.DefaultBucket, PartSize: 5 << 20, Concurrency: 1})
		dir := t.TempDir()
		target := writeFile(t, dir, "target", []byte("before"))
		if _, err := failing.Read(ctx, storage.Name{Key: "r"}, target); err == nil {
			t.Fatal("Read with a failing part succeeded")
		}
		if b, _ := os.ReadFile(target); string(b) != "before" {
			t.Errorf("target holds %d bytes after a failed Read; want it unchanged", len(b))
		}
		if diff := cmp.Diff([]string{"target"}, dirNames(t, dir)); diff != "" {
			t.Errorf("files beside the target after a failed Read (-want +got):\n%s", diff)
		}
	})
}

func TestBuckets(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		b := s3test.NewBucketName()
		if ok, err := st.BucketExists(ctx, b); ok || err != nil {
			t.Fatalf("BucketExists before create: %v, %v", ok, err)
		}
		if err := st.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateBucket(ctx, b); err != nil && !errors.Is(err, storage.ErrBucketExists) {
			t.Errorf("creating it again: %v; want nil or ErrBucketExists", err)
		}
		if ok, err := st.BucketExists(ctx, b); !ok || err != nil {
			t.Errorf("BucketExists after create: %v, %v", ok, err)
		}
		all, err := st.Buckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(all, func(bi storage.BucketInfo) bool { return bi.Name == b }) {
			t.Errorf("Buckets does not list %s: %v", b, all)
		}
		st.Put(ctx, storage.Name{Bucket: b, Key: "k"}, strings.NewReader("x"), nil)
		if err := st.DeleteBucket(ctx, b); !errors.Is(err, storage.ErrBucketNotEmpty) {
			t.Errorf("DeleteBucket of a bucket with an object: %v; want ErrBucketNotEmpty", err)
		}
		st.Delete(ctx, storage.Name{Bucket: b, Key: "k"})
		if err := st.DeleteBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.BucketExists(ctx, b); ok || err != nil {
			t.Errorf("BucketExists after delete: %v, %v", ok, err)
		}
		if err := st.CreateBucket(ctx, "Bad_Name"); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("CreateBucket Bad_Name: %v; want ErrInvalidName", err)
		}
	})
}

func TestPresigned(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		n := storage.Name{Key: "presigned/a b+c"}
		put, err := st.PresignPut(ctx, n, time.Minute, storage.Headers{"Content-Type": "text/x-test", "x-amz-meta-by": "url"})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(put.Method, put.URL, strings.NewReader("uploaded"))
		req.Header = put.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("presigned PUT: %s", resp.Status)
		}
		get, err := st.PresignGet(ctx, n, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		resp, err = http.Get(get.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "uploaded" {
			t.Errorf("presigned GET: %s %q; want 200 uploaded", resp.Status, b)
		}
		info, err := st.Stat(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if info.ContentType != "text/x-test" || info.Metadata["x-amz-meta-by"] != "url" {
			t.Errorf("presigned PUT stored content type %q and metadata %v", info.ContentType, info.Metadata)
		}
		if _, err := st.PresignGet(ctx, n, 8*24*time.Hour); err == nil {
			t.Error("PresignGet for 8 days: want an error (SigV4 allows 7)")
		}
	})
}

func TestDeleteIf(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		tg.Require(t, tg.Caps.ConditionalDelete, "DeleteObject If-Match")
		ctx := context.Background()
		st := tg.Storage
		n := storage.Name{Key: "delete-if"}
		first, err := st.Put(ctx, n, strings.NewReader("1"), nil)
		if err != nil {
			t.Fatal(err)
		}
		second, err := st.Put(ctx, n, strings.NewReader("2"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteIf(ctx, n, first.ETag); !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Errorf("DeleteIf with a stale ETag: %v; want ErrPreconditionFailed", err)
		}
		if ok, _, err := st.Exists(ctx, n); !ok || err != nil {
			t.Fatalf("after a refused DeleteIf: exists %v, %v; want it kept", ok, err)
		}
		if err := st.DeleteIf(ctx, n, second.ETag); err != nil {
			t.Fatalf("DeleteIf with the current ETag: %v", err)
		}
		if ok, _, err := st.Exists(ctx, n); ok || err != nil {
			t.Fatalf("after DeleteIf: exists %v, %v; want gone", ok, err)
		}
		if tg.Caps.ConditionalDeleteMissing {
			if err := st.DeleteIf(ctx, n, second.ETag); !errors.Is(err, storage.ErrPreconditionFailed) {
				t.Errorf("DeleteIf on a missing key: %v; want ErrPreconditionFailed", err)
			}
		}
	})
}
