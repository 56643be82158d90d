package kvtest

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/s3map/s3map/kv"
)

// The counter proof: counterWriters goroutines each add one to a counter
// counterIncrements times through kv.Update. The attempts are generous so
// that a slow server never makes it flaky.
const (
	counterWriters     = 8
	counterIncrements  = 50
	counterMaxAttempts = 10000
)

// versionedTests: the kv.Versioned contract, and kv.Update on it.
func versionedTests(t *testing.T, s *suite) {
	// versioned returns a fresh store as a kv.Versioned, or skips.
	versioned := func(t *testing.T) kv.Versioned[[]byte] {
		t.Helper()
		st := s.newStore(t)
		v, ok := st.(kv.Versioned[[]byte])
		if !ok {
			t.Skipf("%T does not implement kv.Versioned", st)
		}
		return v
	}
	getVersion := func(t *testing.T, st kv.Versioned[[]byte], key string, want []byte) kv.Version {
		t.Helper()
		got, version, err := st.GetVersion(t.Context(), key)
		if err != nil {
			t.Fatalf("GetVersion(%q): %v", key, err)
		}
		if string(got) != string(want) {
			t.Fatalf("GetVersion(%q) = %s; want %s", key, describe(got), describe(want))
		}
		if version == "" {
			t.Fatalf("GetVersion(%q): empty version", key)
		}
		return version
	}

	s.run(t, "GetVersion", func(t *testing.T) {
		st := versioned(t)
		if _, _, err := st.GetVersion(t.Context(), "missing"); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("GetVersion(missing): error = %v; want kv.ErrNotFound", err)
		}
		mustSet(t, st, "key", []byte("one"))
		v1 := getVersion(t, st, "key", []byte("one"))
		if again := getVersion(t, st, "key", []byte("one")); again != v1 {
			t.Errorf("GetVersion twice without a write: %q, then %q", v1, again)
		}
		mustSet(t, st, "key", []byte("two"))
		if v2 := getVersion(t, st, "key", []byte("two")); v2 == v1 {
			t.Errorf("GetVersion: version %q did not change when the value did", v1)
		}
		got, _, _ := st.GetVersion(t.Context(), "key")
		copy(got, "XXX") // the caller owns what GetVersion returns
		getVersion(t, st, "key", []byte("two"))
	})

	s.run(t, "SetIfAbsent", func(t *testing.T) {
		st := versioned(t)
		ctx := t.Context()
		value := []byte("first")
		version, err := st.SetIfAbsent(ctx, "key", value)
		if err != nil {
			t.Fatalf("SetIfAbsent(missing key): %v", err)
		}
		copy(value, "XXXXX") // SetIfAbsent keeps no reference
		if got := getVersion(t, st, "key", []byte("first")); got != version {
			t.Errorf("SetIfAbsent returned version %q; GetVersion says %q", version, got)
		}
		if _, err := st.SetIfAbsent(ctx, "key", []byte("second")); !errors.Is(err, kv.ErrConflict) {
			t.Errorf("SetIfAbsent(present key): error = %v; want kv.ErrConflict", err)
		}
		wantValue(t, st, "key", []byte("first"))
	})

	s.run(t, "CompareAndSwap", func(t *testing.T) {
		st := versioned(t)
		ctx := t.Context()
		mustSet(t, st, "key", []byte("one"))
		v1 := getVersion(t, st, "key", []byte("one"))
		value := []byte("two")
		v2, err := st.CompareAndSwap(ctx, "key", v1, value)
		if err != nil {
			t.Fatalf("CompareAndSwap with the current version: %v", err)
		}
		copy(value, "XXX") // CompareAndSwap keeps no reference
		if got := getVersion(t, st, "key", []byte("two")); got != v2 {
			t.Errorf("CompareAndSwap returned version %q; GetVersion says %q", v2, got)
		}
		for _, stale := range []kv.Version{v1, "", "not-a-version"} {
			if _, err := st.CompareAndSwap(ctx, "key", stale, []byte("three")); !errors.Is(err, kv.ErrConflict) {
				t.Errorf("CompareAndSwap with version %q (current %q): error = %v; want kv.ErrConflict", stale, v2, err)
			}
		}
		wantValue(t, st, "key", []byte("two"))
		if _, err := st.CompareAndSwap(ctx, "missing", v2, []byte("x")); !errors.Is(err, kv.ErrConflict) {
			t.Errorf("CompareAndSwap(missing key): error = %v; want kv.ErrConflict", err)
		}
		wantHas(t, st, "missing", false)
	})

	s.run(t, "CompareAndDelete", func(t *testing.T) {
		st := versioned(t)
		ctx := t.Context()
		mustSet(t, st, "key", []byte("one"))
		v1 := getVersion(t, st, "key", []byte("one"))
		mustSet(t, st, "key", []byte("two"))
		v2 := getVersion(t, st, "key", []byte("two"))
		for _, stale := range []kv.Version{v1, "", "not-a-version"} {
			if err := st.CompareAndDelete(ctx, "key", stale); !errors.Is(err, kv.ErrConflict) {
				t.Errorf("CompareAndDelete with version %q (current %q): error = %v; want kv.ErrConflict", stale, v2, err)
			}
		}
		wantValue(t, st, "key", []byte("two"))
		if err := st.CompareAndDelete(ctx, "key", v2); err != nil {
			t.Fatalf("CompareAndDelete with the current version: %v", err)
		}
		wantHas(t, st, "key", false)
		if err := st.CompareAndDelete(ctx, "key", v2); !errors.Is(err, kv.ErrConflict) {
			t.Errorf("CompareAndDelete(missing key): error = %v; want kv.ErrConflict", err)
		}
	})

	s.run(t, "GetIfChanged", func(t *testing.T) {
		st := versioned(t)
		ctx := t.Context()
		if _, _, _, err := st.GetIfChanged(ctx, "missing", "any"); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("GetIfChanged(missing): error = %v; want kv.ErrNotFound", err)
		}
		mustSet(t, st, "key", []byte("one"))
		v1 := getVersion(t, st, "key", []byte("one"))

		got, version, changed, err := st.GetIfChanged(ctx, "key", v1)
		if err != nil || changed || len(got) != 0 || version != v1 {
			t.Errorf("GetIfChanged(current version %q) = %s, %q, %v, %v; want nil, %q, false, nil", v1, describe(got), version, changed, err, v1)
		}

		mustSet(t, st, "key", []byte("two"))
		v2 := getVersion(t, st, "key", []byte("two"))
		got, version, changed, err = st.GetIfChanged(ctx, "key", v1)
		if err != nil || !changed || string(got) != "two" || version != v2 {
			t.Errorf("GetIfChanged(old version %q) = %s, %q, %v, %v; want \"two\", %q, true, nil", v1, describe(got), version, changed, err, v2)
		}
		got, version, changed, err = st.GetIfChanged(ctx, "key", "")
		if err != nil || !changed || string(got) != "two" || version != v2 {
			t.Errorf("GetIfChanged(empty version) = %s, %q, %v, %v; want \"two\", %q, true, nil", describe(got), version, changed, err, v2)
		}
	})

	s.run(t, "Update", func(t *testing.T) {
		st := versioned(t)
		ctx := t.Context()
		appendX := func(old []byte, exists bool) ([]byte, error) {
			if !exists {
				return []byte("new"), nil
			}
			return append(old, 'x'), nil
		}
		if err := kv.Update(ctx, st, "key", appendX); err != nil {
			t.Fatalf("Update(missing key): %v", err)
		}
		wantValue(t, st, "key", []byte("new"))
		if err := kv.Update(ctx, st, "key", appendX); err != nil {
			t.Fatalf("Update(present key): %v", err)
		}
		wantValue(t, st, "key", []byte("newx"))
	})

	s.run(t, "Counter", func(t *testing.T) {
		st := versioned(t)
		ctx := t.Context()
		increment := func(old []byte, exists bool) ([]byte, error) {
			if !exists {
				return []byte("1"), nil
			}
			n, err := strconv.Atoi(string(old))
			if err != nil {
				return nil, fmt.Errorf("counter holds %s: %w", describe(old), err)
			}
			return strconv.AppendInt(nil, int64(n+1), 10), nil
		}
		opts := &kv.UpdateOptions{MaxAttempts: counterMaxAttempts, MinBackoff: time.Millisecond, MaxBackoff: 50 * time.Millisecond}
		var group errgroup.Group
		for range counterWriters {
			group.Go(func() error {
				for range counterIncrements {
					if err := kv.UpdateWithOptions(ctx, st, "counter", increment, opts); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := group.Wait(); err != nil {
			t.Fatal(err)
		}
		wantValue(t, st, "counter", []byte(strconv.Itoa(counterWriters*counterIncrements)))
	})

	s.run(t, "InvalidKeys", func(t *testing.T) {
		st := versioned(t)
		ctx := t.Context()
		for _, bad := range s.invalidKeys() {
			t.Run(bad.name, func(t *testing.T) {
				_, _, err := st.GetVersion(ctx, bad.key)
				wantErrorIs(t, "GetVersion", err, kv.ErrInvalidKey)
				_, _, _, err = st.GetIfChanged(ctx, bad.key, "")
				wantErrorIs(t, "GetIfChanged", err, kv.ErrInvalidKey)
				_, err = st.SetIfAbsent(ctx, bad.key, []byte("v"))
				wantErrorIs(t, "SetIfAbsent", err, kv.ErrInvalidKey)
				_, err = st.CompareAndSwap(ctx, bad.key, "v", []byte("v"))
				wantErrorIs(t, "CompareAndSwap", err, kv.ErrInvalidKey)
				wantErrorIs(t, "CompareAndDelete", st.CompareAndDelete(ctx, bad.key, "v"), kv.ErrInvalidKey)
			})
		}
		wantKeys(t, st, nil)
	})
}
