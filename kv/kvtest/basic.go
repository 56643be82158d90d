package kvtest

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/s3map/s3map/kv"
)

// largeValueSize is the size of the large round trip: over the 5 MiB part
// size S3 clients commonly switch to multipart uploads at.
const largeValueSize = 5<<20 + 1

// basicTests: values go in and come out unchanged, missing keys.
func basicTests(t *testing.T, s *suite) {
	roundTrips := []struct {
		name  string
		value []byte
	}{
		{"Text", []byte("hello, world")},
		{"Empty", []byte{}},
		{"Nil", nil},
		{"Binary", binaryValue()},
		{"Large", randomBytes(largeValueSize)},
	}
	for _, rt := range roundTrips {
		s.run(t, "RoundTrip/"+rt.name, func(t *testing.T) {
			st := s.newStore(t)
			mustSet(t, st, "key", rt.value)
			wantValue(t, st, "key", rt.value)
			wantHas(t, st, "key", true)
			wantKeys(t, st, []string{"key"})
		})
	}

	s.run(t, "Overwrite", func(t *testing.T) {
		st := s.newStore(t)
		mustSet(t, st, "key", []byte("first, and longer"))
		mustSet(t, st, "key", []byte("second"))
		wantValue(t, st, "key", []byte("second"))
		mustSet(t, st, "key", []byte{})
		wantValue(t, st, "key", []byte{})
		wantKeys(t, st, []string{"key"})
	})

	s.run(t, "CallerOwnsBytes", func(t *testing.T) {
		st := s.newStore(t)
		value := []byte("original")
		mustSet(t, st, "key", value)
		copy(value, "CHANGED!") // Set must have kept no reference to value
		wantValue(t, st, "key", []byte("original"))

		got := mustGet(t, st, "key")
		copy(got, "CHANGED!") // the caller owns what Get returns
		wantValue(t, st, "key", []byte("original"))
	})

	s.run(t, "Missing", func(t *testing.T) {
		st := s.newStore(t)
		ctx := t.Context()
		if got, err := st.Get(ctx, "missing"); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("Get(missing) = %s, %v; want an error that errors.Is kv.ErrNotFound", describe(got), err)
		}
		wantHas(t, st, "missing", false)
		if err := st.Delete(ctx, "missing"); err != nil {
			t.Errorf("Delete(missing) = %v; want nil", err)
		}
		wantKeys(t, st, nil)
	})

	s.run(t, "Delete", func(t *testing.T) {
		st := s.newStore(t)
		mustSet(t, st, "a", []byte("1"))
		mustSet(t, st, "b", []byte("2"))
		if err := st.Delete(t.Context(), "a"); err != nil {
			t.Fatalf("Delete(a): %v", err)
		}
		wantHas(t, st, "a", false)
		if _, err := st.Get(t.Context(), "a"); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("Get after Delete: error = %v; want kv.ErrNotFound", err)
		}
		wantValue(t, st, "b", []byte("2"))
		wantKeys(t, st, []string{"b"})
	})
}

// binaryValue returns every byte value, zero bytes at both ends, and
// bytes that are not valid UTF-8.
func binaryValue() []byte {
	b := []byte{0, 0}
	for i := range 256 {
		b = append(b, byte(i))
	}
	return append(b, 0xff, 0xfe, 0xc3, 0x28, '\r', '\n', 0, 0)
}

// randomBytes returns n bytes from a fixed-seed generator.
func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// oddKeys are keys that a naive store or a careless URL encoding gets
// wrong, by subtest name.
var oddKeys = []struct{ name, key string }{
	{"Space", "with space"},
	{"Unicode", "ünïcödé/日本語/😀"},
	{"Plus", "a+b"},
	{"Percent", "percent%41%2F"},
	{"Question", "what?x=1"},
	{"Hash", "hash#tag"},
	{"Ampersand", "a&b"},
	{"Equals", "a=b"},
	{"Semicolon", "a;b"},
	{"Punctuation", "~*()!$@:,'[]{}^`|"},
	{"Backslash", `back\slash`},
	{"Quote", `say "hi"`},
	{"LessGreater", "<tag>"},
	{"DoubleSlash", "a//b"},
	{"DotSegment", "a/./b"},
	{"DotDotSegment", "a/../b"},
	{"UpperCase", "CaseKey"},
	{"LowerCase", "casekey"},
}

