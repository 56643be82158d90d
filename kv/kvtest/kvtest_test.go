package kvtest_test

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
)

func TestMemory(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] { return kv.NewMemory[[]byte]() }, nil)
}

func TestSkip(t *testing.T) {
	// Skipped groups and tests do not run: a store that would fail them
	// passes.
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
		return unsortedStore{kv.NewMemory[[]byte]()}
	}, &kvtest.Options{
		ManyKeys: 10,
		Skip: map[string]string{
			"Basic":                    "testing Skip",
			"Keys":                     "testing Skip",
			"Listing":                  "testing Skip",
			"Concurrency":              "testing Skip",
			"Batcher/SetGetDelete":     "testing Skip",
			"BatchFunctions":           "testing Skip",
			"PrefixLister/Prefixes":    "testing Skip",
			"WithPrefix/Isolation":     "testing Skip",
			"Versioned/Counter":        "testing Skip",
			"Context/CancelDuringKeys": "testing Skip",
		},
	})
}

// A broken store and the subtest of Run that must catch it.
type mutant struct {
	newStore func(t *testing.T) kv.Store[[]byte]
	opts     *kvtest.Options
	run      string // the -test.run pattern below TestMutantHelper
	wantFail string // a subtest that must fail, below TestMutantHelper
}

func memory(t *testing.T) *kv.Memory[[]byte] { return kv.NewMemory[[]byte]() }

var mutants = map[string]mutant{
	"unsorted": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return unsortedStore{memory(t)} },
		run:      "/^Listing$/^Order$", wantFail: "Listing/Order",
	},
	"shared bytes": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return &sharingStore{m: map[string][]byte{}} },
		run:      "/^Basic$/^CallerOwnsBytes$", wantFail: "Basic/CallerOwnsBytes",
	},
	"has fails on missing": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return hasFailsStore{memory(t)} },
		run:      "/^Basic$/^Missing$", wantFail: "Basic/Missing",
	},
	"ignores context": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return ignoresContextStore{memory(t)} },
		run:      "/^Context$/^Cancelled$", wantFail: "Context/Cancelled",
	},
	"blind compare and swap": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return blindSwapStore{memory(t)} },
		run:      "/^Versioned$/^CompareAndSwap$", wantFail: "Versioned/CompareAndSwap",
	},
	"swap creates missing": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return swapCreatesStore{memory(t)} },
		run:      "/^Versioned$/^CompareAndSwap$", wantFail: "Versioned/CompareAndSwap",
	},
	"leaks on break": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return leakyStore{memory(t)} },
		opts:     &kvtest.Options{ManyKeys: 50},
		run:      "/^Listing$/^Many$", wantFail: "Listing/Many/NoLeak",
	},
	"listing error dropped": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return memory(t) },
		opts: &kvtest.Options{FailingKeys: func(t *testing.T) kv.Store[[]byte] {
			return memory(t) // its listing does not fail
		}},
		run: "/^Listing$/^Failure$", wantFail: "Listing/Failure",
	},
	"hidden prefix too long": {
		// Memory adds no prefix, so with KeyPrefixLen it accepts keys the
		// suite says are too long.
		newStore: func(t *testing.T) kv.Store[[]byte] { return memory(t) },
		opts:     &kvtest.Options{KeyPrefixLen: 10},
		run:      "/^Keys$/^Invalid$", wantFail: "Keys/Invalid/TooLong",
	},
	"misspelt skip": {
		// Every group skipped, and one entry that names nothing.
		newStore: func(t *testing.T) kv.Store[[]byte] { return memory(t) },
		opts: &kvtest.Options{Skip: map[string]string{
			"Basic": "fast", "Keys": "fast", "Listing": "fast", "Concurrency": "fast",
			"Context": "fast", "Versioned": "fast", "Batcher": "fast", "BatchFunctions": "fast",
			"PrefixLister": "fast", "WithPrefix/Isolation": "fast", "WithPrefix/Abilities": "fast",
			"Basik": "a typo",
		}},
		run: "", wantFail: "Options",
	},
	"ranges share a cursor": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return &sharedCursorStore{Memory: memory(t)} },
		run:      "/^Concurrency$/^RangeFromGoroutines$", wantFail: "Concurrency/RangeFromGoroutines",
	},
	"check key disagrees with set": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return strictCheckerStore{memory(t)} },
		run:      "/^Keys$/^KeyChecker$", wantFail: "Keys/KeyChecker",
	},
	"prefix lister ignores prefix": {
		newStore: func(t *testing.T) kv.Store[[]byte] { return unprefixingStore{memory(t)} },
		run:      "/^PrefixLister$/^Prefixes$", wantFail: "PrefixLister/Prefixes",
	},
}

// TestRunCatchesMutants runs Run on broken stores, each in a child
// process, and checks that the subtest meant to catch each one fails.
func TestRunCatchesMutants(t *testing.T) {
	if os.Getenv("KVTEST_MUTANT") != "" {
		t.Skip("in a child process")
	}
	for _, name := range slices.Sorted(maps.Keys(mutants)) {
		m := mutants[name]
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutantHelper$"+m.run, "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "KVTEST_MUTANT="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("kvtest.Run passed a store that is %s:\n%s", name, out)
			}
			if want := "--- FAIL: TestMutantHelper/" + m.wantFail + " "; !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		})
	}
}

