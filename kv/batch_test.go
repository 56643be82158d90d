package kv_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/kv"
)

// flakyStore is a store without Batcher whose keys starting with "fail"
// fail, and which records how many calls run at once.
type flakyStore struct {
	kv.Store[[]byte]

	mu               sync.Mutex
	running, maxSeen int
}

var errFlaky = errors.New("flaky key")

func (s *flakyStore) enter(key string) error {
	s.mu.Lock()
	s.running++
	s.maxSeen = max(s.maxSeen, s.running)
	s.mu.Unlock()
	if strings.HasPrefix(key, "fail") {
		return fmt.Errorf("%q: %w", key, errFlaky)
	}
	return nil
}

func (s *flakyStore) leave() {
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
}

func (s *flakyStore) Get(ctx context.Context, key string) ([]byte, error) {
	defer s.leave()
	if err := s.enter(key); err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, key)
}

func (s *flakyStore) Set(ctx context.Context, key string, v []byte) error {
	defer s.leave()
	if err := s.enter(key); err != nil {
		return err
	}
	return s.Store.Set(ctx, key, v)
}

func (s *flakyStore) Delete(ctx context.Context, key string) error {
	defer s.leave()
	if err := s.enter(key); err != nil {
		return err
	}
	return s.Store.Delete(ctx, key)
}

func TestBatchFallback(t *testing.T) {
	ctx := t.Context()
	s := &flakyStore{Store: kv.NewMemory[[]byte]()}
	items := map[string][]byte{}
	for i := range 200 {
		items[fmt.Sprintf("k%03d", i)] = []byte{byte(i)}
	}
	if err := kv.SetMany(ctx, s, items); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(items))
	got, err := kv.GetMany(ctx, s, append(keys, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(items, got); diff != "" {
		t.Errorf("GetMany (-want +got):\n%s", diff)
	}
	if err := kv.DeleteMany(ctx, s, append(keys, "missing")); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(ctx, keys[0]); ok {
		t.Errorf("%q still there after DeleteMany", keys[0])
	}
	if s.maxSeen > kv.BatchConcurrency {
		t.Errorf("%d calls ran at once; want at most BatchConcurrency = %d", s.maxSeen, kv.BatchConcurrency)
	}
}

func TestBatchFallbackPartialFailure(t *testing.T) {
	ctx := t.Context()
	s := &flakyStore{Store: kv.NewMemory[[]byte]()}
	if err := s.Store.Set(ctx, "ok1", []byte("1")); err != nil {
		t.Fatal(err)
	}
	wantFailed := []string{"fail1", "fail2", "fail3", "fail4"}

	got, err := kv.GetMany(ctx, s, []string{"ok1", "fail1", "fail2", "missing", "fail3", "fail4"})
	checkFlakyBatchError(t, "GetMany", err, wantFailed)
	if diff := cmp.Diff(map[string][]byte{"ok1": []byte("1")}, got); diff != "" {
		t.Errorf("GetMany kept the keys it read (-want +got):\n%s", diff)
	}

	err = kv.SetMany(ctx, s, map[string][]byte{"ok2": []byte("2"), "fail1": nil, "fail2": nil, "fail3": nil, "fail4": nil})
	checkFlakyBatchError(t, "SetMany", err, wantFailed)
	if v, err := s.Store.Get(ctx, "ok2"); err != nil || string(v) != "2" {
		t.Errorf("SetMany: the key that did not fail: Get = %q, %v; want \"2\", nil", v, err)
	}

	err = kv.DeleteMany(ctx, s, []string{"ok1", "fail1", "fail2", "fail3", "fail4"})
	checkFlakyBatchError(t, "DeleteMany", err, wantFailed)
	if ok, _ := s.Store.Has(ctx, "ok1"); ok {
		t.Error("DeleteMany: the key that did not fail is still there")
	}
}

// checkFlakyBatchError checks that err is a *kv.BatchError for op naming
// exactly want, each failing with errFlaky.
func checkFlakyBatchError(t *testing.T, op string, err error, want []string) {
	t.Helper()
	var batchErr *kv.BatchError
	if !errors.As(err, &batchErr) {
		t.Fatalf("%s: error = %v; want a *kv.BatchError", op, err)
	}
	if batchErr.Op != op {
		t.Errorf("%s: BatchError.Op = %q", op, batchErr.Op)
	}
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(batchErr.Failed))); diff != "" {
		t.Errorf("%s: failed keys (-want +got):\n%s", op, diff)
	}
	if !errors.Is(err, errFlaky) {
		t.Errorf("%s: errors.Is(err, errFlaky) = false for %v", op, err)
	}
}

