package main

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/internal/exampleenv"
)

func TestOutput(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, ""); err != nil {
		t.Fatal(err)
	}
	want := `acme (3 keys, prefix ROOT/acme/):
  plan
  users/ann
  users/bob
globex (2 keys, prefix ROOT/globex/):
  plan
  users/cho
initech (1 keys, prefix ROOT/initech/):
  plan
acme's users (2 keys, prefix ROOT/acme/users/):
  ann
  bob
the whole bucket prefix after clearing globex (4 keys, prefix ROOT/):
  acme/plan
  acme/users/ann
  acme/users/bob
  initech/plan
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
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
