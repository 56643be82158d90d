package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// Put and Get of small and large objects on the in-process server. They
// measure the library and the loopback HTTP path, not S3.
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 32 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			srv := s3test.NewServer()
			defer srv.Close()
			st := srv.Storage()
			data := randomBytes(b, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := st.Put(context.Background(), storage.Name{Key: "bench"}, bytes.NewReader(data), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 32 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			srv := s3test.NewServer()
			defer srv.Close()
			st := srv.Storage()
			ctx := context.Background()
			if _, err := st.Put(ctx, storage.Name{Key: "bench"}, bytes.NewReader(randomBytes(b, size)), nil); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				r, err := st.Get(ctx, storage.Name{Key: "bench"}, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}
