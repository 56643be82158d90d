package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOutput(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, ""); err != nil {
		t.Fatal(err)
	}
	want := `acme (3 keys, prefix subbuckets/acme/):
  plan
  users/ann
  users/bob
globex (2 keys, prefix subbuckets/globex/):
  plan
  users/cho
initech (1 keys, prefix subbuckets/initech/):
  plan
acme's users (2 keys, prefix subbuckets/acme/users/):
  ann
  bob
the whole bucket prefix after clearing globex (4 keys, prefix subbuckets/):
  acme/plan
  acme/users/ann
  acme/users/bob
  initech/plan
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}
