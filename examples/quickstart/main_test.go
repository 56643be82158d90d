package main

import (
	"context"
	"testing"

	"github.com/s3map/s3map/internal/exampleenv"
)

// Both seed flows pass their own checks on the in-process server.
func TestFlows(t *testing.T) {
	if err := run(context.Background(), "", ""); err != nil {
		t.Fatal(err)
	}
}

// A run leaves the server as it found it: no object, no second bucket.
func TestLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	diff, err := exampleenv.LeftBehind(ctx, func(config string) error { return run(ctx, config, "") })
	if err != nil || len(diff) > 0 {
		t.Errorf("run changed the server: %q, %v", diff, err)
	}
}
