package storage_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// A Writer streams into an object: the object exists once Close returns
// nil.
func ExampleStorage_NewWriter() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	w := st.NewWriter(ctx, storage.Name{Key: "log.txt"}, &storage.PutOptions{
		Headers: storage.Headers{"Content-Type": "text/plain"},
	})
	for i := range 3 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Info().Name, w.Info().Size)

	r, err := st.Get(ctx, storage.Name{Key: "log.txt"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	io.Copy(os.Stdout, r)
	// Output:
	// s3://s3test/log.txt 21
	// line 0
	// line 1
	// line 2
}

// AbortUploads removes the multipart uploads a crashed process left
// behind; here one is made by hand.
func ExampleStorage_AbortUploads() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	bucket, key := s3test.DefaultBucket, "tmp/half-written"
	if _, err := st.Client().CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key}); err != nil {
		log.Fatal(err)
	}
	n, err := st.AbortUploads(ctx, "", "tmp/", 0) // 0: whatever their age
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("aborted:", n)
	// Output:
	// aborted: 1
}

// Options.Logger shows what the library decides on its own, such as
// aborting a cancelled upload. Without a Logger nothing is written.
func ExampleOptions_logger() {
	srv := s3test.NewServer()
	defer srv.Close()
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		// Keep the message only, so the output is stable.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key != slog.MessageKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	st, err := storage.New(srv.Storage().Client(), &storage.Options{DefaultBucket: s3test.DefaultBucket, Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := st.NewWriter(ctx, storage.Name{Key: "big"}, nil)
	w.Write([]byte(strings.Repeat("x", 20<<20))) // over one part: a multipart upload
	cancel()
	w.Close()
	// Output:
	// msg="storage: the server does not keep part checksums; multipart uploads go without CRC32C"
	// msg="storage: aborted multipart upload"
	// msg="storage: aborted multipart upload"
}
