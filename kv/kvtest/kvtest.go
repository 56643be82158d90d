package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/kv"
)

// Options tunes Run. A nil *Options means the defaults.
type Options struct {
	// KeyPrefixLen is how many bytes the store puts before every key (for
	// example the length of a bucket map's root prefix). Run uses it to
	// build the longest key the store must accept and the shortest it must
	// refuse. Default 0.
	KeyPrefixLen int

	// ManyKeys is how many keys the listing tests write. Default 2500, so
	// that a listing spans several pages of 1000 keys.
	ManyKeys int

	// FailingKeys returns a store whose listing fails: its Keys error
	// function must report a non-nil error once the loop is over. Nil
	// skips that test. In the WithPrefix group the store is wrapped with
	// kv.WithPrefix(store, Prefix), so its listing must fail under that
	// prefix too: a store that fails every listing request does; one that
	// fails only a second page of keys outside Prefix does not.
	FailingKeys func(t *testing.T) kv.Store[[]byte]

	// UnsupportedKeys names keys of the odd-keys test that the store
	// cannot hold, each with the reason (for example "a//b": "MinIO
	// refuses // in keys with 400"). Their subtests skip with the reason
	// and the listing checks leave them out.
	UnsupportedKeys map[string]string

	// Skip names subtests, or groups of them, by their path below Run's
	// test without the "WithPrefix/" group (for example
	// "Versioned/CompareAndDelete" or "Batcher"), each with the reason the
	// store cannot pass them. They skip with the reason, in both groups.
	// The two tests only the WithPrefix group has are named by their full
	// path: "WithPrefix/Isolation" and "WithPrefix/Abilities". An entry
	// that names no subtest fails Run's "Options" subtest, so a typo never
	// silently skips nothing.
	Skip map[string]string
}

// Defaults of Options.
const (
	DefaultManyKeys = 2500
)

// Prefix is the prefix under which Run repeats every test, through
// kv.WithPrefix, in its "WithPrefix" group.
const Prefix = "kvtest/präfix/"

// Run checks that stores made by newStore meet the kv.Store contract, and
// the contract of each optional ability (kv.Versioned, kv.Batcher,
// kv.PrefixLister) they have; tests of an ability a store lacks skip. Then
// it runs every test again on kv.WithPrefix(store, Prefix), in a subtest
// group named "WithPrefix", and checks that the prefix isolates the keys
// and keeps the abilities.
//
// Each subtest calls newStore for a fresh, empty store; newStore should
// register its own cleanup with t.Cleanup. Run does not call t.Parallel,
// and one test counts goroutines, so run it in a test that is not
// parallel with others.
func Run(t *testing.T, newStore func(t *testing.T) kv.Store[[]byte], opts *Options) {
	t.Helper()
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.ManyKeys <= 0 {
		o.ManyKeys = DefaultManyKeys
	}
	reg := &registry{paths: map[string]bool{}}
	plain := &suite{newStore: newStore, opts: o, prefixLen: o.KeyPrefixLen, reg: reg}
	plain.runAll(t)

	prefixed := &suite{
		newStore: func(t *testing.T) kv.Store[[]byte] {
			return kv.WithPrefix(newStore(t), Prefix)
		},
		opts:      o,
		prefixLen: o.KeyPrefixLen + len(Prefix),
		reg:       reg,
	}
	if o.FailingKeys != nil {
		prefixed.opts.FailingKeys = func(t *testing.T) kv.Store[[]byte] {
			return kv.WithPrefix(o.FailingKeys(t), Prefix)
		}
	}
	t.Run("WithPrefix", func(t *testing.T) {
		prefixed.runAll(t)
		// The tests only this group has go by their full path.
		only := &suite{opts: o, path: "WithPrefix", reg: reg}
		only.run(t, "Isolation", func(t *testing.T) { testPrefixIsolation(t, newStore(t)) })
		only.run(t, "Abilities", func(t *testing.T) { testPrefixAbilities(t, newStore(t)) })
	})
	t.Run("Options", func(t *testing.T) { reg.checkSkip(t, o.Skip) })
}

// registry records the paths of the subtests Run made, so that an
// Options.Skip entry that names none (a typo, a renamed test) fails
// instead of silently skipping nothing.
type registry struct {
	mu       sync.Mutex
	paths    map[string]bool
	filtered bool // a -run or -skip pattern left some subtest out
}

// add records path, and whether its subtest ran (or was left out by a
// pattern; a subtest skipped by Options.Skip runs).
func (r *registry) add(path string, ran bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paths[path] = true
	if !ran {
		r.filtered = true
	}
}

// checkSkip fails t for each entry of skip that names no subtest of Run
// (nor lies below one that skip names). When a -run or -skip pattern left
// subtests out, their paths are unknown and nothing is checked.
func (r *registry) checkSkip(t *testing.T, skip map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.filtered {
		t.Skip("a -run or -skip pattern left subtests out: Options.Skip not checked")
	}
	for _, path := range slices.Sorted(maps.Keys(skip)) {
		if r.paths[path] || r.belowSkipped(path, skip) {
			continue
		}
		t.Errorf("Options.Skip[%q] names no subtest of kvtest.Run (paths are like \"Versioned/CompareAndSwap\" or \"Batcher\", without \"WithPrefix/\")", path)
	}
}

