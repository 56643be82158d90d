// Command subbuckets splits one bucket into prefix-scoped sub-buckets with
// BucketMap.Sub, fills each, and lists each on its own: a Sub sees only its
// own keys, and clearing one leaves the others. It works under a fresh
// prefix per run and removes it at exit, saying so on standard error.
//
//	go run ./examples/subbuckets                  # in-process S3 server
//	go run ./examples/subbuckets -config s3.yaml  # a real one
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/internal/exampleenv"
	"github.com/s3map/s3map/storage"
)

func main() {
	config := exampleenv.ConfigFlag()
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *config); err != nil {
		fmt.Fprintln(os.Stderr, "subbuckets:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, config string) (err error) {
	env, err := exampleenv.Start(ctx, config, "subbuckets")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Close()) }()
	st := env.Storage
	root, err := bucketmap.New(st, storage.Name{Key: env.Prefix}, nil)
	if err != nil {
		return err
	}
	tenants := map[string]map[string][]byte{
		"acme":    {"users/ann": []byte("admin"), "users/bob": []byte("dev"), "plan": []byte("gold")},
		"globex":  {"users/cho": []byte("owner"), "plan": []byte("free")},
		"initech": {"plan": []byte("trial")},
	}
	for _, name := range []string{"acme", "globex", "initech"} {
		if err := root.Sub(name+"/").SetMany(ctx, tenants[name]); err != nil {
			return err
		}
	}
	list := func(title string, m *bucketmap.BucketMap) error {
		n, err := m.Len(ctx)
		if err != nil {
			return err
		}
		// The run's prefix is fresh each time: print the part below it.
		fmt.Fprintf(out, "%s (%d keys, prefix ROOT/%s):\n", title, n, strings.TrimPrefix(m.Prefix(), root.Prefix()))
		keys, errf := m.Keys(ctx)
		for k := range keys {
			fmt.Fprintf(out, "  %s\n", k)
		}
		return errf()
	}
	for _, name := range []string{"acme", "globex", "initech"} {
		if err := list(name, root.Sub(name+"/")); err != nil {
			return err
		}
	}
	if err := list("acme's users", root.Sub("acme/").Sub("users/")); err != nil {
		return err
	}
	if err := root.Sub("globex/").Clear(ctx); err != nil {
		return err
	}
	return list("the whole bucket prefix after clearing globex", root)
}
