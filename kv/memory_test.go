package kv_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
)

// errListing is the failure of failingKeysStore's listing.
var errListing = errors.New("listing failed on purpose")

// failingKeysStore is a store whose listing yields its first key and then
// fails.
type failingKeysStore struct{ kv.Store[[]byte] }

func (s failingKeysStore) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	keys, _ := s.Store.Keys(ctx)
	var err error
	seq := func(yield func(string) bool) {
		err = nil
		for key := range keys {
			if !yield(key) {
				return
			}
			break
		}
		err = errListing
	}
	return seq, func() error { return err }
}

// newFailingKeys returns a store with two keys whose listing fails.
func newFailingKeys(t *testing.T) kv.Store[[]byte] {
	m := kv.NewMemory[[]byte]()
	for _, key := range []string{"a", "b"} {
		if err := m.Set(t.Context(), key, []byte(key)); err != nil {
			t.Fatal(err)
		}
	}
	return failingKeysStore{m}
}

func TestMemoryConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
		return kv.NewMemory[[]byte]()
	}, &kvtest.Options{FailingKeys: newFailingKeys})
}

func TestWithPrefixMemoryConformance(t *testing.T) {
	const prefix = "outer/ünï code/"
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
		m := kv.NewMemory[[]byte]()
		// Keys outside the prefix must stay invisible.
		for _, key := range []string{"a", "outer/", "outer/ünï code", "outer/ünï code0", "zzz"} {
			if err := m.Set(t.Context(), key, []byte("outside")); err != nil {
				t.Fatal(err)
			}
		}
		return kv.WithPrefix(kv.Store[[]byte](m), prefix)
	}, &kvtest.Options{
		KeyPrefixLen: len(prefix),
		FailingKeys: func(t *testing.T) kv.Store[[]byte] {
			return kv.WithPrefix(newFailingKeys(t), prefix)
		},
	})
}

func TestZeroMemory(t *testing.T) {
	var m kv.Memory[[]byte]
	ctx := t.Context()
	if _, err := m.Get(ctx, "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get on the zero Memory: %v; want ErrNotFound", err)
	}
	keys, errf := m.Keys(ctx)
	if got := slices.Collect(keys); len(got) != 0 || errf() != nil {
		t.Fatalf("Keys on the zero Memory = %q, %v; want none, nil", got, errf())
	}
	if err := m.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("Set on the zero Memory: %v", err)
	}
	if got, err := m.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v; want \"v\", nil", got, err)
	}
}

// point is a value type that is not []byte.
type point struct{ X, Y int }

func TestMemoryOtherValueType(t *testing.T) {
	m := kv.NewMemory[point]()
	ctx := t.Context()
	if err := m.Set(ctx, "p", point{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := kv.Update(ctx, m, "p", func(old point, exists bool) (point, error) {
		return point{old.X + 10, old.Y + 10}, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(point{11, 12}, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
}

func TestMemoryVersionsNeverRepeat(t *testing.T) {
	// A key deleted and set again gets a new version, so a version taken
	// before the delete cannot match (no ABA).
	m := kv.NewMemory[[]byte]()
	ctx := t.Context()
	old, err := m.SetIfAbsent(ctx, "k", []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SetIfAbsent(ctx, "k", []byte("same")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CompareAndSwap(ctx, "k", old, []byte("new")); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("CompareAndSwap with the version from before a delete: %v; want ErrConflict", err)
	}
}

func TestMemoryKeyErrorBeforeContext(t *testing.T) {
	// A bad key is reported as such even when the context is done.
	m := kv.NewMemory[[]byte]()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := m.Set(ctx, "", []byte("v")); !errors.Is(err, kv.ErrInvalidKey) {
		t.Fatalf("Set(empty key, cancelled) = %v; want ErrInvalidKey", err)
	}
}

func BenchmarkMemory(b *testing.B) {
	ctx := context.Background()
	m := kv.NewMemory[[]byte]()
	value := make([]byte, 1024)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key/%d", i)
		if err := m.Set(ctx, keys[i], value); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(value)))
		i := 0
		for b.Loop() {
			if _, err := m.Get(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Set", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(value)))
		i := 0
		for b.Loop() {
			if err := m.Set(ctx, keys[i%len(keys)], value); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("GetParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(value)))
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := m.Get(ctx, keys[i%len(keys)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
	b.Run("Keys", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			seq, errf := m.Keys(ctx)
			for range seq {
			}
			if err := errf(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
