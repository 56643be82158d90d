package kvtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/kv"
)

// Batch sizes: over 1000, S3's limit for one DeleteObjects request, when
// the store's own Batcher is tested; smaller through the package
// functions, which on a store without a Batcher make one call per key.
const (
	batcherKeys       = 1100
	batchFunctionKeys = 150
)

// batchOps are the three batch operations under test.
type batchOps struct {
	getMany    func(ctx context.Context, keys []string) (map[string][]byte, error)
	setMany    func(ctx context.Context, items map[string][]byte) error
	deleteMany func(ctx context.Context, keys []string) error
}

// batcherTests: the kv.Batcher contract, on the store's own methods.
func batcherTests(t *testing.T, s *suite) {
	batchTests(t, s, batcherKeys, func(t *testing.T, st kv.Store[[]byte]) batchOps {
		b, ok := st.(kv.Batcher[[]byte])
		if !ok {
			t.Skipf("%T does not implement kv.Batcher", st)
		}
		return batchOps{b.GetMany, b.SetMany, b.DeleteMany}
	})
}

// batchFunctionTests: kv.GetMany, kv.SetMany and kv.DeleteMany on the
// store, whether or not it is a Batcher.
func batchFunctionTests(t *testing.T, s *suite) {
	batchTests(t, s, batchFunctionKeys, func(t *testing.T, st kv.Store[[]byte]) batchOps {
		return batchOps{
			getMany:    func(ctx context.Context, keys []string) (map[string][]byte, error) { return kv.GetMany(ctx, st, keys) },
			setMany:    func(ctx context.Context, items map[string][]byte) error { return kv.SetMany(ctx, st, items) },
			deleteMany: func(ctx context.Context, keys []string) error { return kv.DeleteMany(ctx, st, keys) },
		}
	})
}

// batchTests runs the batch tests on the operations ops gives for a store.
func batchTests(t *testing.T, s *suite, n int, ops func(t *testing.T, st kv.Store[[]byte]) batchOps) {
	s.run(t, "GetManyMissing", func(t *testing.T) {
		st := s.newStore(t)
		b := ops(t, st)
		mustSet(t, st, "a", []byte("1"))
		mustSet(t, st, "b", []byte{})
		got, err := b.getMany(t.Context(), []string{"a", "missing", "b", "a"})
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		want := map[string][]byte{"a": []byte("1"), "b": {}}
		if diff := cmp.Diff(want, got, cmp.Comparer(bytesEqual)); diff != "" {
			t.Errorf("GetMany (-want +got):\n%s", diff)
		}
	})

	s.run(t, "Empty", func(t *testing.T) {
		st := s.newStore(t)
		b := ops(t, st)
		got, err := b.getMany(t.Context(), nil)
		if err != nil || len(got) != 0 {
			t.Errorf("GetMany(no keys) = %v, %v; want an empty map, nil", got, err)
		}
		if err := b.setMany(t.Context(), nil); err != nil {
			t.Errorf("SetMany(no items) = %v; want nil", err)
		}
		if err := b.deleteMany(t.Context(), nil); err != nil {
			t.Errorf("DeleteMany(no keys) = %v; want nil", err)
		}
	})

	s.run(t, "SetGetDelete", func(t *testing.T) {
		st := s.newStore(t)
		b := ops(t, st)
		ctx := t.Context()
		items := make(map[string][]byte, n)
		for i := range n {
			key := fmt.Sprintf("batch/%d", i)
			items[key] = []byte("value of " + key)
		}
		if err := b.setMany(ctx, items); err != nil {
			t.Fatalf("SetMany(%d items): %v", n, err)
		}
		keys := slices.Sorted(maps.Keys(items))
		wantKeys(t, st, keys)
		wantValue(t, st, keys[0], items[keys[0]])

		got, err := b.getMany(ctx, keys)
		if err != nil {
			t.Fatalf("GetMany(%d keys): %v", n, err)
		}
		if diff := cmp.Diff(items, got, cmp.Comparer(bytesEqual)); diff != "" {
			t.Errorf("GetMany(%d keys) (-want +got):\n%s", n, diff)
		}

		if err := b.deleteMany(ctx, append(keys, "missing")); err != nil {
			t.Fatalf("DeleteMany(%d keys and a missing one): %v", n, err)
		}
		wantKeys(t, st, nil)
	})

	s.run(t, "CallerOwnsBytes", func(t *testing.T) {
		st := s.newStore(t)
		b := ops(t, st)
		ctx := t.Context()
		value := []byte("original")
		if err := b.setMany(ctx, map[string][]byte{"key": value}); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		copy(value, "CHANGED!") // SetMany must have kept no reference
		wantValue(t, st, "key", []byte("original"))
		got, err := b.getMany(ctx, []string{"key"})
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		copy(got["key"], "CHANGED!") // the caller owns what GetMany returns
		wantValue(t, st, "key", []byte("original"))
	})

	s.run(t, "InvalidKeys", func(t *testing.T) {
		st := s.newStore(t)
		b := ops(t, st)
		ctx := t.Context()
		mustSet(t, st, "present", []byte("value"))
		invalid := s.invalidKeys()
		var badKeys []string
		items := map[string][]byte{"fine": []byte("v")}
		for _, bad := range invalid {
			badKeys = append(badKeys, bad.key)
			items[bad.key] = []byte("v")
		}
		slices.Sort(badKeys)

		_, err := b.getMany(ctx, append([]string{"present"}, badKeys...))
		wantBatchError(t, "GetMany", err, badKeys)
		wantBatchError(t, "SetMany", b.setMany(ctx, items), badKeys)
		wantBatchError(t, "DeleteMany", b.deleteMany(ctx, append([]string{"present"}, badKeys...)), badKeys)
		// Invalid keys fail the whole batch before anything is done.
		wantKeys(t, st, []string{"present"})
	})
}

// wantBatchError fails the test unless err is a *kv.BatchError whose
// failed keys are exactly keys, each failing with kv.ErrInvalidKey.
func wantBatchError(t *testing.T, op string, err error, keys []string) {
	t.Helper()
	var batchErr *kv.BatchError
	if !errors.As(err, &batchErr) {
		t.Errorf("%s with invalid keys: error = %v; want a *kv.BatchError", op, err)
		return
	}
	if !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("%s with invalid keys: error = %v; want one that errors.Is kv.ErrInvalidKey", op, err)
	}
	if diff := cmp.Diff(keys, slices.Sorted(maps.Keys(batchErr.Failed))); diff != "" {
		t.Errorf("%s with invalid keys: failed keys (-want +got):\n%s", op, diff)
	}
	for key, keyErr := range batchErr.Failed {
		if !errors.Is(keyErr, kv.ErrInvalidKey) {
			t.Errorf("%s: key %q failed with %v; want kv.ErrInvalidKey", op, key, keyErr)
		}
	}
}

// bytesEqual compares values; nil equals empty.
func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
