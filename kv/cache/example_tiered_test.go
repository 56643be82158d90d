package cache_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
)

// A Dir in front of a slower store (here a Memory standing in for a
// BucketMap). The second read of a key finds it on disk, and the far store
// only confirms its version: no value bytes move from it.
func ExampleNewTiered() {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "kv-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(tmp)
	dir, err := kv.NewDir(filepath.Join(tmp, "cache"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dir.Close()

	far := kv.NewMemory[[]byte]() // a BucketMap in real use
	_ = far.Set(ctx, "report.csv", []byte("a,b,c\n1,2,3\n"))
	tier := cache.NewTiered(dir, far, nil)

	for range 2 {
		v, err := tier.Get(ctx, "report.csv")
		fmt.Printf("%q %v\n", v, err)
	}
	fmt.Printf("%+v\n", tier.Stats())

	// Changes made to the far store directly are seen, since it is
	// Versioned: the next read finds the version on disk out of date.
	_ = far.Set(ctx, "report.csv", []byte("a,b,c\n4,5,6\n"))
	v, err := tier.Get(ctx, "report.csv")
	fmt.Printf("%q %v\n", v, err)
	fmt.Printf("%+v\n", tier.Stats())
	// Output:
	// "a,b,c\n1,2,3\n" <nil>
	// "a,b,c\n1,2,3\n" <nil>
	// {NearHits:1 FarReads:1 Revalidations:1 BytesSaved:12 NearFailures:0}
	// "a,b,c\n4,5,6\n" <nil>
	// {NearHits:1 FarReads:2 Revalidations:2 BytesSaved:12 NearFailures:0}
}

// The three layers: memory, then disk, then the store of record. When the
// memory entry expires, the Cache revalidates it through the Tiered store,
// which finds the version on disk and has the far store confirm it.
func ExampleNewTiered_layers() {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	far := kv.NewMemory[[]byte]() // a BucketMap in real use
	_ = far.Set(ctx, "config.json", []byte(`{"debug":false}`))

	near := kv.NewMemory[[]byte]() // a Dir in real use
	tier := cache.NewTiered(near, far, nil)
	memory := cache.New(tier, &cache.Options{
		TTL: time.Minute,
		Now: func() time.Time { return now },
	})

	_, _ = memory.Get(ctx, "config.json") // read from far, kept on disk and in memory
	_, _ = memory.Get(ctx, "config.json") // from memory
	now = now.Add(2 * time.Minute)
	v, err := memory.Get(ctx, "config.json") // expired: revalidated, 304
	fmt.Printf("%s %v\n", v, err)

	c := memory.Stats()
	fmt.Printf("memory: hits %d, misses %d, revalidations %d\n", c.Hits, c.Misses, c.Revalidations)
	fmt.Printf("tier:   %+v\n", tier.Stats())
	// Output:
	// {"debug":false} <nil>
	// memory: hits 1, misses 1, revalidations 1
	// tier:   {NearHits:1 FarReads:1 Revalidations:1 BytesSaved:15 NearFailures:0}
}

// Tiered is Versioned when its far store is, so kv.Update works through it,
// and each update keeps the new version on disk.
func ExampleNewTiered_update() {
	ctx := context.Background()
	tier := cache.NewTiered(kv.NewMemory[[]byte](), kv.NewMemory[[]byte](), nil)
	for range 3 {
		err := kv.Update(ctx, tier, "n", func(old []byte, exists bool) ([]byte, error) {
			return append(old, '+'), nil
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	v, err := tier.Get(ctx, "n")
	fmt.Printf("%s %v\n", v, err)
	// Output:
	// +++ <nil>
}
