// Command bucketmap is the s3bucketmap seed's script: on an empty prefix
// testprefix/ it sets a key, reads it, tests two keys for membership, sets
// another key and lists the keys. It prints exactly those results on
// standard output; notes go to standard error.
//
//	go run ./examples/bucketmap                  # in-process S3 server
//	go run ./examples/bucketmap -config s3.yaml  # a real one
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/internal/exampleenv"
	"github.com/s3map/s3map/storage"
)

func main() {
	config := exampleenv.ConfigFlag()
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *config); err != nil {
		fmt.Fprintln(os.Stderr, "bucketmap:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, config string) error {
	st, closeFn, err := exampleenv.Open(ctx, config)
	if err != nil {
		return err
	}
	defer closeFn()
	m, err := bucketmap.New(st, storage.Name{Key: "testprefix/"}, nil)
	if err != nil {
		return err
	}
	if n, err := m.Len(ctx); err != nil {
		return err
	} else if n > 0 {
		return fmt.Errorf("prefix %s/%s holds %d keys already; the seed's script wants it empty", m.Bucket(), m.Prefix(), n)
	}

	if err := m.Set(ctx, "testKey", []byte("some value")); err != nil {
		return err
	}
	v, err := m.Get(ctx, "testKey")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bucketMap[%q] = %q\n", "testKey", v)
	for _, key := range []string{"testKey", "testKey2"} {
		ok, err := m.Has(ctx, key)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s in bucketMap = %v\n", key, ok)
	}
	if err := m.Set(ctx, "anotherTestKey", []byte("another value")); err != nil {
		return err
	}
	keys, errf := m.Keys(ctx)
	for key := range keys {
		fmt.Fprintf(out, "key = %s\n", key)
	}
	return errf()
}
