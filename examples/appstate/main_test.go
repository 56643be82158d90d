package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/s3map/s3map/internal/exampleenv"
)

// Concurrent updates through kv.Update lose nothing.
func TestNoLostUpdates(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, "", 4, 10); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "visits = 40 (want 40)\n") {
		t.Errorf("output:\n%s", out.String())
	}
	if got := strings.Count(out.String(), " = 10\n"); got != 4 {
		t.Errorf("%d workers report 10 updates; want 4:\n%s", got, out.String())
	}
}

// A run leaves the server as it found it.
func TestLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	diff, err := exampleenv.LeftBehind(ctx, func(config string) error { return run(ctx, io.Discard, config, 2, 3) })
	if err != nil || len(diff) > 0 {
		t.Errorf("run changed the server: %q, %v", diff, err)
	}
}
