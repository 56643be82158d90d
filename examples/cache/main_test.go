package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/internal/exampleenv"
)

// The run on the in-process server prints exactly this: each layer's
// counters are deterministic, since the memory cache's clock is fake.
// Read 4 is the point of the stack: every key revalidated through the disk
// tier, S3 answering 304, no value bytes moved. Read 5 sees the change made
// behind the stack's back; read 6 fills a new memory cache from disk.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, ""); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimPrefix(`
write 3 keys through memory → disk → S3
  memory: 0 hits, 0 misses, 0 revalidations, 0 bytes saved
  disk:   0 near hits, 0 reads from S3, 0 revalidations, 0 bytes saved, 0 failures
read 1: memory entries fresh
  alpha = "value of alpha"
  bravo = "value of bravo"
  charlie = "value of charlie"
  memory: 3 hits, 0 misses, 0 revalidations, 0 bytes saved
  disk:   0 near hits, 0 reads from S3, 0 revalidations, 0 bytes saved, 0 failures
read 2: memory entries fresh
  alpha = "value of alpha"
  bravo = "value of bravo"
  charlie = "value of charlie"
  memory: 6 hits, 0 misses, 0 revalidations, 0 bytes saved
  disk:   0 near hits, 0 reads from S3, 0 revalidations, 0 bytes saved, 0 failures
read 3: memory expired, its entries written by Set have no version
  alpha = "value of alpha"
  bravo = "value of bravo"
  charlie = "value of charlie"
  memory: 6 hits, 3 misses, 0 revalidations, 0 bytes saved
  disk:   0 near hits, 3 reads from S3, 0 revalidations, 0 bytes saved, 0 failures
read 4: memory expired, revalidated through disk (S3 answers 304)
  alpha = "value of alpha"
  bravo = "value of bravo"
  charlie = "value of charlie"
  memory: 6 hits, 3 misses, 3 revalidations, 44 bytes saved
  disk:   3 near hits, 3 reads from S3, 3 revalidations, 44 bytes saved, 0 failures
change bravo directly in the BucketMap
read 5: memory expired, revalidated: bravo changed
  alpha = "value of alpha"
  bravo = "bravo, changed in S3"
  charlie = "value of charlie"
  memory: 6 hits, 3 misses, 6 revalidations, 74 bytes saved
  disk:   5 near hits, 4 reads from S3, 6 revalidations, 74 bytes saved, 0 failures
read 6: a new, empty memory cache over the same disk
  alpha = "value of alpha"
  bravo = "bravo, changed in S3"
  charlie = "value of charlie"
  memory: 0 hits, 3 misses, 0 revalidations, 0 bytes saved
  disk:   8 near hits, 4 reads from S3, 9 revalidations, 124 bytes saved, 0 failures
`, "\n")
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(out.String(), "\n")); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// A run leaves the server as it found it.
func TestLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	diff, err := exampleenv.LeftBehind(ctx, func(config string) error { return run(ctx, io.Discard, config) })
	if err != nil || len(diff) > 0 {
		t.Errorf("run changed the server: %q, %v", diff, err)
	}
}
