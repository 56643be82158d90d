package kv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
)

// Helpers shared by the layer tests.

// layerPlain hides every optional ability of the store it holds: only the
// Store methods are promoted.
type layerPlain struct{ kv.Store[[]byte] }

// errLayerListing is the failure of layerFailingKeys' listings.
var errLayerListing = errors.New("listing failed on purpose")

// layerFailingKeys is a store whose listings fail after yielding nothing.
type layerFailingKeys struct{ kv.Store[[]byte] }

func (layerFailingKeys) Keys(context.Context) (iter.Seq[string], func() error) {
	return func(func(string) bool) {}, func() error { return errLayerListing }
}

// layerBytesCodec is a Codec[[]byte] that copies bytes both ways.
type layerBytesCodec struct{}

func (layerBytesCodec) Encode(v []byte) ([]byte, error)    { return bytes.Clone(v), nil }
func (layerBytesCodec) Decode(data []byte) ([]byte, error) { return bytes.Clone(data), nil }

func TestTypedConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
		return kv.Typed[[]byte](kv.NewMemory[[]byte](), layerBytesCodec{})
	}, &kvtest.Options{
		FailingKeys: func(t *testing.T) kv.Store[[]byte] {
			return kv.Typed[[]byte](layerFailingKeys{kv.NewMemory[[]byte]()}, layerBytesCodec{})
		},
	})
}

func TestTypedConformanceWithoutAbilities(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
		return kv.Typed[[]byte](layerPlain{kv.NewMemory[[]byte]()}, layerBytesCodec{})
	}, nil)
}

// layerAbilities names the optional abilities of s.
func layerAbilities[V any](s kv.Store[V]) []string {
	var names []string
	if _, ok := s.(kv.Versioned[V]); ok {
		names = append(names, "Versioned")
	}
	if _, ok := s.(kv.PrefixLister); ok {
		names = append(names, "PrefixLister")
	}
	if _, ok := s.(kv.Batcher[V]); ok {
		names = append(names, "Batcher")
	}
	return names
}

// Stores with each combination of abilities, made by hiding some of
// Memory's.
type (
	layerVersionedOnly struct{ kv.Versioned[[]byte] }
	layerListerOnly    struct {
		kv.Store[[]byte]
		kv.PrefixLister
	}
	layerBatcherOnly struct {
		kv.Store[[]byte]
		kv.Batcher[[]byte]
	}
	layerVersionedLister struct {
		kv.Versioned[[]byte]
		kv.PrefixLister
	}
)

func layerAbilityStores() map[string]kv.Store[[]byte] {
	m := kv.NewMemory[[]byte]()
	return map[string]kv.Store[[]byte]{
		"Memory":           m,
		"plain":            layerPlain{m},
		"Versioned":        layerVersionedOnly{m},
		"PrefixLister":     layerListerOnly{m, m},
		"Batcher":          layerBatcherOnly{m, m},
		"Versioned+Lister": layerVersionedLister{m, m},
	}
}

func TestTypedKeepsAbilities(t *testing.T) {
	type point struct{ X, Y int }
	for name, under := range layerAbilityStores() {
		t.Run(name, func(t *testing.T) {
			// The ability rule: Versioned exactly as under; the
			// speed-up abilities always, through the package functions.
			want := []string{"PrefixLister", "Batcher"}
			if _, ok := under.(kv.Versioned[[]byte]); ok {
				want = append([]string{"Versioned"}, want...)
			}
			if diff := cmp.Diff(want, layerAbilities(kv.Typed(under, kv.JSON[point]()))); diff != "" {
				t.Errorf("Typed abilities (-under +typed):\n%s", diff)
			}
			if _, ok := kv.Typed(under, kv.JSON[point]()).(kv.KeyChecker); !ok {
				t.Errorf("Typed is not a KeyChecker")
			}
		})
	}
}

type layerProfile struct {
	Name  string
	Age   int
	Tags  []string
	Inner struct{ On bool }
}

