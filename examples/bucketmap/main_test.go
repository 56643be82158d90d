package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
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