// TestMutantHelper runs Run on the mutant KVTEST_MUTANT names.
func TestMutantHelper(t *testing.T) {
	name := os.Getenv("KVTEST_MUTANT")
	if name == "" {
		t.Skip("run by TestRunCatchesMutants")
	}
	m := mutants[name]
	kvtest.Run(t, m.newStore, m.opts)
}

// unsortedStore lists keys in reverse order.
type unsortedStore struct{ *kv.Memory[[]byte] }

func (s unsortedStore) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	seq, errf := s.Memory.Keys(ctx)
	return func(yield func(string) bool) {
		keys := slices.Collect(seq)
		slices.Reverse(keys)
		for _, key := range keys {
			if !yield(key) {
				return
			}
		}
	}, errf
}

// sharingStore keeps the caller's slices and hands out its own.
type sharingStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *sharingStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := kv.CheckKey("", key); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, kv.ErrNotFound
	}
	return v, nil
}

func (s *sharingStore) Set(ctx context.Context, key string, v []byte) error {
	if err := kv.CheckKey("", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = v
	return nil
}

func (s *sharingStore) Has(ctx context.Context, key string) (bool, error) {
	_, err := s.Get(ctx, key)
	return err == nil, nil
}

func (s *sharingStore) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *sharingStore) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := slices.Sorted(maps.Keys(s.m))
	return slices.Values(keys), func() error { return nil }
}

// hasFailsStore reports a missing key as an error.
type hasFailsStore struct{ *kv.Memory[[]byte] }

func (s hasFailsStore) Has(ctx context.Context, key string) (bool, error) {
	ok, err := s.Memory.Has(ctx, key)
	if err == nil && !ok {
		return false, kv.ErrNotFound
	}
	return ok, err
}

// ignoresContextStore reads with a context of its own.
type ignoresContextStore struct{ *kv.Memory[[]byte] }

func (s ignoresContextStore) Get(ctx context.Context, key string) ([]byte, error) {
	return s.Memory.Get(context.Background(), key)
}

// blindSwapStore swaps whatever the version.
type blindSwapStore struct{ *kv.Memory[[]byte] }

func (s blindSwapStore) CompareAndSwap(ctx context.Context, key string, old kv.Version, v []byte) (kv.Version, error) {
	if err := s.Memory.Set(ctx, key, v); err != nil {
		return "", err
	}
	_, version, err := s.Memory.GetVersion(ctx, key)
	return version, err
}

// swapCreatesStore creates a missing key on CompareAndSwap.
type swapCreatesStore struct{ *kv.Memory[[]byte] }

func (s swapCreatesStore) CompareAndSwap(ctx context.Context, key string, old kv.Version, v []byte) (kv.Version, error) {
	if ok, _ := s.Memory.Has(ctx, key); !ok {
		return s.Memory.SetIfAbsent(ctx, key, v)
	}
	return s.Memory.CompareAndSwap(ctx, key, old, v)
}

// leakyStore leaves a goroutine behind each time a loop breaks early.
type leakyStore struct{ *kv.Memory[[]byte] }

func (s leakyStore) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	seq, errf := s.Memory.Keys(ctx)
	return func(yield func(string) bool) {
		keys := make(chan string)
		go func() { // never told to stop
			for key := range seq {
				keys <- key
			}
			close(keys)
		}()
		for key := range keys {
			if !yield(key) {
				return
			}
		}
	}, errf
}

// unprefixingStore ignores the prefix it is asked to list.
type unprefixingStore struct{ *kv.Memory[[]byte] }

func (s unprefixingStore) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	return s.Memory.Keys(ctx)
}

// sharedCursorStore's Keys sequence keeps one position for all ranges, so
// ranges from several goroutines at once split the keys between them.
type sharedCursorStore struct {
	*kv.Memory[[]byte]
}

func (s *sharedCursorStore) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	var (
		mu   sync.Mutex
		keys []string
		next int
		init bool
	)
	seq := func(yield func(string) bool) {
		mu.Lock()
		if !init {
			inner, _ := s.Memory.Keys(ctx)
			keys = slices.Collect(inner)
			init = true
		}
		mu.Unlock()
		for {
			mu.Lock()
			if next >= len(keys) {
				mu.Unlock()
				return
			}
			key := keys[next]
			next++
			mu.Unlock()
			if !yield(key) {
				return
			}
			runtime.Gosched()
		}
	}
	return seq, func() error { return nil }
}

// strictCheckerStore's CheckKey refuses keys with a space, which its Set
// stores.
type strictCheckerStore struct{ *kv.Memory[[]byte] }

func (s strictCheckerStore) CheckKey(key string) error {
	if strings.Contains(key, " ") {
		return fmt.Errorf("%w: no spaces", kv.ErrInvalidKey)
	}
	return s.Memory.CheckKey(key)
}
