package bucketmap_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// exampleMap returns a map over the prefix "example/" on an in-process
// server, and a function that stops the server.
func exampleMap() (*bucketmap.BucketMap, func()) {
	srv := s3test.NewServer()
	m, err := bucketmap.New(srv.Storage(), storage.Name{Key: "example/"}, nil)
	if err != nil {
		panic(err)
	}
	return m, srv.Close
}

func Example() {
	ctx := context.Background()
	srv := s3test.NewServer() // an in-process S3 server
	defer srv.Close()

	m, err := bucketmap.New(srv.Storage(), storage.Name{Key: "testprefix/"}, nil)
	if err != nil {
		panic(err)
	}
	m.Set(ctx, "testKey", []byte("some value"))
	v, _ := m.Get(ctx, "testKey")
	fmt.Printf("%s\n", v)
	ok, _ := m.Has(ctx, "testKey2")
	fmt.Println(ok)
	// Output:
	// some value
	// false
}

func ExampleNew() {
	srv := s3test.NewServer()
	defer srv.Close()
	// The map over the keys under "app/" in the default bucket.
	m, err := bucketmap.New(srv.Storage(), storage.Name{Key: "app/"}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Bucket(), m.Prefix())
	// Output: s3test app/
}

func ExampleBucketMap_Get() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.Set(ctx, "k", []byte("v"))
	v, err := m.Get(ctx, "k")
	fmt.Printf("%s %v\n", v, err)
	_, err = m.Get(ctx, "missing")
	fmt.Println(errors.Is(err, kv.ErrNotFound), errors.Is(err, storage.ErrNotFound))
	// Output:
	// v <nil>
	// true true
}

func ExampleBucketMap_Set() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.Set(ctx, "k", []byte("first"))
	m.Set(ctx, "k", []byte("second"))
	v, _ := m.Get(ctx, "k")
	fmt.Printf("%s\n", v)
	// Output: second
}

func ExampleBucketMap_Has() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.Set(ctx, "here", nil)
	a, _ := m.Has(ctx, "here")
	b, _ := m.Has(ctx, "not-here")
	fmt.Println(a, b)
	// Output: true false
}

func ExampleBucketMap_Delete() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.Set(ctx, "k", []byte("v"))
	fmt.Println(m.Delete(ctx, "k"), m.Delete(ctx, "never-there"))
	ok, _ := m.Has(ctx, "k")
	fmt.Println(ok)
	// Output:
	// <nil> <nil>
	// false
}

func ExampleBucketMap_Keys() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	for _, k := range []string{"b", "a", "c/d"} {
		m.Set(ctx, k, nil)
	}
	keys, errf := m.Keys(ctx)
	for k := range keys {
		fmt.Println(k)
	}
	if err := errf(); err != nil {
		fmt.Println("listing failed:", err)
	}
	// Output:
	// a
	// b
	// c/d
}

func ExampleBucketMap_Sub() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	users := m.Sub("users/")
	users.Set(ctx, "ann", []byte("admin"))
	m.Set(ctx, "config", []byte("{}"))
	keys, _ := m.Keys(ctx)
	fmt.Println(slices.Collect(keys))
	userKeys, _ := users.Keys(ctx)
	fmt.Println(slices.Collect(userKeys))
	// Output:
	// [config users/ann]
	// [ann]
}

// A sub-map cannot reach outside its prefix: keys with "." or ".." path
// segments, empty segments or characters servers cannot list back are
// refused before any request.
func ExampleBucketMap_CheckKey() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	alice := m.Sub("alice/")
	for _, key := range []string{"notes/today", "../bob/secret", "a//b", "a\uffff"} {
		err := alice.CheckKey(key)
		fmt.Printf("%+q: %v\n", key, errors.Is(err, kv.ErrInvalidKey))
	}
	err := alice.Set(ctx, "../bob/secret", []byte("mallory"))
	fmt.Println(err)
	// Output:
	// "notes/today": false
	// "../bob/secret": true
	// "a//b": true
	// "a\uffff": true
	// bucketmap: Set: kv: invalid key: object name "example/alice/../bob/secret" holds a ".." path segment, which S3 servers that keep objects as files resolve (writing another object) or refuse
}

func ExampleBucketMap_Len() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.SetMany(ctx, map[string][]byte{"a": nil, "b": nil, "c": nil})
	n, _ := m.Len(ctx)
	fmt.Println(n)
	// Output: 3
}

func ExampleBucketMap_Clear() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.SetMany(ctx, map[string][]byte{"a": nil, "b": nil})
	m.Clear(ctx) // DeleteObjects, 1000 keys a request
	n, _ := m.Len(ctx)
	fmt.Println(n)
	// Output: 0
}

func ExampleBucketMap_All() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.SetMany(ctx, map[string][]byte{"x": []byte("1"), "y": []byte("2")})
	all, errf := m.All(ctx)
	for k, v := range all {
		fmt.Printf("%s=%s\n", k, v)
	}
	fmt.Println(errf())
	// Output:
	// x=1
	// y=2
	// <nil>
}

