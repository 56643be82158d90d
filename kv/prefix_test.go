package kv_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
)

// Stores over a Memory that show only some of its abilities, one type for
// each set of Versioned (V), Batcher (B) and PrefixLister (L).
type (
	onlyS struct{ kv.Store[[]byte] }
	onlyV struct{ kv.Versioned[[]byte] }
	onlyB struct {
		kv.Store[[]byte]
		kv.Batcher[[]byte]
	}
	onlyL struct {
		kv.Store[[]byte]
		kv.PrefixLister
	}
	onlyVB struct {
		kv.Versioned[[]byte]
		kv.Batcher[[]byte]
	}
	onlyVL struct {
		kv.Versioned[[]byte]
		kv.PrefixLister
	}
	onlyBL struct {
		kv.Store[[]byte]
		kv.Batcher[[]byte]
		kv.PrefixLister
	}
	onlyVBL struct {
		kv.Versioned[[]byte]
		kv.Batcher[[]byte]
		kv.PrefixLister
	}
)

// abilityStores makes a store over a fresh Memory for each set of
// abilities, by name.
var abilityStores = []struct {
	name                       string
	versioned, batcher, lister bool
	make                       func(m *kv.Memory[[]byte]) kv.Store[[]byte]
}{
	{"None", false, false, false, func(m *kv.Memory[[]byte]) kv.Store[[]byte] { return onlyS{m} }},
	{"V", true, false, false, func(m *kv.Memory[[]byte]) kv.Store[[]byte] { return onlyV{m} }},
	{"B", false, true, false, func(m *kv.Memory[[]byte]) kv.Store[[]byte] { return onlyB{m, m} }},
	{"L", false, false, true, func(m *kv.Memory[[]byte]) kv.Store[[]byte] { return onlyL{m, m} }},
	{"VB", true, true, false, func(m *kv.Memory[[]byte]) kv.Store[[]byte] { return onlyVB{m, m} }},
	{"VL", true, false, true, func(m *kv.Memory[[]byte]) kv.Store[[]byte] { return onlyVL{m, m} }},
	{"BL", false, true, true, func(m *kv.Memory[[]byte]) kv.Store[[]byte] { return onlyBL{m, m, m} }},
	{"VBL", true, true, true, func(m *kv.Memory[[]byte]) kv.Store[[]byte] { return onlyVBL{m, m, m} }},
}

func TestWithPrefixKeepsAbilities(t *testing.T) {
	for _, as := range abilityStores {
		t.Run(as.name, func(t *testing.T) {
			under := as.make(kv.NewMemory[[]byte]())
			for _, p := range []kv.Store[[]byte]{
				kv.WithPrefix(under, "p/"),
				kv.WithPrefix(kv.WithPrefix(under, "p/"), "q/"),
				kv.WithPrefix(under, "bad\xff"),
			} {
				_, versioned := p.(kv.Versioned[[]byte])
				_, batcher := p.(kv.Batcher[[]byte])
				_, lister := p.(kv.PrefixLister)
				got := []bool{versioned, batcher, lister}
				// The ability rule: Versioned exactly as under; the
				// speed-up abilities always, through the package functions.
				want := []bool{as.versioned, true, true}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%T: Versioned, Batcher, PrefixLister (-want +got):\n%s", p, diff)
				}
				if _, ok := p.(kv.KeyChecker); !ok {
					t.Errorf("%T is not a KeyChecker", p)
				}
			}
		})
	}
}

// TestWithPrefixEveryAbilitySet runs the conformance suite over each set
// of abilities, so every store type WithPrefix returns is exercised, and
// the batch functions run their fallback where there is no Batcher.
func TestWithPrefixEveryAbilitySet(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole suite eight times")
	}
	for _, as := range abilityStores {
		t.Run(as.name, func(t *testing.T) {
			kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
				return as.make(kv.NewMemory[[]byte]())
			}, &kvtest.Options{ManyKeys: 1100})
		})
	}
}

func TestWithPrefixEmptyReturnsStore(t *testing.T) {
	m := kv.NewMemory[[]byte]()
	if got := kv.WithPrefix(kv.Store[[]byte](m), ""); got != kv.Store[[]byte](m) {
		t.Errorf("WithPrefix(m, \"\") = %T; want m itself", got)
	}
}

