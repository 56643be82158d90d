package s3test_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// An in-process S3 server for a test or an example, as httptest.NewServer
// is for HTTP: no credentials, nothing to install, gone on Close.
func ExampleNewServer() {
	ctx := context.Background()
	srv := s3test.NewServer()
	defer srv.Close()

	st := srv.Storage() // a *storage.Storage connected to it, DefaultBucket as the default bucket
	if _, err := st.Put(ctx, storage.Name{Key: "hello.txt"}, strings.NewReader("hello, S3"), nil); err != nil {
		panic(err)
	}
	r, err := st.Get(ctx, storage.Name{Key: "hello.txt"}, nil)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s from bucket %s\n", b, st.DefaultBucket())
	// Output: hello, S3 from bucket s3test
}

// ForEach runs one test on the in-process server and on every real server
// named in S3MAP_TEST_ENDPOINTS, each with a fresh bucket that is removed
// afterwards. A feature a server lacks is skipped with the reason.
func ExampleForEach() {
	TestRoundTrip := func(t *testing.T) {
		s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
			tg.SkipIf(t, tg.Caps.IgnoresGetIfMatch, "GET If-Match")
			ctx := context.Background()
			info, err := tg.Storage.Put(ctx, storage.Name{Key: "k"}, strings.NewReader("v"), nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := tg.Storage.Get(ctx, storage.Name{Key: "k"}, &storage.GetOptions{IfMatch: info.ETag})
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
		})
	}
	_ = TestRoundTrip // in a _test.go file: func TestRoundTrip(t *testing.T) { ... }
}
