package kv_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/s3map/s3map/kv"
)

func ExampleNewMemory() {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()

	if err := m.Set(ctx, "greeting", []byte("hello")); err != nil {
		fmt.Println(err)
		return
	}
	value, err := m.Get(ctx, "greeting")
	fmt.Printf("%s %v\n", value, err)

	ok, err := m.Has(ctx, "greeting")
	fmt.Println(ok, err)

	_, err = m.Get(ctx, "missing")
	fmt.Println(errors.Is(err, kv.ErrNotFound))

	fmt.Println(m.Delete(ctx, "greeting"), m.Delete(ctx, "missing"))
	ok, _ = m.Has(ctx, "greeting")
	fmt.Println(ok)
	// Output:
	// hello <nil>
	// true <nil>
	// true
	// <nil> <nil>
	// false
}

func ExampleMemory_Keys() {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()
	for _, key := range []string{"b", "a/2", "a/10", "B"} {
		_ = m.Set(ctx, key, nil)
	}

	keys, errf := m.Keys(ctx)
	for key := range keys { // byte-wise order
		fmt.Println(key)
	}
	if err := errf(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// B
	// a/10
	// a/2
	// b
}

func ExampleMemory_Keys_delete() {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()
	for _, key := range []string{"tmp/1", "keep", "tmp/2"} {
		_ = m.Set(ctx, key, nil)
	}

	// The loop body may change the store.
	keys, errf := m.Keys(ctx)
	for key := range keys {
		if key[:4] == "tmp/" {
			_ = m.Delete(ctx, key)
		}
	}
	if err := errf(); err != nil {
		fmt.Println(err)
	}
	left, _ := m.Keys(ctx)
	fmt.Println(slices.Collect(left))
	// Output:
	// [keep]
}

func ExampleMemory_CompareAndSwap() {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()
	version, _ := m.SetIfAbsent(ctx, "config", []byte("v1"))

	_, err := m.SetIfAbsent(ctx, "config", []byte("other"))
	fmt.Println(errors.Is(err, kv.ErrConflict))

	_, err = m.CompareAndSwap(ctx, "config", version, []byte("v2"))
	fmt.Println(err)
	_, err = m.CompareAndSwap(ctx, "config", version, []byte("v3")) // version is stale now
	fmt.Println(errors.Is(err, kv.ErrConflict))

	value, _ := m.Get(ctx, "config")
	fmt.Printf("%s\n", value)
	// Output:
	// true
	// <nil>
	// true
	// v2
}

func ExampleWithPrefix() {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()
	users := kv.WithPrefix[[]byte](m, "users/")

	_ = users.Set(ctx, "ada", []byte("Ada Lovelace"))
	_ = m.Set(ctx, "other", []byte("not a user"))

	value, _ := users.Get(ctx, "ada")
	fmt.Printf("%s\n", value)

	all, _ := m.Keys(ctx)
	fmt.Println(slices.Collect(all))
	under, _ := users.Keys(ctx)
	fmt.Println(slices.Collect(under))

	_, versioned := users.(kv.Versioned[[]byte]) // as m is
	fmt.Println(versioned)
	// Output:
	// Ada Lovelace
	// [other users/ada]
	// [ada]
	// true
}

func ExampleWithPrefix_invalid() {
	ctx := context.Background()
	bad := kv.WithPrefix[[]byte](kv.NewMemory[[]byte](), "not UTF-8 \xff/")
	err := bad.Set(ctx, "key", []byte("v"))
	fmt.Println(errors.Is(err, kv.ErrInvalidKey))
	// Output:
	// true
}

func ExampleUpdate() {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()

	// Eight goroutines add one to a counter, 25 times each; Update retries
	// whoever loses a race, so no increment is lost.
	increment := func(old []byte, exists bool) ([]byte, error) {
		if !exists {
			return []byte("1"), nil
		}
		n, err := strconv.Atoi(string(old))
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(n+1), 10), nil
	}
	opts := &kv.UpdateOptions{MaxAttempts: 1000}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				if err := kv.UpdateWithOptions(ctx, m, "counter", increment, opts); err != nil {
					fmt.Println(err)
				}
			}
		})
	}
	wg.Wait()

	value, _ := m.Get(ctx, "counter")
	fmt.Printf("%s\n", value)
	// Output:
	// 200
}

func ExampleUpdate_abort() {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()
	_ = m.Set(ctx, "stock", []byte("0"))

	errSoldOut := errors.New("sold out")
	err := kv.Update(ctx, m, "stock", func(old []byte, exists bool) ([]byte, error) {
		if string(old) == "0" {
			return nil, errSoldOut // nothing is written
		}
		return old, nil
	})
	fmt.Println(errors.Is(err, errSoldOut))
	fmt.Println(err)
	// Output:
	// true
	// kv: update "stock": sold out
}

func ExampleGetMany() {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()

	err := kv.SetMany(ctx, m, map[string][]byte{"a": []byte("1"), "b": []byte("2"), "c": []byte("3")})
	fmt.Println(err)

	values, err := kv.GetMany(ctx, m, []string{"a", "c", "missing"})
	for _, key := range slices.Sorted(maps.Keys(values)) {
		fmt.Printf("%s=%s\n", key, values[key])
	}
	fmt.Println(err)

	err = kv.DeleteMany(ctx, m, []string{"a", "b", "missing"})
	left, _ := m.Keys(ctx)
	fmt.Println(slices.Collect(left), err)
	// Output:
	// <nil>
	// a=1
	// c=3
	// <nil>
	// [c] <nil>
}

func ExampleSetMany_invalidKeys() {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()

	err := kv.SetMany(ctx, m, map[string][]byte{"fine": nil, "": nil})
	var batchErr *kv.BatchError
	if errors.As(err, &batchErr) {
		fmt.Printf("%q\n", slices.Sorted(maps.Keys(batchErr.Failed)))
	}
	fmt.Println(errors.Is(err, kv.ErrInvalidKey))
	fmt.Println(err)

	ok, _ := m.Has(ctx, "fine") // the whole batch was refused
	fmt.Println(ok)
	// Output:
	// [""]
	// true
	// kv: SetMany: 1 key failed: "": kv: invalid key: empty key
	// false
}
