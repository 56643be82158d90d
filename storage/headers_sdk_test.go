package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// everyHeader holds one value for every header the library accepts, as
// sent on the wire (the SDK writes Expires in this form).
var everyHeader = map[string]string{
	"x-amz-meta-probe":             "v",
	"Content-Type":                 "text/x-probe",
	"Cache-Control":                "no-cache",
	"Content-Disposition":          "attachment",
	"Content-Encoding":             "x-probe",
	"Content-Language":             "de",
	"Expires":                      "Wed, 21 Oct 2015 07:28:00 GMT",
	"x-amz-storage-class":          "STANDARD",
	"x-amz-server-side-encryption": "aws:kms",
	"x-amz-server-side-encryption-aws-kms-key-id": "probe-key",
	"x-amz-tagging": "team=a&kind=b",
	"x-amz-acl":     "private",
}

// recorder records the writes a Storage sends and answers them itself
// with a 400, so no server has to accept SSE-KMS or ACLs: what matters is
// what was sent. Other requests (the HEAD before a copy) go through.
type recorder struct {
	mu   sync.Mutex
	sent map[string]http.Header // by request: "PutObject", "CreateMultipartUpload", "CopyObject"
}

func (r *recorder) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		kind := ""
		switch {
		case req.Method == http.MethodPost && req.URL.Query().Has("uploads"):
			kind = "CreateMultipartUpload"
		case req.Method == http.MethodPut && req.Header.Get("X-Amz-Copy-Source") != "":
			kind = "CopyObject"
		case req.Method == http.MethodPut && !req.URL.Query().Has("uploadId"):
			kind = "PutObject"
		}
		if kind == "" {
			return next.RoundTrip(req)
		}
		r.mu.Lock()
		r.sent[kind] = req.Header.Clone()
		r.mu.Unlock()
		if req.Body != nil {
			io.Copy(io.Discard, req.Body)
			req.Body.Close()
		}
		body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>Recorded</Code><Message>recorded, not sent</Message></Error>`
		return &http.Response{
			StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/xml"}},
			Body:    io.NopCloser(strings.NewReader(body)),
			Request: req,
		}, nil
	})
}

// Every header the library accepts reaches every request it applies to:
// a single-part Put's PutObject, a multipart Put's CreateMultipartUpload,
// a Copy's CopyObject, a multipart Copy's CreateMultipartUpload, and a
// PresignPut's signed headers or URL. (None is refused by any of them; a
// header that one could not carry would be ErrInvalidHeader there.)
func TestEveryHeaderReachesEveryRequest(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		src := storage.Name{Key: "headers/src"}
		if _, err := tg.Storage.Put(ctx, src, strings.NewReader("source"), nil); err != nil {
			t.Fatal(err)
		}
		h := storage.Headers(everyHeader)
		big := bytes.Repeat([]byte("x"), 11<<20)
		cases := []struct {
			name, request string
			opts          storage.Options
			do            func(st *storage.Storage) error
		}{
			{"Put", "PutObject", storage.Options{}, func(st *storage.Storage) error {
				_, err := st.Put(ctx, storage.Name{Key: "headers/put"}, strings.NewReader("v"), &storage.PutOptions{Headers: h})
				return err
			}},
			{"Put in parts", "CreateMultipartUpload", storage.Options{PartSize: 5 << 20, MultipartThreshold: 5 << 20}, func(st *storage.Storage) error {
				_, err := st.Put(ctx, storage.Name{Key: "headers/parts"}, bytes.NewReader(big), &storage.PutOptions{Headers: h})
				return err
			}},
			{"Copy", "CopyObject", storage.Options{}, func(st *storage.Storage) error {
				return st.Copy(ctx, src, storage.Name{Key: "headers/copy"}, h)
			}},
			{"Copy in parts", "CreateMultipartUpload", storage.Options{CopyThreshold: 1}, func(st *storage.Storage) error {
				return st.Copy(ctx, src, storage.Name{Key: "headers/copyparts"}, h)
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				rec := &recorder{sent: map[string]http.Header{}}
				st := withTransport(t, tg, rec.wrap, &c.opts)
				err := c.do(st)
				if errors.Is(err, storage.ErrInvalidHeader) {
					t.Fatalf("refused: %v", err)
				}
				sent, ok := rec.sent[c.request]
				if !ok {
					t.Fatalf("no %s request was sent (error %v)", c.request, err)
				}
				for name, want := range everyHeader {
					if got := sent.Get(name); got != want {
						t.Errorf("%s: %s = %q; want %q", c.request, name, got, want)
					}
				}
				if c.request == "CopyObject" {
					for name, want := range map[string]string{"X-Amz-Metadata-Directive": "REPLACE", "X-Amz-Tagging-Directive": "REPLACE"} {
						if got := sent.Get(name); got != want {
							t.Errorf("CopyObject: %s = %q; want %q", name, got, want)
						}
					}
				}
			})
		}
		t.Run("PresignPut", func(t *testing.T) {
			req, err := tg.Storage.PresignPut(ctx, storage.Name{Key: "headers/presigned"}, time.Minute, h)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(req.URL)
			if err != nil {
				t.Fatal(err)
			}
			q := url.Values{}
			for k, v := range u.Query() {
				q[http.CanonicalHeaderKey(k)] = v
			}
			for name, want := range everyHeader {
				got := req.Header.Get(name)
				if got == "" {
					got = q.Get(http.CanonicalHeaderKey(name))
				}
				if got != want {
					t.Errorf("presigned PUT: %s = %q in neither the signed headers nor the URL; want %q", name, got, want)
				}
			}
		})
	})
}

// x-amz-tagging is checked before anything is sent, as S3 checks it: the
// in-process server took what MinIO, versitygw or moto refuse with a 400.
func TestTaggingChecked(t *testing.T) {
	refused := []string{
		"=b", "a=b&a=c", "k%21=v", "k=v%21", "k=v%3F", "k=v;x", "k=%zz", "aws%3Ax=1",
		strings.Repeat("k", 129) + "=v",
		"k=" + strings.Repeat("v", 257),
		"a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11",
	}
	accepted := []string{
		"a=b", "a=b&c=d", "a", "a=", "k=hello%20world", "path=%2Fa%2Fb", "k=a+b", "k-1.x_y:z@w=v-1",
		strings.Repeat("k", 128) + "=" + strings.Repeat("v", 256),
		"a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10",
	}
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		var sent atomic.Int32
		st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				sent.Add(1)
				return next.RoundTrip(r)
			})
		}, nil)
		n := storage.Name{Key: "tagged"}
		for _, tag := range refused {
			sent.Store(0)
			_, err := st.Put(ctx, n, strings.NewReader("v"), &storage.PutOptions{Headers: storage.Headers{"x-amz-tagging": tag}})
			if !errors.Is(err, storage.ErrInvalidHeader) || sent.Load() != 0 {
				t.Errorf("Put with x-amz-tagging %.40q: %v after %d requests; want ErrInvalidHeader before any", tag, err, sent.Load())
			}
			if _, err := st.PresignPut(ctx, n, time.Minute, storage.Headers{"x-amz-tagging": tag}); !errors.Is(err, storage.ErrInvalidHeader) {
				t.Errorf("PresignPut with x-amz-tagging %.40q: %v; want ErrInvalidHeader", tag, err)
			}
		}
		for _, tag := range accepted {
			if _, err := st.Put(ctx, n, strings.NewReader("v"), &storage.PutOptions{Headers: storage.Headers{"x-amz-tagging": tag}}); err != nil {
				t.Errorf("Put with x-amz-tagging %.40q: %v", tag, err)
			}
		}
	})
}
