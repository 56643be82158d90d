package kv_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/s3map/s3map/kv"
)

// TestUpdateLogs: the retries, giving up and stopping on an unknown
// outcome are logged to UpdateOptions.Logger, with the key.
func TestUpdateLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := &kv.UpdateOptions{MaxAttempts: 3, MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond, Logger: log}
	inc := func(old []byte, _ bool) ([]byte, error) { return append(old, '+'), nil }

	_ = kv.UpdateWithOptions(t.Context(), &alwaysConflicts{Memory: kv.NewMemory[[]byte]()}, "busy", inc, opts)
	out := buf.String()
	if n := strings.Count(out, "retrying"); n != 2 {
		t.Errorf("%d retries logged, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "level=WARN msg=\"kv: update gave up after conflicts\" key=busy attempts=3") {
		t.Errorf("giving up not logged:\n%s", out)
	}

	buf.Reset()
	_ = kv.UpdateWithOptions(t.Context(), &lostReply{Memory: kv.NewMemory[[]byte](), err: kv.ErrOutcomeUnknown}, "lost", inc, opts)
	if out := buf.String(); !strings.Contains(out, "outcome of its write is unknown\" key=lost attempt=1") || strings.Contains(out, "retrying") {
		t.Errorf("stopping on an unknown outcome not logged as such:\n%s", out)
	}

	buf.Reset()
	if err := kv.UpdateWithOptions(t.Context(), kv.NewMemory[[]byte](), "calm", inc, opts); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("an update without conflict logged:\n%s", buf.String())
	}
}
