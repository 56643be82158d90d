package storage_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

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
