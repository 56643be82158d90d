package kv_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
