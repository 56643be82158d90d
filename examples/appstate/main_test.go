package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
