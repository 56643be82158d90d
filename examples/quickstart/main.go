// Command quickstart runs the seed's two flows with package storage:
//
//  1. write a local file, check it exists, read it back to another file,
//     compare the two, delete it, check it is gone;
//  2. write with x-amz-meta-state: unprocessed to a second, explicitly named
//     bucket, check the metadata equals the headers, update it to
//     processed, read it back and check again.
//
// It prints each step and exits non-zero if any check fails. It works under
// a fresh prefix of the default bucket, and in a second bucket of a fresh
// name that it creates (or under the same prefix of the bucket -bucket
// names), and removes all of it at exit, saying what it touched on standard
// error.
//
//	go run ./examples/quickstart                  # in-process S3 server
//	go run ./examples/quickstart -config s3.yaml  # a real one
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/s3map/s3map/internal/exampleenv"
	"github.com/s3map/s3map/storage"
)

func main() {
	config := exampleenv.ConfigFlag()
	second := flag.String("bucket", "", "an existing second bucket for flow 2 (default: a new one, removed at exit)")
	flag.Parse()
	if err := run(context.Background(), *config, *second); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart: FAILED:", err)
		os.Exit(1)
	}
	fmt.Println("all checks passed")
}

func step(format string, args ...any) { fmt.Printf("- "+format+"\n", args...) }

func run(ctx context.Context, config, secondBucket string) (err error) {
	env, err := exampleenv.Start(ctx, config, "quickstart")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Close()) }()
	st := env.Storage
	dir, err := os.MkdirTemp("", "s3map-quickstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Println("flow 1: write, exists, read, compare, delete")
	data := make([]byte, 64<<10)
	rand.Read(data)
	local := filepath.Join(dir, "local.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		return err
	}
	name := storage.Name{Key: env.Prefix + "file.bin"} // default bucket
	if err := st.Write(ctx, local, name, nil); err != nil {
		return err
	}
	step("wrote %s (%d bytes) to %s", local, len(data), name)
	ok, _, err := st.Exists(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the object does not exist after Write")
	}
	step("exists: %v", ok)
	back := filepath.Join(dir, "back.bin")
	if _, err := st.Read(ctx, name, back); err != nil {
		return err
	}
	got, err := os.ReadFile(back)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return errors.New("the file read back differs from the one written")
	}
	step("read back to %s: identical", back)
	if err := st.Delete(ctx, name); err != nil {
		return err
	}
	if ok, _, err = st.Exists(ctx, name); err != nil {
		return err
	}
	if ok {
		return errors.New("the object still exists after Delete")
	}
	step("deleted; exists: %v", ok)

	fmt.Println("flow 2: metadata in a second bucket")
	if secondBucket, err = env.Bucket(ctx, secondBucket); err != nil {
		return err
	}
	step("second bucket: %s", secondBucket)
	meta := storage.Name{Bucket: secondBucket, Key: env.Prefix + "state.txt"}
	headers := storage.Headers{"x-amz-meta-state": "unprocessed"}
	if err := st.Write(ctx, local, meta, headers); err != nil {
		return err
	}
	step("wrote %s with %v", meta, headers)
	_, md, err := st.Exists(ctx, meta)
	if err != nil {
		return err
	}
	if !maps.Equal(md, storage.Metadata(headers)) {
		return fmt.Errorf("metadata %v != headers %v", md, headers)
	}
	step("metadata == headers: %v", md)
	headers = storage.Headers{"x-amz-meta-state": "processed"}
	if err := st.UpdateMetadata(ctx, meta, headers); err != nil {
		return err
	}
	step("updated metadata to %v", headers)
	md, err = st.Read(ctx, meta, back)
	if err != nil {
		return err
	}
	if !maps.Equal(md, storage.Metadata(headers)) {
		return fmt.Errorf("metadata read back %v != headers %v", md, headers)
	}
	step("read back; metadata == headers: %v", md)
	if err := st.Delete(ctx, meta); err != nil {
		return err
	}
	return nil
}
