package bucketmap_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// BucketMap operations on the in-process server: the library's overhead
// over loopback HTTP, not S3's latency.
func benchMap(b *testing.B) (*bucketmap.BucketMap, func()) {
	srv := s3test.NewServer()
	m, err := bucketmap.New(srv.Storage(), storage.Name{Key: "bench/"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return m, srv.Close
}

func BenchmarkSet(b *testing.B) {
	m, stop := benchMap(b)
	defer stop()
	value := make([]byte, 1024)
	for b.Loop() {
		if err := m.Set(context.Background(), "key", value); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	m, stop := benchMap(b)
	defer stop()
	ctx := context.Background()
	m.Set(ctx, "key", make([]byte, 1024))
	for b.Loop() {
		if _, err := m.Get(ctx, "key"); err != nil {
			b.Fatal(err)
		}
	}
}

func fill(b *testing.B, m *bucketmap.BucketMap, n int) {
	items := make(map[string][]byte, n)
	for i := range n {
		items[fmt.Sprintf("k%05d", i)] = []byte("v")
	}
	if err := m.SetMany(context.Background(), items); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkKeys lists 2000 keys: two pages.
func BenchmarkKeys(b *testing.B) {
	m, stop := benchMap(b)
	defer stop()
	fill(b, m, 2000)
	for b.Loop() {
		keys, errf := m.Keys(context.Background())
		n := 0
		for range keys {
			n++
		}
		if err := errf(); err != nil || n != 2000 {
			b.Fatalf("listed %d keys, err %v", n, err)
		}
	}
}

// BenchmarkClear fills and clears 2000 keys; only Clear is timed.
func BenchmarkClear(b *testing.B) {
	m, stop := benchMap(b)
	defer stop()
	for b.Loop() {
		b.StopTimer()
		fill(b, m, 2000)
		b.StartTimer()
		if err := m.Clear(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
