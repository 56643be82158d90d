package bucketmap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// A sub-map cannot write outside its prefix: keys whose object name holds
// a ".", ".." or empty path segment are refused before any request (on
// versitygw "alice/../bob/secret" overwrites "bob/secret"; MinIO refuses
// it with a 400 after sending), and CheckKey agrees.
func TestDotSegmentsAreRefused(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := t.Context()
		m := newMap(t, tg, nil, nil)
		secret := []byte("bob's secret")
		if err := m.Set(ctx, "bob/secret", secret); err != nil {
			t.Fatal(err)
		}
		alice := m.Sub("alice/")
		bad := []string{
			"../bob/secret", "./bob", "x/../../bob/secret", "x/./y", "x/..", "x/.",
			".", "..", "x//y", "/x", "//x",
		}
		for _, key := range bad {
			err := alice.Set(ctx, key, []byte("mallory"))
			if !errors.Is(err, kv.ErrInvalidKey) {
				t.Errorf("alice.Set(%q) = %v; want kv.ErrInvalidKey", key, err)
			} else if !strings.Contains(err.Error(), "segment") && !strings.Contains(err.Error(), `starts with "/"`) {
				t.Errorf("alice.Set(%q) = %q; want a message naming the path segment", key, err)
			}
			if err := alice.CheckKey(key); !errors.Is(err, kv.ErrInvalidKey) {
				t.Errorf("alice.CheckKey(%q) = %v; want kv.ErrInvalidKey", key, err)
			}
			_, err = alice.SetIfAbsent(ctx, key, []byte("mallory"))
			if !errors.Is(err, kv.ErrInvalidKey) {
				t.Errorf("alice.SetIfAbsent(%q) = %v; want kv.ErrInvalidKey", key, err)
			}
			if err := alice.SetMany(ctx, map[string][]byte{"fine": nil, key: []byte("mallory")}); !errors.Is(err, kv.ErrInvalidKey) {
				t.Errorf("alice.SetMany with %q = %v; want kv.ErrInvalidKey", key, err)
			}
		}
		got, err := m.Get(ctx, "bob/secret")
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("bob/secret = %q, %v after alice's writes; want %q", got, err, secret)
		}
		if keys := listKeys(t, m); !slices.Equal(keys, []string{"bob/secret"}) {
			t.Errorf("keys after refused writes = %q; want only bob/secret", keys)
		}
		// A dot in a name is not a dot segment.
		for _, key := range []string{".x", "x.", "..x", "x/...", "x/.y/..z"} {
			if err := alice.Set(ctx, key, []byte("v")); err != nil {
				t.Errorf("alice.Set(%q) = %v; want nil", key, err)
			}
		}
		if err := m.Clear(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A prefix with a complete ".", ".." or empty segment is refused by New
// and by Sub (every call of the sub-map fails); an incomplete last segment
// is not (a key may continue it).
func TestDotSegmentPrefixesAreRefused(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	ctx := context.Background()
	m, err := bucketmap.New(srv.Storage(), storage.Name{Key: "root/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"../", "./", "a/../", "a//", "/", "/a/", "a/./b/"} {
		if _, err := bucketmap.New(srv.Storage(), storage.Name{Key: prefix}, nil); !errors.Is(err, kv.ErrInvalidKey) {
			t.Errorf("New(%q) = %v; want kv.ErrInvalidKey", prefix, err)
		}
		sub := m.Sub(prefix)
		if err := sub.Set(ctx, "k", []byte("v")); !errors.Is(err, kv.ErrInvalidKey) {
			t.Errorf("Sub(%q).Set = %v; want kv.ErrInvalidKey", prefix, err)
		}
		keys, errf := sub.Keys(ctx)
		for k := range keys {
			t.Errorf("Sub(%q).Keys yielded %q", prefix, k)
		}
		if err := errf(); !errors.Is(err, kv.ErrInvalidKey) {
			t.Errorf("Sub(%q).Keys error = %v; want kv.ErrInvalidKey", prefix, err)
		}
	}
	// Sub(".") of "root/" is the prefix "root/.": the key "x" is
	// "root/.x", a fine name; the key "/x" would be "root/./x".
	dot := m.Sub(".")
	if err := dot.Set(ctx, "x", []byte("v")); err != nil {
		t.Errorf(`Sub(".").Set("x") = %v; want nil`, err)
	}
	if err := dot.Set(ctx, "/x", []byte("v")); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf(`Sub(".").Set("/x") = %v; want kv.ErrInvalidKey`, err)
	}
	if _, err := bucketmap.New(srv.Storage(), storage.Name{Key: "a/b."}, nil); err != nil {
		t.Errorf(`New("a/b.") = %v; want nil`, err)
	}
}

// oddKeys are keys at the edges of what servers keep: every one s3map lets
// a user write must list back byte for byte and be removed by Clear (its
// batch delete).
var oddKeys = []string{
	"with space", " lead", "trail ", "a+b", "percent%41%2F", "what?x=1", "hash#tag",
	"a&b=c;d", "~*()!$@:,'[]{}^`|", `back\slash`, `say "hi"`, "<tag>&amp;",
	"ünïcödé", "日本語/😀", "e\u0301", "\u00e9",
	"\u0080\u0085\u009f", "nbsp\u00a0", "\u2028\u2029", "bom\ufeff", "zw\u200b",
	"\ue000", "\U000f0000", "\ud7ff",
	"\ufdd0", "\ufdef", "\U0001fffe", "\U0001ffff", "\U0010fffe", "\U0010ffff",
	"\ufffc", "\ufffd",
	// Refused: servers list them as U+FFFD and the batch delete leaves
	// them (XML cannot carry them).
	"a\ufffe", "a\uffff", "\ufffe\uffff",
	// Refused: control characters.
	"a\x00", "a\nb", "\x7f",
}

func TestOddKeysListBackAndClear(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := t.Context()
		m := newMap(t, tg, nil, nil)
		var written []string
		for _, key := range oddKeys {
			checkErr := m.CheckKey(key)
			setErr := m.Set(ctx, key, []byte(key))
			if (checkErr == nil) != (setErr == nil) {
				t.Errorf("CheckKey(%q) = %v but Set = %v", key, checkErr, setErr)
			}
			if setErr != nil {
				if !errors.Is(setErr, kv.ErrInvalidKey) {
					t.Errorf("Set(%q) = %v; want nil or kv.ErrInvalidKey", key, setErr)
				}
				continue
			}
			written = append(written, key)
		}
		for _, refused := range []string{"a\ufffe", "a\uffff", "a\x00"} {
			if slices.Contains(written, refused) {
				t.Errorf("Set(%q) was accepted; want kv.ErrInvalidKey", refused)
			}
		}
		slices.Sort(written)
		if got := listKeys(t, m); !slices.Equal(got, written) {
			t.Errorf("Keys = %+q\nwant   %+q", got, written)
		}
		for _, key := range written {
			if v, err := m.Get(ctx, key); err != nil || string(v) != key {
				t.Errorf("Get(%+q) = %+q, %v", key, v, err)
			}
		}
		if err := m.Clear(ctx); err != nil {
			t.Fatalf("Clear: %v", err)
		}
		if got := listKeys(t, m); len(got) != 0 {
			t.Errorf("Keys after Clear = %+q; want none", got)
		}
		for _, key := range written {
			if ok, err := m.Has(ctx, key); ok || err != nil {
				t.Errorf("Has(%+q) after Clear = %v, %v; want false, nil", key, ok, err)
			}
		}
	})
}

