package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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

// BenchmarkRead downloads a 256 MiB object written by Put to a file, as a
// user's Read does (one stream on loopback, verified).
func BenchmarkRead(b *testing.B) {
	const size = 256 << 20
	b.Run("256MiB", func(b *testing.B) {
		srv := s3test.NewServer()
		defer srv.Close()
		st := srv.Storage()
		ctx := context.Background()
		if _, err := st.Put(ctx, storage.Name{Key: "bench"}, bytes.NewReader(randomBytes(b, size)), nil); err != nil {
			b.Fatal(err)
		}
		dst := filepath.Join(b.TempDir(), "out")
		b.SetBytes(size)
		for b.Loop() {
			if _, err := st.Read(ctx, storage.Name{Key: "bench"}, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifiedDownload measures what verification costs: the same
// 256 MiB Read with and without checksums, for an object with a CRC32C
// (what our own uploads carry where the server keeps it) and one whose
// only digest is its ETag (MD5), on the in-process server.
func BenchmarkVerifiedDownload(b *testing.B) {
	const size = 256 << 20
	ctx := context.Background()
	data := randomBytes(b, size)
	for _, tg := range benchTargets(b) {
		st := tg.Storage
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32c, ""} {
			key := "bench-" + string(alg)
			if _, err := st.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(tg.Config.DefaultBucket), Key: &key, Body: bytes.NewReader(data), ChecksumAlgorithm: alg}); err != nil {
				b.Fatal(err)
			}
			name := map[types.ChecksumAlgorithm]string{"": "MD5"}[alg]
			if name == "" {
				name = string(alg)
			}
			for _, verify := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/%s/verified=%v", tg.Name, name, verify), func(b *testing.B) {
					storage.SetVerifyReads(verify)
					defer storage.SetVerifyReads(true)
					dst := filepath.Join(b.TempDir(), "out")
					b.SetBytes(size)
					for b.Loop() {
						if _, err := st.Read(ctx, storage.Name{Key: key}, dst); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
