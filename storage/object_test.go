package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

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
		if !tg.Caps.DropsStandardHeaders {
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

// Keys with characters that need escaping, also as copy sources.
func TestOddKeys(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		keys := []string{"with space", "plus+sign", "unicode-ü-東京-😀", "pct%41", "q?a#b&c=d;e", "tilde~star*(paren)"}
		if !tg.Caps.NoDotSegmentKeys {
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
		if r.Info.Size != int64(len(data)) || (!tg.Caps.MultipartETagDiffers && r.Info.ETag != info.ETag) || r.Info.Metadata["x-amz-meta-k"] != "v" {
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
		if !tg.Caps.IgnoresGetIfMatch {
			if _, err := st.Get(ctx, n, &storage.GetOptions{IfMatch: first.ETag}); !errors.Is(err, storage.ErrPreconditionFailed) {
				t.Errorf("Get IfMatch stale ETag: %v; want ErrPreconditionFailed", err)
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

func TestDeleteIf(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		tg.SkipIf(t, tg.Caps.IgnoresDeleteIfMatch, "DeleteObject If-Match")
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
		if !tg.Caps.DeletesMissingWithIfMatch {
			if err := st.DeleteIf(ctx, n, second.ETag); !errors.Is(err, storage.ErrPreconditionFailed) {
				t.Errorf("DeleteIf on a missing key: %v; want ErrPreconditionFailed", err)
			}
		}
	})
}
