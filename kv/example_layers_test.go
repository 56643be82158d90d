package kv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/s3map/s3map/kv"
)

func ExampleTyped() {
	ctx := context.Background()
	type User struct {
		Name  string `json:"name"`
		Admin bool   `json:"admin"`
	}
	raw := kv.NewMemory[[]byte]()
	users := kv.Typed(raw, kv.JSON[User]())

	if err := users.Set(ctx, "users/ada", User{Name: "Ada", Admin: true}); err != nil {
		fmt.Println(err)
		return
	}
	u, err := users.Get(ctx, "users/ada")
	fmt.Printf("%+v %v\n", u, err)

	stored, _ := raw.Get(ctx, "users/ada")
	fmt.Printf("stored: %s\n", stored)

	// A value that is not JSON is an error naming the key.
	_ = raw.Set(ctx, "users/bob", []byte("not json"))
	_, err = users.Get(ctx, "users/bob")
	fmt.Println(errors.Is(err, kv.ErrCorrupt))
	fmt.Println(err)
	// Output:
	// {Name:Ada Admin:true} <nil>
	// stored: {"name":"Ada","admin":true}
	// true
	// kv: stored value does not decode: key "users/bob": invalid character 'o' in literal null (expecting 'u')
}

// Typed keeps the Versioned ability of the store under it, so kv.Update
// changes a typed value atomically.
func ExampleTyped_update() {
	ctx := context.Background()
	type Counter struct{ N int }
	counters := kv.Typed(kv.NewMemory[[]byte](), kv.JSON[Counter]())

	_, versioned := counters.(kv.Versioned[Counter])
	fmt.Println("versioned:", versioned)

	for range 3 {
		err := kv.Update(ctx, counters, "visits", func(old Counter, exists bool) (Counter, error) {
			old.N++
			return old, nil
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	c, _ := counters.Get(ctx, "visits")
	fmt.Println(c.N)
	// Output:
	// versioned: true
	// 3
}

func ExampleGob() {
	ctx := context.Background()
	type Point struct{ X, Y float64 }
	points := kv.Typed(kv.NewMemory[[]byte](), kv.Gob[[]Point]())

	_ = points.Set(ctx, "path", []Point{{0, 0}, {1.5, 2}})
	path, err := points.Get(ctx, "path")
	fmt.Println(path, err)
	// Output:
	// [{0 0} {1.5 2}] <nil>
}

func ExampleCompressed() {
	ctx := context.Background()
	raw := kv.NewMemory[[]byte]()
	// A value stored before compression was turned on.
	_ = raw.Set(ctx, "old", []byte("stored as it is"))

	s := kv.Compressed(raw, nil)
	text := []byte(strings.Repeat("all work and no play makes a dull value; ", 100))
	if err := s.Set(ctx, "new", text); err != nil {
		fmt.Println(err)
		return
	}

	got, _ := s.Get(ctx, "new")
	stored, _ := raw.Get(ctx, "new")
	fmt.Println("round trip:", bytes.Equal(got, text))
	fmt.Println("stored smaller:", len(stored) < len(text)/10)

	old, err := s.Get(ctx, "old")
	fmt.Printf("%s %v\n", old, err)
	// Output:
	// round trip: true
	// stored smaller: true
	// stored as it is <nil>
}

func ExampleCompressed_maxValueSize() {
	ctx := context.Background()
	s := kv.Compressed(kv.NewMemory[[]byte](), &kv.CompressedOptions{MaxValueSize: 1024})
	err := s.Set(ctx, "big", make([]byte, 2048))
	fmt.Println(errors.Is(err, kv.ErrValueTooLarge))
	fmt.Println(err)
	// Output:
	// true
	// kv: key "big": encoding value: kv: value too large: 2048 bytes is over the limit of 1024 bytes
}

func ExampleNewDir() {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "kv-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(tmp)

	d, err := kv.NewDir(filepath.Join(tmp, "cache"), nil) // created when missing
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()

	for _, key := range []string{"users/42.json", "users", "Readme.md", "../escape", "a//b"} {
		if err := d.Set(ctx, key, []byte("value of "+key)); err != nil {
			fmt.Println(err)
			return
		}
	}
	v, err := d.Get(ctx, "../escape")
	fmt.Printf("%s %v\n", v, err)

	fmt.Println("keys:")
	keys, errf := d.Keys(ctx)
	for key := range keys {
		fmt.Println(" ", key)
	}
	if err := errf(); err != nil {
		fmt.Println(err)
	}

	fmt.Println("files:")
	_ = filepath.WalkDir(filepath.Join(tmp, "cache"), func(p string, entry fs.DirEntry, err error) error {
		if err == nil && !entry.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(tmp, "cache"), p)
			fmt.Println(" ", filepath.ToSlash(rel))
		}
		return err
	})
	// Output:
	// value of ../escape <nil>
	// keys:
	//   ../escape
	//   Readme.md
	//   a//b
	//   users
	//   users/42.json
	// files:
	//   !readme.md
	//   %2e.+/escape
	//   a+/%+/b
	//   users
	//   users+/42.json
}

func ExampleDir_KeysWithPrefix() {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "kv-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(tmp)
	d, err := kv.NewDir(tmp, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	for _, key := range []string{"logs/2026/01", "logs/2026/02", "logs/2025/12", "other"} {
		_ = d.Set(ctx, key, nil)
	}

	// Only the directory of "logs/2026/" is walked.
	keys, errf := d.KeysWithPrefix(ctx, "logs/2026/")
	for key := range keys {
		fmt.Println(key)
	}
	fmt.Println(errf())
	// Output:
	// logs/2026/01
	// logs/2026/02
	// <nil>
}

func ExampleNewCache() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	back := kv.NewMemory[[]byte]() // a Versioned store, as a BucketMap is
	_ = back.Set(ctx, "config", []byte("debug=false"))

	c := kv.NewCache(back, &kv.CacheOptions{
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

func ExampleCache_Set() {
	ctx := context.Background()
	back := kv.NewMemory[[]byte]()
	c := kv.NewCache(back, nil)

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