func TestTypedCodecsRoundTrip(t *testing.T) {
	want := layerProfile{Name: "Zoë", Age: 42, Tags: []string{"a", "b"}}
	want.Inner.On = true
	for name, codec := range map[string]kv.Codec[layerProfile]{
		"JSON": kv.JSON[layerProfile](),
		"Gob":  kv.Gob[layerProfile](),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			raw := kv.NewMemory[[]byte]()
			s := kv.Typed(raw, codec)
			if err := s.Set(ctx, "users/zoë", want); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "users/zoë")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			// What is stored is the codec's encoding.
			stored, err := raw.Get(ctx, "users/zoë")
			if err != nil {
				t.Fatal(err)
			}
			enc, err := codec.Encode(want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stored, enc) {
				t.Errorf("stored %q; want the codec's encoding %q", stored, enc)
			}
			if _, err := s.Get(ctx, "missing"); !errors.Is(err, kv.ErrNotFound) {
				t.Errorf("Get(missing) = %v; want ErrNotFound", err)
			}
		})
	}
}

func TestTypedJSONStoresJSON(t *testing.T) {
	ctx := t.Context()
	raw := kv.NewMemory[[]byte]()
	s := kv.Typed(raw, kv.JSON[map[string]int]())
	if err := s.Set(ctx, "k", map[string]int{"b": 2, "a": 1}); err != nil {
		t.Fatal(err)
	}
	stored, err := raw.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(stored), `{"a":1,"b":2}`; got != want {
		t.Errorf("stored %s; want %s", got, want)
	}
}

func TestTypedDecodeErrorNamesKey(t *testing.T) {
	ctx := t.Context()
	raw := kv.NewMemory[[]byte]()
	if err := raw.Set(ctx, "bad/key", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	s := kv.Typed(raw, kv.JSON[layerProfile]())
	_, err := s.Get(ctx, "bad/key")
	if !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("error = %v; want one that errors.Is ErrCorrupt", err)
	}
	var syntaxErr *json.SyntaxError
	if !errors.As(err, &syntaxErr) {
		t.Errorf("error = %v; want it to wrap the *json.SyntaxError", err)
	}
	if err == nil || !strings.Contains(err.Error(), `"bad/key"`) {
		t.Errorf("error = %v; want it to name the key", err)
	}

	// The same through GetVersion, GetIfChanged and GetMany.
	v := s.(kv.Versioned[layerProfile])
	if _, _, err := v.GetVersion(ctx, "bad/key"); !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("GetVersion error = %v; want ErrCorrupt", err)
	}
	if _, _, _, err := v.GetIfChanged(ctx, "bad/key", "no such version"); !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("GetIfChanged error = %v; want ErrCorrupt", err)
	}
	if err := s.Set(ctx, "good", layerProfile{Name: "ok"}); err != nil {
		t.Fatal(err)
	}
	got, err := kv.GetMany(ctx, s, []string{"good", "bad/key", "missing"})
	var batchErr *kv.BatchError
	if !errors.As(err, &batchErr) {
		t.Fatalf("GetMany error = %v; want a *BatchError", err)
	}
	if diff := cmp.Diff([]string{"bad/key"}, layerKeysOf(batchErr.Failed)); diff != "" {
		t.Errorf("GetMany failed keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]layerProfile{"good": {Name: "ok"}}, got); diff != "" {
		t.Errorf("GetMany values (-want +got):\n%s", diff)
	}
}

func layerKeysOf[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func TestTypedEncodeErrorWritesNothing(t *testing.T) {
	ctx := t.Context()
	raw := kv.NewMemory[[]byte]()
	s := kv.Typed(raw, kv.JSON[any]())
	err := s.Set(ctx, "k", make(chan int))
	var typeErr *json.UnsupportedTypeError
	if !errors.As(err, &typeErr) || !strings.Contains(err.Error(), `"k"`) {
		t.Errorf("Set error = %v; want a *json.UnsupportedTypeError naming the key", err)
	}
	if err := kv.SetMany(ctx, s, map[string]any{"a": 1, "b": func() {}}); err == nil {
		t.Errorf("SetMany with a value that does not encode: no error")
	}
	if _, err := s.(kv.Versioned[any]).SetIfAbsent(ctx, "c", make(chan int)); err == nil {
		t.Errorf("SetIfAbsent with a value that does not encode: no error")
	}
	seq, errf := raw.Keys(ctx)
	for key := range seq {
		t.Errorf("key %q was written", key)
	}
	if err := errf(); err != nil {
		t.Fatal(err)
	}
}

func TestTypedInvalidKeyRefused(t *testing.T) {
	// Typed leaves the key check to the store beneath (one check per
	// call), which refuses the key before anything is written.
	raw := kv.NewMemory[[]byte]()
	s := kv.Typed(raw, kv.JSON[any]())
	if err := s.Set(t.Context(), "bad\xff", 1); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("Set(invalid key) error = %v; want ErrInvalidKey", err)
	}
	if n := len(slices.Collect(first(raw.Keys(t.Context())))); n != 0 {
		t.Errorf("the store beneath holds %d keys after a refused Set", n)
	}
}

