package cache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
)

func ExampleNew() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	back := kv.NewMemory[[]byte]() // a Versioned store, as a BucketMap is
	_ = back.Set(ctx, "config", []byte("debug=false"))

	c := cache.New(back, &cache.Options{
		MaxBytes: 1 << 20,
		TTL:      time.Minute,
		Now:      func() time.Time { return now }, // a clock the example moves
	})

	v, _ := c.Get(ctx, "config") // a miss: read from back
	fmt.Printf("%s\n", v)
	_, _ = c.Get(ctx, "config") // a hit: back is not asked

	now = now.Add(time.Minute)  // the entry expires
	_, _ = c.Get(ctx, "config") // revalidated: unchanged, no value bytes move

	_ = back.Set(ctx, "config", []byte("debug=true")) // changed behind the cache
	now = now.Add(time.Minute)
	v, _ = c.Get(ctx, "config") // revalidated: changed, the new value is read
	fmt.Printf("%s\n", v)

	s := c.Stats()
	fmt.Printf("hits=%d misses=%d revalidations=%d bytes saved=%d\n", s.Hits, s.Misses, s.Revalidations, s.BytesSaved)
	// Output:
	// debug=false
	// debug=true
	// hits=1 misses=1 revalidations=2 bytes saved=11
}

func ExampleNew_set() {
	ctx := context.Background()
	back := kv.NewMemory[[]byte]()
	c := cache.New(back, nil)

	_ = c.Set(ctx, "k", []byte("v")) // written through to back, and cached
	inBack, _ := back.Get(ctx, "k")
	fmt.Printf("back: %s\n", inBack)

	v, _ := c.Get(ctx, "k")
	fmt.Printf("cache: %s, hits=%d\n", v, c.Stats().Hits)

	_ = c.Delete(ctx, "k") // deleted from both
	_, err := c.Get(ctx, "k")
	fmt.Println(errors.Is(err, kv.ErrNotFound))
	// Output:
	// back: v
	// cache: v, hits=1
	// true
}
