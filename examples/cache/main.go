// Command cache stacks three stores, each a cache of the next: a memory
// cache.Cache, over a cache.Tiered store that keeps copies in a local directory
// (kv.Dir), over a BucketMap on a fresh prefix per run. It writes a few keys
// through the stack and reads them back in phases, printing what each
// layer did: memory hits, misses and revalidations, and the disk tier's
// near hits, reads from S3 and revalidations (answered 304 Not Modified by
// S3 when the value is unchanged, so no value bytes move).
//
// The memory cache's clock is a fake one that the program moves forward,
// so that entries expire on cue and the output is the same on every run.
//
//	go run ./examples/cache                  # in-process S3 server
//	go run ./examples/cache -config s3.yaml  # a real one
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/internal/exampleenv"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/storage"
)

func main() {
	config := exampleenv.ConfigFlag()
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *config); err != nil {
		fmt.Fprintln(os.Stderr, "cache:", err)
		os.Exit(1)
	}
}

// ttl is how long the memory cache serves an entry before revalidating it.
const ttl = time.Minute

// fakeClock is the memory cache's clock: it moves only when told to.
type fakeClock struct{ nanos atomic.Int64 }

func (c *fakeClock) now() time.Time { return time.Unix(0, c.nanos.Load()) }

func (c *fakeClock) advance(d time.Duration) { c.nanos.Add(int64(d)) }

// keys are the keys the program writes and reads, in this order.
var keys = []string{"alpha", "bravo", "charlie"}

func run(ctx context.Context, out io.Writer, config string) (err error) {
	env, err := exampleenv.Start(ctx, config, "cache")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Close()) }()
	st := env.Storage
	bucket, err := bucketmap.New(st, storage.Name{Key: env.Prefix}, nil)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "s3map-cache-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir, err := kv.NewDir(filepath.Join(tmp, "disk"), &kv.DirOptions{NoSync: true})
	if err != nil {
		return err
	}
	defer dir.Close()
	fmt.Fprintf(os.Stderr, "disk tier in %s (removed at exit)\n", tmp)

	tier := cache.NewTiered(dir, bucket, nil)
	clock := &fakeClock{}
	memory := cache.New(tier, &cache.Options{TTL: ttl, Now: clock.now})

	p := printer{out: out, tier: tier}
	for _, key := range keys {
		if err := memory.Set(ctx, key, []byte("value of "+key)); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "write %d keys through memory → disk → S3\n", len(keys))
	p.stats(memory)

	for i := range 2 {
		if err := p.read(ctx, fmt.Sprintf("read %d: memory entries fresh", i+1), memory); err != nil {
			return err
		}
	}

	clock.advance(ttl + time.Second)
	fmt.Fprintln(os.Stderr, "note: Set tells the memory cache no version, and the disk tier keeps no entry without one; so this read goes to S3 once")
	if err := p.read(ctx, "read 3: memory expired, its entries written by Set have no version", memory); err != nil {
		return err
	}

	clock.advance(ttl + time.Second)
	if err := p.read(ctx, "read 4: memory expired, revalidated through disk (S3 answers 304)", memory); err != nil {
		return err
	}

	if err := bucket.Set(ctx, "bravo", []byte("bravo, changed in S3")); err != nil {
		return err
	}
	fmt.Fprintln(out, "change bravo directly in the BucketMap")
	clock.advance(ttl + time.Second)
	if err := p.read(ctx, "read 5: memory expired, revalidated: bravo changed", memory); err != nil {
		return err
	}

	fresh := cache.New(tier, &cache.Options{TTL: ttl, Now: clock.now})
	if err := p.read(ctx, "read 6: a new, empty memory cache over the same disk", fresh); err != nil {
		return err
	}
	return nil
}

// printer prints the phases of the run and the counters of each layer.
type printer struct {
	out  io.Writer
	tier cache.Tiered
}

// read reads every key through memory, printing the values and counters.
func (p printer) read(ctx context.Context, phase string, memory cache.Cache) error {
	fmt.Fprintln(p.out, phase)
	for _, key := range keys {
		v, err := memory.Get(ctx, key)
		if err != nil {
			return err
		}
		fmt.Fprintf(p.out, "  %s = %q\n", key, v)
	}
	p.stats(memory)
	return nil
}

// stats prints the counters of memory and of the disk tier so far.
func (p printer) stats(memory cache.Cache) {
	m := memory.Stats()
	fmt.Fprintf(p.out, "  memory: %d hits, %d misses, %d revalidations, %d bytes saved\n",
		m.Hits, m.Misses, m.Revalidations, m.BytesSaved)
	d := p.tier.Stats()
	fmt.Fprintf(p.out, "  disk:   %d near hits, %d reads from S3, %d revalidations, %d bytes saved, %d failures\n",
		d.NearHits, d.FarReads, d.Revalidations, d.BytesSaved, d.NearFailures)
}
