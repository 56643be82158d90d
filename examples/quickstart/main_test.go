package main

import (
	"context"
	"testing"
)

// Both seed flows pass their own checks on the in-process server.
func TestFlows(t *testing.T) {
	if err := run(context.Background(), "", "s3map-quickstart-second"); err != nil {
		t.Fatal(err)
	}
}