func TestBatchFallbackInvalidKeysWriteNothing(t *testing.T) {
	ctx := t.Context()
	m := kv.NewMemory[[]byte]()
	s := onlyS{m} // no Batcher, no KeyChecker: CheckKey is used
	err := kv.SetMany(ctx, s, map[string][]byte{"fine": nil, "": nil, "bad\xff": nil})
	var batchErr *kv.BatchError
	if !errors.As(err, &batchErr) || !errors.Is(err, kv.ErrInvalidKey) {
		t.Fatalf("SetMany with invalid keys: error = %v; want a *BatchError with ErrInvalidKey", err)
	}
	if diff := cmp.Diff([]string{"", "bad\xff"}, slices.Sorted(maps.Keys(batchErr.Failed))); diff != "" {
		t.Errorf("failed keys (-want +got):\n%s", diff)
	}
	if ok, _ := m.Has(ctx, "fine"); ok {
		t.Error("SetMany wrote a valid key of a batch with invalid keys")
	}
}

func TestBatchFallbackContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := onlyS{kv.NewMemory[[]byte]()}
	_, err := kv.GetMany(ctx, s, []string{"a"})
	if err != context.Canceled {
		t.Errorf("GetMany: error = %v; want context.Canceled as it is", err)
	}
	if err := kv.SetMany(ctx, s, map[string][]byte{"a": nil}); err != context.Canceled {
		t.Errorf("SetMany: error = %v; want context.Canceled as it is", err)
	}
	if err := kv.DeleteMany(ctx, s, []string{"a"}); err != context.Canceled {
		t.Errorf("DeleteMany: error = %v; want context.Canceled as it is", err)
	}
}

func TestBatchError(t *testing.T) {
	errA := errors.New("a broke")
	tests := []struct {
		name   string
		failed map[string]error
		want   string
	}{
		{"One", map[string]error{"a": errA}, `kv: SetMany: 1 key failed: "a": a broke`},
		{"Three", map[string]error{"c": fs.ErrPermission, "a": errA, "b": kv.ErrInvalidKey},
			`kv: SetMany: 3 keys failed: "a": a broke; "b": kv: invalid key; "c": permission denied`},
		{"Many", map[string]error{"e": errA, "d": errA, "c": errA, "b": errA, "a": errA},
			`kv: SetMany: 5 keys failed: "a": a broke; "b": a broke; "c": a broke; and 2 more`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := &kv.BatchError{Op: "SetMany", Failed: tt.failed}
			if got := err.Error(); got != tt.want {
				t.Errorf("Error() = %q\nwant      %q", got, tt.want)
			}
			unwrapped := err.Unwrap()
			if len(unwrapped) != len(tt.failed) {
				t.Errorf("Unwrap() has %d errors; want %d", len(unwrapped), len(tt.failed))
			}
			for key, keyErr := range tt.failed {
				if !errors.Is(err, keyErr) {
					t.Errorf("errors.Is(err, error of %q) = false", key)
				}
			}
			if errors.Is(err, kv.ErrNotFound) {
				t.Error("errors.Is(err, ErrNotFound) = true; no key failed with it")
			}
		})
	}
}

// blockingStore blocks Set of keys starting with "slow" until the
// context is done, and calls onSet as each Set starts.
type blockingStore struct {
	kv.Store[[]byte] // a Memory, without its Batcher
	onSet            func()
}

