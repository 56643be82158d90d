package main

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/internal/exampleenv"
)

// The seed's script prints exactly these five lines on standard output.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, ""); err != nil {
		t.Fatal(err)
	}
	want := `bucketMap["testKey"] = "some value"
testKey in bucketMap = true
testKey2 in bucketMap = false
key = anotherTestKey
key = testKey
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("standard output (-want +got):\n%s", diff)
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