func TestWithPrefixInvalidPrefix(t *testing.T) {
	m := kv.NewMemory[[]byte]()
	ctx := t.Context()
	if err := m.Set(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"bad\xff/", strings.Repeat("p", kv.MaxKeyLen+1)} {
		p := kv.WithPrefix(kv.Store[[]byte](m), prefix)
		v := p.(kv.Versioned[[]byte])
		b := p.(kv.Batcher[[]byte])
		l := p.(kv.PrefixLister)
		drain := func(seq iter.Seq[string], errf func() error) error {
			if got := slices.Collect(seq); len(got) != 0 {
				t.Errorf("listing under an invalid prefix yielded %q", got)
			}
			return errf()
		}
		calls := map[string]error{}
		_, calls["Get"] = p.Get(ctx, "a")
		calls["Set"] = p.Set(ctx, "a", []byte("2"))
		_, calls["Has"] = p.Has(ctx, "a")
		calls["Delete"] = p.Delete(ctx, "a")
		calls["Keys"] = drain(p.Keys(ctx))
		_, _, calls["GetVersion"] = v.GetVersion(ctx, "a")
		_, _, _, calls["GetIfChanged"] = v.GetIfChanged(ctx, "a", "")
		_, calls["SetIfAbsent"] = v.SetIfAbsent(ctx, "a", nil)
		_, calls["CompareAndSwap"] = v.CompareAndSwap(ctx, "a", "", nil)
		calls["CompareAndDelete"] = v.CompareAndDelete(ctx, "a", "")
		_, calls["GetMany"] = b.GetMany(ctx, []string{"a"})
		calls["SetMany"] = b.SetMany(ctx, map[string][]byte{"a": nil})
		calls["DeleteMany"] = b.DeleteMany(ctx, []string{"a"})
		calls["KeysWithPrefix"] = drain(l.KeysWithPrefix(ctx, ""))
		calls["CheckKey"] = p.(kv.KeyChecker).CheckKey("a")
		for name, err := range calls {
			if !errors.Is(err, kv.ErrInvalidKey) || !strings.Contains(err.Error(), "prefix") {
				t.Errorf("%s under prefix %.20q: error = %v; want ErrInvalidKey naming the prefix", name, prefix, err)
			}
		}
	}
	if got, err := m.Get(ctx, "a"); err != nil || string(got) != "1" {
		t.Errorf("the store under it changed: Get(a) = %q, %v", got, err)
	}
}

// countingStore counts the keys its listing yields.
type countingStore struct {
	kv.Store[[]byte]
	yielded int
}

func (s *countingStore) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	keys, errf := s.Store.Keys(ctx)
	return func(yield func(string) bool) {
		for key := range keys {
			s.yielded++
			if !yield(key) {
				return
			}
		}
	}, errf
}

func TestWithPrefixFilterStopsPastPrefix(t *testing.T) {
	m := kv.NewMemory[[]byte]()
	ctx := t.Context()
	keys := []string{"a", "p", "p/", "p/1", "p/2", "p0", "q"}
	for i := range 100 {
		keys = append(keys, "r"+strings.Repeat("x", i))
	}
	for _, key := range keys {
		if err := m.Set(ctx, key, nil); err != nil {
			t.Fatal(err)
		}
	}
	under := &countingStore{Store: m} // no PrefixLister: WithPrefix filters Keys
	seq, errf := kv.WithPrefix(kv.Store[[]byte](under), "p/").Keys(ctx)
	got := slices.Collect(seq)
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	// "p/" itself has no name under the prefix and is not listed.
	if diff := cmp.Diff([]string{"1", "2"}, got); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	// a, p, p/, p/1, p/2, and p0, the first key past the prefix.
	if under.yielded != 6 {
		t.Errorf("the store under yielded %d keys; want 6 (the listing stops once past the prefix)", under.yielded)
	}
}

func TestWithPrefixNested(t *testing.T) {
	m := kv.NewMemory[[]byte]()
	ctx := t.Context()
	inner := kv.WithPrefix(kv.WithPrefix(kv.Store[[]byte](m), "a/"), "b/")
	if err := inner.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Get(ctx, "a/b/k"); err != nil || string(got) != "v" {
		t.Errorf("Get(a/b/k) under = %q, %v; want \"v\", nil", got, err)
	}
	// The joined prefix counts towards the key length.
	long := strings.Repeat("k", kv.MaxKeyLen-len("a/b/")+1)
	if err := inner.Set(ctx, long, nil); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("Set(key too long with both prefixes) = %v; want ErrInvalidKey", err)
	}
}

// rootedChecker is a store with a hidden prefix of its own, which it
// reports through KeyChecker.
type rootedChecker struct {
	kv.Store[[]byte]
	root string
}

func (s rootedChecker) CheckKey(key string) error { return kv.CheckKey(s.root, key) }

func (s rootedChecker) Set(ctx context.Context, key string, v []byte) error {
	if err := s.CheckKey(key); err != nil {
		return err
	}
	return s.Store.Set(ctx, key, v)
}

func TestWithPrefixAsksKeyChecker(t *testing.T) {
	under := rootedChecker{Store: kv.NewMemory[[]byte](), root: strings.Repeat("r", 100)}
	p := kv.WithPrefix(kv.Store[[]byte](under), "p/")
	key := strings.Repeat("k", kv.MaxKeyLen-len("p/")-50) // fits without the root, not with it
	if err := p.(kv.KeyChecker).CheckKey(key); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("CheckKey(key too long with the store's root) = %v; want ErrInvalidKey", err)
	}
	if err := p.Set(t.Context(), key, nil); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("Set(key too long with the store's root) = %v; want ErrInvalidKey", err)
	}
	if err := kv.SetMany(t.Context(), p, map[string][]byte{key: nil, "fine": nil}); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("SetMany(key too long with the store's root) = %v; want ErrInvalidKey", err)
	}
	if ok, _ := p.Has(t.Context(), "fine"); ok {
		t.Error("SetMany wrote a key of a batch it refused")
	}
}
