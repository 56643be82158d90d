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
				if checker, ok := st.(kv.KeyChecker); ok {
					if err := checker.CheckKey(odd.key); err != nil {
						t.Skipf("the store refuses it (KeyChecker tests that Set agrees): %v", err)
					}
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

// hostileKeys are keys some stores refuse beyond kv.CheckKey (BucketMap:
// control characters, what S3 servers mangle). Each store may accept or
// refuse each one, as long as its CheckKey and its Set agree; so may it
// the odd keys (dot segments among them) not in Options.UnsupportedKeys.
var hostileKeys = []struct{ name, key string }{
	{"NUL", "a\x00b"},
	{"Control", "a\x01b"},
	{"Newline", "line\nbreak"},
	{"DEL", "a\x7fb"},
	{"Noncharacter", "a\ufffeb"},
}

// keyCheckerTests: a KeyChecker agrees with the store's methods: a key its
// CheckKey accepts is stored by Set, and one it refuses is refused by Set,
// both with kv.ErrInvalidKey.
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
		ctx := t.Context()
		for _, bad := range s.invalidKeys() {
			wantErrorIs(t, "CheckKey("+bad.name+")", checker.CheckKey(bad.key), kv.ErrInvalidKey)
		}
		if err := checker.CheckKey("a"); err != nil {
			t.Errorf("CheckKey(%q) = %v; want nil", "a", err)
		}
		if key := s.maxKey(); key != "" {
			if err := checker.CheckKey(key); err != nil {
				t.Errorf("CheckKey(the longest key) = %v; want nil", err)
			}
		}
		candidates := append(slices.Clone(oddKeys), hostileKeys...)
		for _, c := range candidates {
			if _, unsupported := s.opts.UnsupportedKeys[c.key]; unsupported {
				continue
			}
			checkErr := checker.CheckKey(c.key)
			setErr := st.Set(ctx, c.key, []byte("v"))
			switch {
			case checkErr == nil && setErr != nil:
				t.Errorf("%s: CheckKey(%q) accepts it, but Set refuses: %v", c.name, c.key, setErr)
			case checkErr != nil && setErr == nil:
				t.Errorf("%s: CheckKey(%q) refuses it (%v), but Set stores it", c.name, c.key, checkErr)
			case checkErr != nil:
				wantErrorIs(t, c.name+": CheckKey", checkErr, kv.ErrInvalidKey)
				wantErrorIs(t, c.name+": Set", setErr, kv.ErrInvalidKey)
			}
			if setErr == nil {
				if err := st.Delete(ctx, c.key); err != nil {
					t.Errorf("%s: Delete(%q): %v", c.name, c.key, err)
				}
			}
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