func first[T any](seq T, _ func() error) T { return seq }

// TestTypedUpdate is the appstate pattern: a typed counter updated by many
// goroutines through kv.Update must count every update.
func TestTypedUpdate(t *testing.T) {
	type state struct{ Count int }
	for name, under := range map[string]kv.Store[[]byte]{
		"Memory": kv.NewMemory[[]byte](),
		"Plain":  layerVersionedOnly{kv.NewMemory[[]byte]()},
	} {
		t.Run(name, func(t *testing.T) {
			s := kv.Typed(under, kv.JSON[state]())
			if _, ok := s.(kv.Versioned[state]); !ok {
				t.Fatal("Typed over a Versioned store is not Versioned")
			}
			const workers, each = 8, 25
			var wg sync.WaitGroup
			errs := make(chan error, workers*each)
			for range workers {
				wg.Go(func() {
					for range each {
						errs <- kv.Update(t.Context(), s, "app/state", func(old state, ok bool) (state, error) {
							old.Count++
							return old, nil
						})
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Get(t.Context(), "app/state")
			if err != nil {
				t.Fatal(err)
			}
			if got.Count != workers*each {
				t.Errorf("Count = %d; want %d", got.Count, workers*each)
			}
		})
	}
}

func TestTypedGetIfChanged(t *testing.T) {
	ctx := t.Context()
	s := kv.Typed(kv.NewMemory[[]byte](), kv.Gob[[]int]()).(kv.Versioned[[]int])
	version, err := s.SetIfAbsent(ctx, "k", []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	got, v2, changed, err := s.GetIfChanged(ctx, "k", version)
	if err != nil || changed || got != nil || v2 != version {
		t.Errorf("GetIfChanged(same version) = %v, %q, %v, %v; want nil, %q, false, nil", got, v2, changed, err, version)
	}
	newVersion, err := s.CompareAndSwap(ctx, "k", version, []int{3})
	if err != nil {
		t.Fatal(err)
	}
	got, v2, changed, err = s.GetIfChanged(ctx, "k", version)
	if err != nil || !changed || v2 != newVersion || !cmp.Equal(got, []int{3}) {
		t.Errorf("GetIfChanged(old version) = %v, %q, %v, %v; want [3], %q, true, nil", got, v2, changed, err, newVersion)
	}
}

// checkCounter is a Memory that counts calls of its CheckKey method.
type checkCounter struct {
	*kv.Memory[[]byte]
	calls atomic.Int64
}

func (c *checkCounter) CheckKey(key string) error {
	c.calls.Add(1)
	return c.Memory.CheckKey(key)
}

// TestLayersCheckKeysOnce: Typed and WithPrefix leave the key check of a
// single-key call to the store beneath, which makes it before any I/O, so
// a key is checked once per call, not again by every layer.
func TestLayersCheckKeysOnce(t *testing.T) {
	ctx := t.Context()
	under := &checkCounter{Memory: kv.NewMemory[[]byte]()}
	layers := map[string]kv.Store[[]byte]{
		"Typed":      kv.Typed[[]byte](under, layerBytesCodec{}),
		"WithPrefix": kv.WithPrefix[[]byte](under, "p/"),
		"both":       kv.Typed[[]byte](kv.WithPrefix[[]byte](under, "p/"), layerBytesCodec{}),
	}
	for name, s := range layers {
		under.calls.Store(0)
		if err := s.Set(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.(kv.Versioned[[]byte]).GetVersion(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if n := under.calls.Load(); n != 0 {
			t.Errorf("%s: %d calls of the store's CheckKey for four single-key calls; want 0 (the store checks its own keys)", name, n)
		}
	}
}