// A key equal to the map's prefix is not a key of the map: with objects
// "p/t" and "p/tx" (and "p/t/x" where the server can hold it beside
// "p/t"), Sub("t") has the keys "x" (and "/x"), never "".
func TestKeyEqualToPrefixIsNotAKey(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := t.Context()
		m := newMap(t, tg, nil, nil)
		want := []string{"x"}
		objects := []string{"t", "tx"}
		if !tg.Caps.NoKeyBesideSubkeys {
			objects = append(objects, "t/x")
			want = []string{"/x", "x"}
		}
		for _, k := range objects {
			if err := m.Set(ctx, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		sub := m.Sub("t")
		if got := listKeys(t, sub); !slices.Equal(got, want) {
			t.Errorf("Sub(\"t\").Keys = %q; want %q", got, want)
		}
		if n, err := sub.Len(ctx); err != nil || n != len(want) {
			t.Errorf("Sub(\"t\").Len = %d, %v; want %d", n, err, len(want))
		}
		all, errf := sub.All(ctx)
		var got []string
		for k := range all {
			got = append(got, k)
		}
		if err := errf(); err != nil || !slices.Equal(got, want) {
			t.Errorf("Sub(\"t\").All keys = %q, %v; want %q", got, err, want)
		}
		if err := sub.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		// Clear removed the sub-map's keys, not the object "t".
		if got := listKeys(t, m); !slices.Equal(got, []string{"t"}) {
			t.Errorf("keys after Sub(\"t\").Clear = %q; want [t]", got)
		}
		if err := m.Clear(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// listKeys returns m's keys, failing t on a listing error.
func listKeys(t testing.TB, m *bucketmap.BucketMap) []string {
	t.Helper()
	keys, errf := m.Keys(context.Background())
	var got []string
	for k := range keys {
		got = append(got, k)
	}
	if err := errf(); err != nil {
		t.Fatalf("Keys: %v", err)
	}
	return got
}

// FuzzCheckKey: BucketMap refuses every key kv.CheckKey refuses (and may
// refuse more), and its CheckKey agrees with Set on the in-process server:
// a key it accepts is stored, read back and listed byte for byte.
func FuzzCheckKey(f *testing.F) {
	for _, k := range oddKeys {
		f.Add("p/", k)
	}
	for _, k := range []string{"a", "../b", "a/./b", "a//b", "/a", "a/", "", "\xff", strings.Repeat("k", 1020)} {
		f.Add("p/", k)
		f.Add("", k)
	}
	f.Add("a/..", "/b")
	f.Add("p/.", "x")
	srv := s3test.NewServer()
	f.Cleanup(srv.Close)
	var n int
	f.Fuzz(func(t *testing.T, prefix, key string) {
		// Every input gets a root of its own, so no two share keys.
		n++
		root := fmt.Sprintf("f%d/", n) + prefix
		m, err := bucketmap.New(srv.Storage(), storage.Name{Key: root}, nil)
		if err != nil {
			if !errors.Is(err, kv.ErrInvalidKey) {
				t.Fatalf("New(%q) = %v; want nil or kv.ErrInvalidKey", root, err)
			}
			return
		}
		checkErr := m.CheckKey(key)
		if kvErr := kv.CheckKey(m.Prefix(), key); kvErr != nil && checkErr == nil {
			t.Fatalf("kv.CheckKey(%q, %q) = %v but BucketMap.CheckKey = nil", m.Prefix(), key, kvErr)
		}
		if checkErr != nil && !errors.Is(checkErr, kv.ErrInvalidKey) {
			t.Fatalf("CheckKey(%q) = %v; want kv.ErrInvalidKey", key, checkErr)
		}
		ctx := context.Background()
		setErr := m.Set(ctx, key, []byte("v"))
		if checkErr != nil {
			if !errors.Is(setErr, kv.ErrInvalidKey) {
				t.Fatalf("CheckKey(%q) = %v but Set = %v", key, checkErr, setErr)
			}
			return
		}
		if setErr != nil {
			t.Fatalf("CheckKey(%q) = nil but Set = %v", key, setErr)
		}
		if v, err := m.Get(ctx, key); err != nil || string(v) != "v" {
			t.Fatalf("Get(%q) = %q, %v", key, v, err)
		}
		if got := listKeys(t, m); !slices.Equal(got, []string{key}) {
			t.Fatalf("Keys = %+q; want [%+q]", got, key)
		}
		if err := m.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		if got := listKeys(t, m); len(got) != 0 {
			t.Fatalf("Keys after Clear = %+q", got)
		}
	})
}