// keyTests: odd keys, the longest key, invalid keys.
func keyTests(t *testing.T, s *suite) {
	s.run(t, "Odd", func(t *testing.T) {
		st := s.newStore(t)
		var held []string
		for _, odd := range oddKeys {
			t.Run(odd.name, func(t *testing.T) {
				if reason, ok := s.opts.UnsupportedKeys[odd.key]; ok {
					t.Skipf("Options.UnsupportedKeys[%q]: %s", odd.key, reason)
				}
				value := []byte("value of " + odd.key)
				mustSet(t, st, odd.key, value)
				wantValue(t, st, odd.key, value)
				wantHas(t, st, odd.key, true)
				held = append(held, odd.key)
			})
		}
		slices.Sort(held)
		wantKeys(t, st, held)
		for _, key := range held {
			if err := st.Delete(t.Context(), key); err != nil {
				t.Fatalf("Delete(%q): %v", key, err)
			}
			wantHas(t, st, key, false)
		}
		wantKeys(t, st, nil)
	})

	s.run(t, "MaxLength", func(t *testing.T) {
		key := s.maxKey()
		if key == "" {
			t.Skipf("a prefix of %d bytes leaves no room for a key", s.prefixLen)
		}
		st := s.newStore(t)
		mustSet(t, st, key, []byte("long"))
		wantValue(t, st, key, []byte("long"))
		wantHas(t, st, key, true)
		wantKeys(t, st, []string{key})
		if err := st.Delete(t.Context(), key); err != nil {
			t.Fatalf("Delete(longest key): %v", err)
		}
		wantHas(t, st, key, false)
	})

	keyCheckerTests(t, s)

	s.run(t, "Invalid", func(t *testing.T) {
		st := s.newStore(t)
		ctx := t.Context()
		for _, bad := range s.invalidKeys() {
			t.Run(bad.name, func(t *testing.T) {
				_, err := st.Get(ctx, bad.key)
				wantErrorIs(t, "Get", err, kv.ErrInvalidKey)
				wantErrorIs(t, "Set", st.Set(ctx, bad.key, []byte("v")), kv.ErrInvalidKey)
				_, err = st.Has(ctx, bad.key)
				wantErrorIs(t, "Has", err, kv.ErrInvalidKey)
				wantErrorIs(t, "Delete", st.Delete(ctx, bad.key), kv.ErrInvalidKey)
			})
		}
		wantKeys(t, st, nil)
	})
}

// keyCheckerTests: a KeyChecker agrees with the store's methods.
func keyCheckerTests(t *testing.T, s *suite) {
	s.run(t, "KeyChecker", func(t *testing.T) {
		st := s.newStore(t)
		checker, ok := st.(kv.KeyChecker)
		switch {
		case !ok && s.opts.KeyPrefixLen > 0:
			t.Fatalf("%T puts %d bytes before its keys (Options.KeyPrefixLen) but is not a kv.KeyChecker, so kv.WithPrefix and the batch functions cannot refuse a key that is too long for it before writing; implement CheckKey(key) as kv.CheckKey(yourPrefix, key)", st, s.opts.KeyPrefixLen)
		case !ok:
			t.Skipf("%T does not implement kv.KeyChecker", st)
		}
		valid := []string{"a", s.maxKey()}
		for _, odd := range oddKeys {
			if _, ok := s.opts.UnsupportedKeys[odd.key]; !ok { // a store may refuse those
				valid = append(valid, odd.key)
			}
		}
		for _, key := range valid {
			if err := checker.CheckKey(key); err != nil && key != "" {
				t.Errorf("CheckKey(%q) = %v; want nil", key, err)
			}
		}
		for _, bad := range s.invalidKeys() {
			wantErrorIs(t, "CheckKey("+bad.name+")", checker.CheckKey(bad.key), kv.ErrInvalidKey)
		}
	})
}

// invalidKeys returns keys every store must refuse with kv.ErrInvalidKey.
func (s *suite) invalidKeys() []struct{ name, key string } {
	return []struct{ name, key string }{
		{"Empty", ""},
		{"NotUTF8", "bad\xffkey"},
		{"TruncatedUTF8", "caf\xc3"},
		{"TooLong", s.tooLongKey()},
		{"FarTooLong", strings.Repeat("k", 2*kv.MaxKeyLen)},
	}
}
