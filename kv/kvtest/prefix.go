package kvtest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/kv"
)

// prefixListerTests: the kv.PrefixLister contract.
func prefixListerTests(t *testing.T, s *suite) {
	lister := func(t *testing.T) (kv.Store[[]byte], kv.PrefixLister) {
		t.Helper()
		st := s.newStore(t)
		l, ok := st.(kv.PrefixLister)
		if !ok {
			t.Skipf("%T does not implement kv.PrefixLister", st)
		}
		return st, l
	}
	keys := []string{"a", "a/x", "a/y/z", "ab", "abc", "b", "b/a", "é", "éa"}

	s.run(t, "Prefixes", func(t *testing.T) {
		st, l := lister(t)
		for _, key := range keys {
			mustSet(t, st, key, []byte(key))
		}
		for _, prefix := range []string{"", "a", "a/", "ab", "abc", "abcd", "b", "c", "é", "\u00e9a", "zz"} {
			var want []string
			for _, key := range keys {
				if strings.HasPrefix(key, prefix) {
					want = append(want, key)
				}
			}
			seq, errf := l.KeysWithPrefix(t.Context(), prefix)
			got := slices.Collect(seq)
			if err := errf(); err != nil {
				t.Errorf("KeysWithPrefix(%q): %v", prefix, err)
				continue
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("KeysWithPrefix(%q) (-want +got):\n%s", prefix, diff)
			}
		}
	})

	s.run(t, "BreakEarly", func(t *testing.T) {
		st, l := lister(t)
		for _, key := range keys {
			mustSet(t, st, key, []byte(key))
		}
		seq, errf := l.KeysWithPrefix(t.Context(), "a")
		var got []string
		for key := range seq {
			got = append(got, key)
			if len(got) == 2 {
				break
			}
		}
		if err := errf(); err != nil {
			t.Errorf("KeysWithPrefix, breaking early: error = %v; want nil", err)
		}
		if diff := cmp.Diff([]string{"a", "a/x"}, got); diff != "" {
			t.Errorf("KeysWithPrefix(a), first two (-want +got):\n%s", diff)
		}
	})

	s.run(t, "InvalidPrefix", func(t *testing.T) {
		st, l := lister(t)
		mustSet(t, st, "a", []byte("1"))
		seq, errf := l.KeysWithPrefix(t.Context(), "bad\xff")
		if got := slices.Collect(seq); len(got) != 0 {
			t.Errorf("KeysWithPrefix(invalid UTF-8) yielded %q; want nothing", got)
		}
		wantErrorIs(t, "KeysWithPrefix(invalid UTF-8)", errf(), kv.ErrInvalidKey)
	})
}

// testPrefixIsolation checks that a WithPrefix store sees, lists and
// deletes only the keys under its prefix, and that its keys are the
// underlying store's keys with the prefix.
func testPrefixIsolation(t *testing.T, under kv.Store[[]byte]) {
	trimmed := strings.TrimSuffix(Prefix, "/")
	outside := []string{
		"a",
		trimmed,         // the prefix without its slash
		trimmed + ".x",  // '.' sorts just before '/'
		trimmed + "0",   // '0' sorts just after '/'
		trimmed + "x/y", // shares all but the slash
		"zzz",
	}
	for _, key := range outside {
		mustSet(t, under, key, []byte("outside"))
	}
	p := kv.WithPrefix(under, Prefix)
	wantKeys(t, p, nil)
	wantHas(t, p, "a", false)

	mustSet(t, p, "inside", []byte("in"))
	mustSet(t, p, "sub/key", []byte("deeper"))
	wantKeys(t, p, []string{"inside", "sub/key"})
	wantValue(t, under, Prefix+"inside", []byte("in"))
	wantValue(t, under, Prefix+"sub/key", []byte("deeper"))

	mustSet(t, under, Prefix+"from-under", []byte("u"))
	wantValue(t, p, "from-under", []byte("u"))

	nested := kv.WithPrefix(p, "sub/")
	wantKeys(t, nested, []string{"key"})
	wantValue(t, nested, "key", []byte("deeper"))

	for _, key := range []string{"inside", "sub/key", "from-under"} {
		if err := p.Delete(t.Context(), key); err != nil {
			t.Fatalf("Delete(%q) under the prefix: %v", key, err)
		}
	}
	wantKeys(t, p, nil)
	want := slices.Clone(outside)
	slices.Sort(want)
	wantKeys(t, under, want)

	if _, err := kv.WithPrefix(under, "bad\xff/").Get(t.Context(), "a"); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("WithPrefix(invalid UTF-8).Get: error = %v; want kv.ErrInvalidKey", err)
	}
}

// testPrefixAbilities checks the ability rule on WithPrefix: it is
// Versioned exactly when the store under it is, and always a Batcher, a
// PrefixLister and a KeyChecker.
func testPrefixAbilities(t *testing.T, under kv.Store[[]byte]) {
	p := kv.WithPrefix(under, Prefix)
	_, underVersioned := under.(kv.Versioned[[]byte])
	abilities := []struct {
		name string
		want bool
		has  func(kv.Store[[]byte]) bool
	}{
		{"kv.Versioned", underVersioned, func(s kv.Store[[]byte]) bool { _, ok := s.(kv.Versioned[[]byte]); return ok }},
		{"kv.Batcher", true, func(s kv.Store[[]byte]) bool { _, ok := s.(kv.Batcher[[]byte]); return ok }},
		{"kv.PrefixLister", true, func(s kv.Store[[]byte]) bool { _, ok := s.(kv.PrefixLister); return ok }},
		{"kv.KeyChecker", true, func(s kv.Store[[]byte]) bool { _, ok := s.(kv.KeyChecker); return ok }},
	}
	for _, a := range abilities {
		if got := a.has(p); got != a.want {
			t.Errorf("WithPrefix(%T) implements %s: %v; want %v", under, a.name, got, a.want)
		}
	}
}
