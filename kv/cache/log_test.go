package cache_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
)

// logBuffer is a Logger at Debug whose lines a test reads.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// take returns the lines logged since the last take.
func (b *logBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

// wantLog fails unless got has a line holding every one of parts.
func wantLog(t *testing.T, what, got string, parts ...string) {
	t.Helper()
	for line := range strings.SplitSeq(got, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return
		}
	}
	t.Errorf("%s: no line with %q in:\n%s", what, parts, got)
}

// TestCacheLogs: revalidations, an entry dropped as corrupt and entries
// dropped after a conflict or an unknown outcome are logged with the key.
func TestCacheLogs(t *testing.T) {
	ctx := t.Context()
	var lb logBuffer
	clock := newFakeClock()
	back := &corruptBack{Memory: kv.NewMemory[[]byte]()}
	c := cache.New(back, &cache.Options{TTL: time.Second, Now: clock.Now, Logger: lb.logger()})
	if err := back.Memory.Set(ctx, "k", []byte("good")); err != nil {
		t.Fatal(err)
	}
	mustGetValue(t, c, "k", "good")
	mustGetValue(t, c, "k", "good")
	if got := lb.take(); got != "" {
		t.Errorf("a miss and a hit logged:\n%s", got)
	}
	clock.Advance(time.Second)
	mustGetValue(t, c, "k", "good")
	wantLog(t, "revalidation", lb.take(), "level=DEBUG", "revalidated an expired entry", "key=k", "changed=false")
	clock.Advance(time.Second)
	back.corrupt = true
	if _, err := c.Get(ctx, "k"); err == nil {
		t.Fatal("Get of a corrupt value succeeded")
	}
	wantLog(t, "corrupt", lb.take(), "level=WARN", "corrupt value", "key=k")

	for name, tc := range map[string]struct {
		err   error
		level string
		msg   string
	}{
		"conflict": {kv.ErrConflict, "level=DEBUG", "after a conflict"},
		"unknown":  {kv.ErrOutcomeUnknown, "level=WARN", "outcome of a write is unknown"},
	} {
		ob := &outcomeBack{Memory: kv.NewMemory[[]byte]()}
		vc := cache.New(ob, &cache.Options{Logger: lb.logger()}).(kv.Versioned[[]byte])
		version, err := vc.SetIfAbsent(ctx, "w", []byte("mine"))
		if err != nil {
			t.Fatal(err)
		}
		ob.fail = tc.err
		_, _ = vc.CompareAndSwap(ctx, "w", version, []byte("next"))
		wantLog(t, name, lb.take(), tc.level, tc.msg, "key=w")
	}
}

// TestTieredLogs: a revalidation, near copies dropped (far corrupt, near
// undecodable) and a write of unknown outcome are logged with the key.
func TestTieredLogs(t *testing.T) {
	ctx := t.Context()
	var lb logBuffer
	far := &corruptFar{Memory: kv.NewMemory[[]byte]()}
	near := kv.NewMemory[[]byte]()
	s := cache.NewTiered(near, far, &cache.TieredOptions{Logger: lb.logger()})
	if err := far.Memory.Set(ctx, "k", []byte("good")); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "k")
	if got := lb.take(); got != "" {
		t.Errorf("a far read logged:\n%s", got)
	}
	mustGet(t, s, "k")
	wantLog(t, "revalidation", lb.take(), "level=DEBUG", "revalidated a near copy", "key=k", "changed=false")
	far.corrupt = true
	if _, err := s.Get(ctx, "k"); err == nil {
		t.Fatal("Get of a corrupt value succeeded")
	}
	wantLog(t, "far corrupt", lb.take(), "level=WARN", "corrupt value", "key=k")
	far.corrupt = false

	mustSet(t, s, "n", "good")
	if err := near.Set(ctx, "n", []byte("not an envelope")); err != nil {
		t.Fatal(err)
	}
	lb.take()
	if got := mustGet(t, s, "n"); got != "good" {
		t.Fatalf("Get = %q", got)
	}
	wantLog(t, "near undecodable", lb.take(), "level=WARN", "did not decode", "key=n")

	lf := &lostReplyFar{Memory: kv.NewMemory[[]byte]()}
	vs := cache.NewTiered(kv.NewMemory[[]byte](), lf, &cache.TieredOptions{Logger: lb.logger()}).(kv.Versioned[[]byte])
	version, err := vs.SetIfAbsent(ctx, "w", []byte("mine"))
	if err != nil {
		t.Fatal(err)
	}
	lf.fail = kv.ErrOutcomeUnknown
	_, _ = vs.CompareAndSwap(ctx, "w", version, []byte("next"))
	wantLog(t, "unknown outcome", lb.take(), "level=WARN", "outcome of a write is unknown", "key=w")
}