func ExampleBucketMap_GetMany() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.SetMany(ctx, map[string][]byte{"a": []byte("1"), "b": []byte("2")})
	vals, err := m.GetMany(ctx, []string{"a", "b", "missing"})
	fmt.Println(len(vals), string(vals["a"]), string(vals["b"]), err)
	// Output: 2 1 2 <nil>
}

func ExampleBucketMap_DeleteMany() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.SetMany(ctx, map[string][]byte{"a": nil, "b": nil, "c": nil})
	// An invalid key fails the whole batch before anything is deleted.
	err := m.DeleteMany(ctx, []string{"a", ""})
	var be *kv.BatchError
	if errors.As(err, &be) {
		for key, e := range be.Failed {
			fmt.Printf("%q refused: %v\n", key, errors.Is(e, kv.ErrInvalidKey))
		}
	}
	m.DeleteMany(ctx, []string{"a", "b", "never-there"}) // one DeleteObjects request
	keys, _ := m.Keys(ctx)
	fmt.Println(slices.Collect(keys))
	// Output:
	// "" refused: true
	// [c]
}

func ExampleBucketMap_SetIfAbsent() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	_, err := m.SetIfAbsent(ctx, "lock", []byte("me"))
	fmt.Println(err)
	_, err = m.SetIfAbsent(ctx, "lock", []byte("you"))
	fmt.Println(errors.Is(err, kv.ErrConflict))
	// Output:
	// <nil>
	// true
}

func ExampleBucketMap_CompareAndSwap() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.Set(ctx, "n", []byte("1"))
	_, version, _ := m.GetVersion(ctx, "n")
	_, err := m.CompareAndSwap(ctx, "n", version, []byte("2")) // nobody wrote meanwhile
	fmt.Println(err)
	_, err = m.CompareAndSwap(ctx, "n", version, []byte("3")) // version is stale now
	fmt.Println(errors.Is(err, kv.ErrConflict))
	// Output:
	// <nil>
	// true
}

func ExampleBucketMap_GetIfChanged() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.Set(ctx, "k", []byte("v1"))
	_, version, _ := m.GetVersion(ctx, "k")
	_, _, changed, _ := m.GetIfChanged(ctx, "k", version) // a 304: no body
	fmt.Println(changed)
	m.Set(ctx, "k", []byte("v2"))
	v, _, changed, _ := m.GetIfChanged(ctx, "k", version)
	fmt.Println(changed, string(v))
	// Output:
	// false
	// true v2
}

func ExampleBucketMap_CompareAndDelete() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.Set(ctx, "k", []byte("v"))
	_, version, _ := m.GetVersion(ctx, "k")
	m.Set(ctx, "k", []byte("changed"))
	fmt.Println(errors.Is(m.CompareAndDelete(ctx, "k", version), kv.ErrConflict))
	// Output: true
}

func ExampleBucketMap_Stat() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.SetFrom(ctx, "page", strings.NewReader("<p>hi</p>"), &storage.PutOptions{Headers: storage.Headers{"Content-Type": "text/html"}})
	info, _ := m.Stat(ctx, "page")
	fmt.Println(info.Size, info.ContentType)
	// Output: 9 text/html
}

func ExampleBucketMap_Metadata() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.SetFrom(ctx, "doc", strings.NewReader("x"), &storage.PutOptions{Headers: storage.Headers{"X-Amz-Meta-State": "unprocessed"}})
	m.UpdateMetadata(ctx, "doc", storage.Headers{"x-amz-meta-state": "processed"})
	md, _ := m.Metadata(ctx, "doc")
	fmt.Println(md)
	// Output: map[x-amz-meta-state:processed]
}

func ExampleBucketMap_Copy() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.Set(ctx, "src", []byte("data"))
	m.Copy(ctx, "src", "dst") // on the server: no bytes through the client
	v, _ := m.Get(ctx, "dst")
	fmt.Printf("%s\n", v)
	// Output: data
}

func ExampleBucketMap_Rename() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	m.Set(ctx, "old", []byte("data"))
	m.Rename(ctx, "old", "new")
	keys, _ := m.Keys(ctx)
	fmt.Println(slices.Collect(keys))
	// Output: [new]
}

func ExampleBucketMap_NewWriter() {
	ctx := context.Background()
	m, stop := exampleMap()
	defer stop()
	w, _ := m.NewWriter(ctx, "log", nil)
	for i := range 3 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if err := w.Close(); err != nil { // stored once Close returns nil
		panic(err)
	}
	r, _ := m.NewReader(ctx, "log")
	defer r.Close()
	io.Copy(stdout{}, r)
	// Output:
	// line 0
	// line 1
	// line 2
}

type stdout struct{}

func (stdout) Write(p []byte) (int, error) { fmt.Print(string(p)); return len(p), nil }

func ExampleOpen() {
	// Open reads the YAML config (see storage.LoadConfig). Here the
	// config is written for the in-process server.
	srv := s3test.NewServer()
	defer srv.Close()
	path := writeConfig(srv)
	defer os.RemoveAll(filepath.Dir(path))
	m, err := bucketmap.Open(context.Background(), path, "testprefix/")
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Bucket(), m.Prefix())
	// Output: s3test testprefix/
}
