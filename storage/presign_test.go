package storage_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

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

// A validity SigV4 cannot sign is refused plainly, before anything else.
func TestPresignExpiry(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		n := storage.Name{Key: "k"}
		for ttl, shown := range map[time.Duration]string{0: "0s", -time.Minute: "-1m0s", 500 * time.Millisecond: "500ms", 7*24*time.Hour + time.Second: "168h0m1s"} {
			want := "expiry must be between 1s and 7 days, got " + shown
			_, getErr := tg.Storage.PresignGet(ctx, n, ttl)
			_, putErr := tg.Storage.PresignPut(ctx, n, ttl, nil)
			for _, err := range []error{getErr, putErr} {
				if !errors.Is(err, storage.ErrInvalidConfig) || !strings.HasSuffix(err.Error(), ": "+want) {
					t.Errorf("ttl %v: %v; want an ErrInvalidConfig ending %q", ttl, err, want)
				}
			}
		}
		for _, ttl := range []time.Duration{time.Second, 7 * 24 * time.Hour} {
			if _, err := tg.Storage.PresignGet(ctx, n, ttl); err != nil {
				t.Errorf("PresignGet for %v: %v", ttl, err)
			}
		}
	})
}
