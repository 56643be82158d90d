// Command bucketmap is the s3bucketmap seed's script: on an empty prefix
// (a fresh one per run, removed at exit) it sets a key, reads it, tests two
// keys for membership, sets another key and lists the keys. It prints
// exactly those results on standard output; notes, among them what it
// touched and removed, go to standard error.
//
//	go run ./examples/bucketmap                  # in-process S3 server
//	go run ./examples/bucketmap -config s3.yaml  # a real one
package main

import (
	"context"
	"errors"
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

func run(ctx context.Context, out io.Writer, config string) (err error) {
	env, err := exampleenv.Start(ctx, config, "bucketmap")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Close()) }()
	st := env.Storage
	m, err := bucketmap.New(st, storage.Name{Key: env.Prefix}, nil)
	if err != nil {
		return err
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