func (s blockingStore) Set(ctx context.Context, key string, v []byte) error {
	s.onSet()
	if strings.HasPrefix(key, "slow") {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.Store.Set(ctx, key, v)
}

// TestSetManyCutShortNamesKeysNotStored: a context done part way through
// a SetMany fallback gives a *BatchError naming exactly the keys that were
// not stored (started or not), with the context's error reachable.
func TestSetManyCutShortNamesKeysNotStored(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var started atomic.Int64
	mem := kv.NewMemory[[]byte]()
	s := blockingStore{Store: mem, onSet: func() {
		if started.Add(1) == kv.BatchConcurrency {
			cancel() // every slot taken: the rest never start
		}
	}}
	items := map[string][]byte{}
	for i := range 10 {
		items[fmt.Sprintf("fast%02d", i)] = []byte("v")
	}
	for i := range 30 {
		items[fmt.Sprintf("slow%02d", i)] = []byte("v")
	}
	err := kv.SetMany(ctx, s, items)
	var batchErr *kv.BatchError
	if !errors.As(err, &batchErr) || !errors.Is(err, context.Canceled) {
		t.Fatalf("SetMany cut short = %v; want a *BatchError that errors.Is context.Canceled", err)
	}
	stored := 0
	for key := range items {
		ok, _ := mem.Has(t.Context(), key)
		_, named := batchErr.Failed[key]
		if ok == named {
			t.Errorf("key %q: stored %v, named in the BatchError %v; want exactly one", key, ok, named)
		}
		if ok {
			stored++
		}
	}
	if len(batchErr.Failed) < 30 {
		t.Errorf("%d keys named; want at least the 30 slow ones", len(batchErr.Failed))
	}
	t.Logf("%d stored, %d named", stored, len(batchErr.Failed))
}

// goroutineStore records the goroutines its Set and Get run on.
type goroutineStore struct {
	kv.Store[[]byte]
	mu  sync.Mutex
	ids map[string]bool
}

func (s *goroutineStore) note() {
	var buf [64]byte
	n := runtime.Stack(buf[:], false) // "goroutine 123 [running]:..."
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf[:n]), "goroutine "), " ")
	s.mu.Lock()
	s.ids[id] = true
	s.mu.Unlock()
}

func (s *goroutineStore) Set(ctx context.Context, key string, v []byte) error {
	s.note()
	return s.Store.Set(ctx, key, v)
}

func (s *goroutineStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.note()
	return s.Store.Get(ctx, key)
}

// The fallback batches run on BatchConcurrency goroutines that take key
// after key, not on a goroutine per key: a new goroutine starts on a
// small stack, which an S3 request's deep call chain grows and copies
// every time.
func TestBatchFallbackReusesGoroutines(t *testing.T) {
	ctx := t.Context()
	items := map[string][]byte{}
	for i := range 500 {
		items[fmt.Sprintf("k%03d", i)] = []byte{byte(i)}
	}
	s := &goroutineStore{Store: kv.NewMemory[[]byte](), ids: map[string]bool{}}
	if err := kv.SetMany(ctx, s, items); err != nil {
		t.Fatal(err)
	}
	if len(s.ids) > kv.BatchConcurrency {
		t.Errorf("SetMany of %d items ran Set on %d goroutines; want at most BatchConcurrency = %d", len(items), len(s.ids), kv.BatchConcurrency)
	}
	s.ids = map[string]bool{}
	if _, err := kv.GetMany(ctx, s, slices.Sorted(maps.Keys(items))); err != nil {
		t.Fatal(err)
	}
	if len(s.ids) > kv.BatchConcurrency {
		t.Errorf("GetMany of %d keys ran Get on %d goroutines; want at most BatchConcurrency = %d", len(items), len(s.ids), kv.BatchConcurrency)
	}
}

// All reads values on at most concurrency long-lived goroutines, not on
// a goroutine per key (each of which grows a fresh stack for its Get).
func TestAllReusesGoroutines(t *testing.T) {
	ctx := t.Context()
	s := &goroutineStore{Store: kv.NewMemory[[]byte](), ids: map[string]bool{}}
	const n, concurrency = 300, 4
	for i := range n {
		if err := s.Store.Set(ctx, fmt.Sprintf("k%03d", i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	seq, errf := kv.All(ctx, s, concurrency)
	got := 0
	for key, v := range seq {
		if want := fmt.Sprintf("k%03d", got); key != want || v[0] != byte(got) {
			t.Fatalf("item %d: %s=%v; want %s=%v", got, key, v, want, []byte{byte(got)})
		}
		got++
	}
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Errorf("All yielded %d items; want %d", got, n)
	}
	if len(s.ids) > concurrency {
		t.Errorf("All read %d values on %d goroutines; want at most its concurrency, %d", n, len(s.ids), concurrency)
	}
}