// belowSkipped reports whether a group holding path ran and was skipped
// whole by skip, so that path's own subtest never started.
func (r *registry) belowSkipped(path string, skip map[string]string) bool {
	for p := path; ; {
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[:i]
		if _, ok := skip[p]; ok && r.paths[p] {
			return true
		}
	}
}

// suite runs the tests with one way of making stores.
type suite struct {
	newStore  func(t *testing.T) kv.Store[[]byte]
	opts      Options
	prefixLen int // bytes put before every key by the stores under test

	path string // of the group being run, below Run's test, without WithPrefix
	reg  *registry
}

// runAll runs every test of the contract.
func (s *suite) runAll(t *testing.T) {
	s.group(t, "Basic", basicTests)
	s.group(t, "Keys", keyTests)
	s.group(t, "Listing", listingTests)
	s.group(t, "Concurrency", concurrencyTests)
	s.group(t, "Context", contextTests)
	s.group(t, "Versioned", versionedTests)
	s.group(t, "Batcher", batcherTests)
	s.group(t, "BatchFunctions", batchFunctionTests)
	s.group(t, "PrefixLister", prefixListerTests)
}

// group runs tests as a subtest named name.
func (s *suite) group(t *testing.T, name string, tests func(t *testing.T, s *suite)) {
	t.Helper()
	sub := *s
	sub.path = joinPath(s.path, name)
	ran := false
	t.Run(name, func(t *testing.T) {
		ran = true
		if reason, ok := s.skipped(sub.path); ok {
			t.Skip(reason)
		}
		tests(t, &sub)
	})
	s.reg.add(sub.path, ran)
}

// run runs f as a subtest named name, unless Options.Skip names it.
func (s *suite) run(t *testing.T, name string, f func(t *testing.T)) bool {
	t.Helper()
	path := joinPath(s.path, name)
	ran := false
	ok := t.Run(name, func(t *testing.T) {
		ran = true
		if reason, ok := s.skipped(path); ok {
			t.Skip(reason)
		}
		f(t)
	})
	s.reg.add(path, ran)
	return ok
}

// skipped returns the reason Options.Skip gives for path or for a group
// that holds it.
func (s *suite) skipped(path string) (string, bool) {
	for p := path; ; {
		if reason, ok := s.opts.Skip[p]; ok {
			return fmt.Sprintf("Options.Skip[%q]: %s", p, reason), true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "/" + name
}

// maxKey returns the longest key the store must accept: MaxKeyLen bytes
// with its prefix, in segments of at most 100 bytes (file-system-backed
// servers limit the length of one path segment).
func (s *suite) maxKey() string {
	return segmentedKey(kv.MaxKeyLen - s.prefixLen)
}

// tooLongKey returns the shortest key the store must refuse for length.
func (s *suite) tooLongKey() string {
	return segmentedKey(kv.MaxKeyLen - s.prefixLen + 1)
}

// segmentedKey returns a key of n bytes of letters with a '/' every 100
// bytes, never at the end.
func segmentedKey(n int) string {
	b := make([]byte, max(n, 0))
	for i := range b {
		b[i] = 'a' + byte(i%26)
		if (i+1)%100 == 0 && i != len(b)-1 {
			b[i] = '/'
		}
	}
	return string(b)
}

// Helpers shared by the tests. They fail the test on an unexpected error.

func mustSet(t *testing.T, s kv.Store[[]byte], key string, value []byte) {
	t.Helper()
	if err := s.Set(t.Context(), key, value); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, s kv.Store[[]byte], key string) []byte {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return got
}

func wantValue(t *testing.T, s kv.Store[[]byte], key string, want []byte) {
	t.Helper()
	got := mustGet(t, s, key)
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %s; want %s", key, describe(got), describe(want))
	}
}

func wantHas(t *testing.T, s kv.Store[[]byte], key string, want bool) {
	t.Helper()
	got, err := s.Has(t.Context(), key)
	if err != nil {
		t.Fatalf("Has(%q): %v", key, err)
	}
	if got != want {
		t.Fatalf("Has(%q) = %v; want %v", key, got, want)
	}
}

// describe renders a value for a failure message, briefly when it is long.
func describe(b []byte) string {
	if len(b) <= 64 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%d bytes starting %q", len(b), b[:32])
}

// listKeys ranges over s.Keys and returns the keys, failing the test when
// the error function reports an error or the keys are out of order.
func listKeys(t *testing.T, s kv.Store[[]byte]) []string {
	t.Helper()
	seq, errf := s.Keys(t.Context())
	keys := []string{}
	for key := range seq {
		keys = append(keys, key)
	}
	if err := errf(); err != nil {
		t.Fatalf("Keys: error after the loop: %v", err)
	}
	checkOrder(t, "Keys", keys)
	return keys
}

// checkOrder fails the test unless keys are in strictly increasing
// byte-wise order.
func checkOrder(t *testing.T, what string, keys []string) {
	t.Helper()
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("%s: key %d %q does not sort after key %d %q (want byte-wise order, no repeats)", what, i, keys[i], i-1, keys[i-1])
		}
	}
}

// wantKeys fails the test unless s.Keys lists exactly want, in order.
func wantKeys(t *testing.T, s kv.Store[[]byte], want []string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, listKeys(t, s)); diff != "" {
		t.Fatalf("Keys mismatch (-want +got):\n%s", diff)
	}
}

// wantErrorIs fails the test unless errors.Is(err, target).
func wantErrorIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v; want one that errors.Is %v", what, err, target)
	}
}

// cancelledContext returns a context that is already cancelled.
func cancelledContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}
