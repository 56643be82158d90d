package storage_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

func TestCopyInParts(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		tg.SkipIf(t, tg.Caps.NoUploadPartCopy, "UploadPartCopy")
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

// foreignMeta is user metadata as another client (boto3, the aws CLI)
// may write it: ASCII that holds "=?", a literal that looks like an RFC 2047
// word, and a real encoded word.
var foreignMeta = map[string]string{
	"plain":   "plain value",
	"eqq":     "x=?y",
	"literal": "=?utf-8?q?not_meant_as_a_word?=",
	"word":    "=?UTF-8?b?w6k=?=",
}

// rawMeta reads an object's user metadata as the server sends it, with
// the SDK, without s3map's decoding.
func rawMeta(t *testing.T, tg *s3test.Target, n storage.Name) (map[string]string, string) {
	t.Helper()
	out, err := tg.Storage.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &tg.Config.DefaultBucket, Key: &n.Key})
	if err != nil {
		t.Fatalf("HeadObject %s: %v", n, err)
	}
	return out.Metadata, aws.ToString(out.ContentType)
}

// Copy without x-amz-meta-* headers gives the destination the source's
// metadata byte for byte, whoever wrote it: nothing is decoded and
// re-encoded on the way (single copy, copy with new standard headers, copy
// onto itself, copy in parts).
func TestCopyKeepsForeignMetadata(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		src := storage.Name{Key: "foreign/src"}
		_, err := tg.Storage.Client().PutObject(ctx, &s3.PutObjectInput{
			Bucket: &tg.Config.DefaultBucket, Key: &src.Key, Body: strings.NewReader("body"),
			ContentType: aws.String("text/x-source"), Metadata: foreignMeta,
		})
		if err != nil {
			t.Fatal(err)
		}
		check := func(t *testing.T, n storage.Name, wantType string) {
			t.Helper()
			got, ct := rawMeta(t, tg, n)
			if diff := cmp.Diff(foreignMeta, got); diff != "" {
				t.Errorf("%s: raw metadata after the copy (-want +got):\n%s", n, diff)
			}
			if ct != wantType {
				t.Errorf("%s: content type %q; want %q", n, ct, wantType)
			}
		}
		t.Run("copy", func(t *testing.T) {
			dst := storage.Name{Key: "foreign/copy"}
			if err := tg.Storage.Copy(ctx, src, dst, nil); err != nil {
				t.Fatal(err)
			}
			check(t, dst, "text/x-source")
		})
		t.Run("new content type", func(t *testing.T) {
			dst := storage.Name{Key: "foreign/typed"}
			if err := tg.Storage.Copy(ctx, src, dst, storage.Headers{"Content-Type": "text/x-new"}); err != nil {
				t.Fatal(err)
			}
			check(t, dst, "text/x-new")
		})
		t.Run("in parts", func(t *testing.T) {
			tg.SkipIf(t, tg.Caps.NoUploadPartCopy, "UploadPartCopy")
			st := withTransport(t, tg, func(rt http.RoundTripper) http.RoundTripper { return rt }, &storage.Options{CopyThreshold: 1, CopyPartSize: 5 << 20})
			dst := storage.Name{Key: "foreign/parts"}
			if err := st.Copy(ctx, src, dst, nil); err != nil {
				t.Fatal(err)
			}
			check(t, dst, "text/x-source")
		})
		t.Run("onto itself", func(t *testing.T) {
			if err := tg.Storage.Copy(ctx, src, src, storage.Headers{"Cache-Control": "no-cache"}); err != nil {
				t.Fatal(err)
			}
			check(t, src, "text/x-source")
		})
	})
}

// What s3map writes, other clients read as written whenever the value can
// go as it is: "x=?y" is not sent as an encoded word.
func TestPutMetadataReadByOtherClients(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		n := storage.Name{Key: "plain-meta"}
		h := storage.Headers{"x-amz-meta-eqq": "x=?y", "x-amz-meta-q": "a =? b ?= c", "x-amz-meta-word": "=?utf-8?q?a?="}
		if _, err := tg.Storage.Put(ctx, n, strings.NewReader("v"), &storage.PutOptions{Headers: h}); err != nil {
			t.Fatal(err)
		}
		got, _ := rawMeta(t, tg, n)
		want := map[string]string{"eqq": "x=?y", "q": "a =? b ?= c", "word": "=?UTF-8?b?PT91dGYtOD9xP2E/PQ==?="}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("raw metadata as other clients read it (-want +got):\n%s", diff)
		}
		info, err := tg.Storage.Stat(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(storage.Metadata(h), info.Metadata); diff != "" {
			t.Errorf("metadata read back by s3map (-want +got):\n%s", diff)
		}
	})
}
