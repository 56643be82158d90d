package kvtest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"

	"github.com/s3map/s3map/kv"
)

// contextTests: a done context stops every method, which reports
// ctx.Err() so that errors.Is(err, context.Canceled) holds.
func contextTests(t *testing.T, s *suite) {
	s.run(t, "Cancelled", func(t *testing.T) {
		st := s.newStore(t)
		mustSet(t, st, "present", []byte("value"))
		var version kv.Version
		versioned, isVersioned := st.(kv.Versioned[[]byte])
		if isVersioned {
			var err error
			if _, version, err = versioned.GetVersion(t.Context(), "present"); err != nil {
				t.Fatalf("GetVersion: %v", err)
			}
		}
		ctx := cancelledContext(t)

		calls := []struct {
			name string
			call func() error
		}{
			{"Get", func() error { _, err := st.Get(ctx, "present"); return err }},
			{"Set", func() error { return st.Set(ctx, "new", []byte("v")) }},
			{"Has", func() error { _, err := st.Has(ctx, "present"); return err }},
			{"Delete", func() error { return st.Delete(ctx, "present") }},
			{"Keys", func() error { return drain(st.Keys(ctx)) }},
			{"kv.GetMany", func() error { _, err := kv.GetMany(ctx, st, []string{"present"}); return err }},
			{"kv.SetMany", func() error { return kv.SetMany(ctx, st, map[string][]byte{"new": []byte("v")}) }},
			{"kv.DeleteMany", func() error { return kv.DeleteMany(ctx, st, []string{"present"}) }},
		}
		if isVersioned {
			calls = append(calls, []struct {
				name string
				call func() error
			}{
				{"GetVersion", func() error { _, _, err := versioned.GetVersion(ctx, "present"); return err }},
				{"GetIfChanged", func() error { _, _, _, err := versioned.GetIfChanged(ctx, "present", ""); return err }},
				{"SetIfAbsent", func() error { _, err := versioned.SetIfAbsent(ctx, "new", []byte("v")); return err }},
				{"CompareAndSwap", func() error { _, err := versioned.CompareAndSwap(ctx, "present", version, []byte("v")); return err }},
				{"CompareAndDelete", func() error { return versioned.CompareAndDelete(ctx, "present", version) }},
				{"kv.Update", func() error {
					return kv.Update(ctx, st, "present", func([]byte, bool) ([]byte, error) { return []byte("v"), nil })
				}},
			}...)
		}
		if batcher, ok := st.(kv.Batcher[[]byte]); ok {
			calls = append(calls, []struct {
				name string
				call func() error
			}{
				{"GetMany", func() error { _, err := batcher.GetMany(ctx, []string{"present"}); return err }},
				{"SetMany", func() error { return batcher.SetMany(ctx, map[string][]byte{"new": []byte("v")}) }},
				{"DeleteMany", func() error { return batcher.DeleteMany(ctx, []string{"present"}) }},
			}...)
		}
		if lister, ok := st.(kv.PrefixLister); ok {
			calls = append(calls, struct {
				name string
				call func() error
			}{"KeysWithPrefix", func() error { return drain(lister.KeysWithPrefix(ctx, "p")) }})
		}
		for _, c := range calls {
			if err := c.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: error = %v; want one that errors.Is context.Canceled", c.name, err)
			}
		}
		// Nothing happened.
		wantValue(t, st, "present", []byte("value"))
		wantHas(t, st, "new", false)
	})

	s.run(t, "CancelDuringKeys", func(t *testing.T) {
		st := s.newStore(t)
		var want []string
		for i := range 5 {
			key := fmt.Sprintf("key%d", i)
			mustSet(t, st, key, []byte(key))
			want = append(want, key)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		seq, errf := st.Keys(ctx)
		seen := 0
		for range seq {
			seen++
			cancel()
		}
		// A store may yield keys it already has in hand; but it must
		// either list them all or report the cancellation.
		switch err := errf(); {
		case err == nil && seen != len(want):
			t.Errorf("Keys cancelled in the loop: %d of %d keys yielded and no error", seen, len(want))
		case err != nil && !errors.Is(err, context.Canceled):
			t.Errorf("Keys cancelled in the loop: error = %v; want nil or one that errors.Is context.Canceled", err)
		}
	})
}

// drain ranges over a key sequence and returns its error function's result.
func drain(seq iter.Seq[string], errf func() error) error {
	for range seq {
	}
	return errf()
}
