package storage_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

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
