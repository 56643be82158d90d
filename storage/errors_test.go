package storage_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

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

// A server's "no such key" reads in one short line, without the SDK's
// request and host IDs, while errors.As still reaches the SDK's errors.
func TestErrorsReadShort(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		n := storage.Name{Key: "nope"}
		_, getErr := tg.Storage.Get(ctx, n, nil)
		want := "storage: Get s3://" + tg.Config.DefaultBucket + "/nope: not found (404 NoSuchKey)"
		if getErr == nil || getErr.Error() != want {
			t.Errorf("Get missing: %v\nwant: %s", getErr, want)
		}
		_, statErr := tg.Storage.Stat(ctx, n)
		copyErr := tg.Storage.Copy(ctx, n, storage.Name{Key: "y"}, nil)
		_, bucketErr := tg.Storage.Get(ctx, storage.Name{Bucket: s3test.NewBucketName(), Key: "k"}, nil)
		for _, err := range []error{getErr, statErr, copyErr, bucketErr} {
			msg := err.Error()
			if len(msg) > 100 || strings.Contains(msg, "RequestID") || strings.Contains(msg, "HostID") || strings.Contains(msg, "operation error") {
				t.Errorf("error of %d bytes with the SDK's dump: %s", len(msg), msg)
			}
			var api smithy.APIError
			var re *awshttp.ResponseError
			var oe *smithy.OperationError
			if !errors.As(err, &api) || !errors.As(err, &re) || !errors.As(err, &oe) {
				t.Errorf("%s: errors.As does not reach the SDK's APIError, ResponseError and OperationError", msg)
			}
		}
		if !strings.Contains(bucketErr.Error(), "bucket not found (404 NoSuchBucket)") {
			t.Errorf("Get in a missing bucket: %v; want it to say bucket not found (404 NoSuchBucket)", bucketErr)
		}
	})
}

// A "host:port" endpoint is https unless tls is false; against a
// plain-HTTP server the error says what to change, and keeps the TLS error.
func TestPlainHTTPServerHint(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		cfg := tg.Config
		host, ok := strings.CutPrefix(cfg.Endpoint, "http://")
		if !ok {
			t.Skipf("%s is not a plain-HTTP endpoint", cfg.Endpoint)
		}
		cfg.Endpoint, cfg.TLS, cfg.RetryMaxAttempts = host, nil, 1
		st, err := storage.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Get(context.Background(), storage.Name{Key: "k"}, nil)
		// net/http turns the TLS error into its own when the reply looks
		// like HTTP; otherwise crypto/tls's error is in the chain.
		var rhe tls.RecordHeaderError
		var oe *smithy.OperationError
		if !errors.As(err, &oe) || !errors.As(err, &rhe) && !strings.Contains(errors.Unwrap(err).Error(), "HTTP response to HTTPS client") {
			t.Fatalf("Get over https from a plain-HTTP server: %v; want the SDK's error and the TLS failure in the chain", err)
		}
		t.Log(err)
		if msg := err.Error(); !strings.Contains(msg, "tls: false") || !strings.Contains(msg, "http://") {
			t.Errorf("error does not say to set tls: false or use an http:// endpoint: %s", msg)
		}
	})
}
