// Command appstate keeps typed application state as JSON in a BucketMap and
// changes it from several goroutines at once with kv.Update, which reads,
// computes and writes only if nobody wrote in between (If-Match on the
// ETag), retrying on conflict. No update is lost: the counts add up. It
// works under a fresh prefix per run and removes it at exit, saying so on
// standard error.
//
//	go run ./examples/appstate                  # in-process S3 server
//	go run ./examples/appstate -config s3.yaml  # a real one
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/internal/exampleenv"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/storage"
)

// State is the application state kept under one key.
type State struct {
	Visits   int            `json:"visits"`
	ByWorker map[string]int `json:"by_worker"`
}

func main() {
	config := exampleenv.ConfigFlag()
	workers := flag.Int("workers", 8, "goroutines updating the state at once")
	each := flag.Int("updates", 25, "updates per goroutine")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *config, *workers, *each); err != nil {
		fmt.Fprintln(os.Stderr, "appstate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, config string, workers, each int) (err error) {
	env, err := exampleenv.Start(ctx, config, "appstate")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Close()) }()
	st := env.Storage
	m, err := bucketmap.New(st, storage.Name{Key: env.Prefix}, nil)
	if err != nil {
		return err
	}
	// Typed keeps BucketMap's versions, so kv.Update works through it.
	states := kv.Typed(m, kv.JSON[State]())

	var g errgroup.Group
	for w := range workers {
		name := fmt.Sprintf("worker-%d", w)
		g.Go(func() error {
			for range each {
				err := kv.Update(ctx, states, "state", func(old State, exists bool) (State, error) {
					if old.ByWorker == nil {
						old.ByWorker = map[string]int{}
					}
					old.Visits++
					old.ByWorker[name]++
					return old, nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	final, err := states.Get(ctx, "state")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "visits = %d (want %d)\n", final.Visits, workers*each)
	for w := range workers {
		name := fmt.Sprintf("worker-%d", w)
		fmt.Fprintf(out, "%s = %d\n", name, final.ByWorker[name])
	}
	if final.Visits != workers*each {
		return fmt.Errorf("lost %d updates", workers*each-final.Visits)
	}
	return nil
}
