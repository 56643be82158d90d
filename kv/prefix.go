package kv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
)

// WithPrefix returns the part of s whose keys start with prefix, as a store
// of its own: key k of the result is key prefix+k of s. Keys yields the
// keys of that part with the prefix removed, in the same order, using s's
// PrefixLister when it has one and otherwise filtering s.Keys (stopping
// once past the prefix). Keys are checked with CheckKey(prefix, key), so a
// key is refused when prefix+key would be too long. A key of s equal to
// prefix itself has no name in the result and is not listed.
//
// The result has exactly the optional abilities of s: it is a Versioned,
// Batcher or PrefixLister if and only if s is. It is always a KeyChecker,
// and when s is one too, keys are also checked by s as prefix+key. WithPrefix of a WithPrefix
// store joins the two prefixes over the original store; an empty prefix
// returns s itself.
//
// A prefix that CheckPrefix refuses (not valid UTF-8, or too long) gives a
// store whose every method returns an error that errors.Is ErrInvalidKey,
// naming the prefix, and does nothing; its Keys yields nothing and its
// error function returns that error.
func WithPrefix[V any](s Store[V], prefix string) Store[V] {
	if prefix == "" {
		return s
	}
	base := &prefixBase[V]{under: s, prefix: prefix}
	if inner, ok := s.(interface{ prefixed() *prefixBase[V] }); ok {
		in := inner.prefixed()
		base.under, base.prefix = in.under, in.prefix+prefix
	}
	if err := CheckPrefix(base.prefix); err != nil {
		base.bad = fmt.Errorf("kv: WithPrefix: %w", err)
	}

	versioned, isVersioned := base.under.(Versioned[V])
	batcher, isBatcher := base.under.(Batcher[V])
	lister, isLister := base.under.(PrefixLister)
	v := prefixVersioned[V]{p: base, under: versioned}
	b := prefixBatcher[V]{p: base, under: batcher}
	l := prefixLister[V]{p: base, under: lister}
	switch {
	case isVersioned && isBatcher && isLister:
		return prefixVBL[V]{base, v, b, l}
	case isVersioned && isBatcher:
		return prefixVB[V]{base, v, b}
	case isVersioned && isLister:
		return prefixVL[V]{base, v, l}
	case isBatcher && isLister:
		return prefixBL[V]{base, b, l}
	case isVersioned:
		return prefixV[V]{base, v}
	case isBatcher:
		return prefixB[V]{base, b}
	case isLister:
		return prefixL[V]{base, l}
	}
	return prefixS[V]{base}
}

// The stores WithPrefix returns, one type for each set of optional
// abilities, so that type assertions on the result find exactly the
// abilities of the store under it.
type (
	prefixS[V any] struct{ *prefixBase[V] }
	prefixV[V any] struct {
		*prefixBase[V]
		prefixVersioned[V]
	}
	prefixB[V any] struct {
		*prefixBase[V]
		prefixBatcher[V]
	}
	prefixL[V any] struct {
		*prefixBase[V]
		prefixLister[V]
	}
	prefixVB[V any] struct {
		*prefixBase[V]
		prefixVersioned[V]
		prefixBatcher[V]
	}
	prefixVL[V any] struct {
		*prefixBase[V]
		prefixVersioned[V]
		prefixLister[V]
	}
	prefixBL[V any] struct {
		*prefixBase[V]
		prefixBatcher[V]
		prefixLister[V]
	}
	prefixVBL[V any] struct {
		*prefixBase[V]
		prefixVersioned[V]
		prefixBatcher[V]
		prefixLister[V]
	}
)

// prefixBase holds what every WithPrefix store shares and implements Store.
type prefixBase[V any] struct {
	under  Store[V]
	prefix string
	bad    error // non-nil when prefix is invalid: every method returns it
}

// prefixed lets WithPrefix join nested prefixes.
func (p *prefixBase[V]) prefixed() *prefixBase[V] { return p }

// check returns the error for an invalid prefix or key, or nil.
func (p *prefixBase[V]) check(key string) error {
	if p.bad != nil {
		return p.bad
	}
	if err := CheckKey(p.prefix, key); err != nil {
		return err
	}
	if checker, ok := p.under.(KeyChecker); ok {
		return checker.CheckKey(p.prefix + key)
	}
	return nil
}

// CheckKey returns the error the methods of p give for key, or nil.
func (p *prefixBase[V]) CheckKey(key string) error {
	return p.check(key)
}

func (p *prefixBase[V]) Get(ctx context.Context, key string) (V, error) {
	if err := p.check(key); err != nil {
		var zero V
		return zero, err
	}
	return p.under.Get(ctx, p.prefix+key)
}

func (p *prefixBase[V]) Set(ctx context.Context, key string, v V) error {
	if err := p.check(key); err != nil {
		return err
	}
	return p.under.Set(ctx, p.prefix+key, v)
}

func (p *prefixBase[V]) Has(ctx context.Context, key string) (bool, error) {
	if err := p.check(key); err != nil {
		return false, err
	}
	return p.under.Has(ctx, p.prefix+key)
}

func (p *prefixBase[V]) Delete(ctx context.Context, key string) error {
	if err := p.check(key); err != nil {
		return err
	}
	return p.under.Delete(ctx, p.prefix+key)
}

func (p *prefixBase[V]) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	if p.bad != nil {
		return noKeys, p.badFunc
	}
	if lister, ok := p.under.(PrefixLister); ok {
		keys, errf := lister.KeysWithPrefix(ctx, p.prefix)
		return trimKeys(keys, p.prefix), errf
	}
	keys, errf := p.under.Keys(ctx)
	filtered := func(yield func(string) bool) {
		for key := range keys {
			if !strings.HasPrefix(key, p.prefix) {
				if key < p.prefix {
					continue
				}
				return // sorted: every later key is past the prefix too
			}
			if rest := key[len(p.prefix):]; rest != "" && !yield(rest) {
				return
			}
		}
	}
	return filtered, errf
}

func (p *prefixBase[V]) badFunc() error { return p.bad }

// noKeys is an empty sequence.
func noKeys(func(string) bool) {}

// trimKeys yields keys with prefix removed, skipping a key equal to prefix.
func trimKeys(keys iter.Seq[string], prefix string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for key := range keys {
			if rest, ok := strings.CutPrefix(key, prefix); ok && rest != "" && !yield(rest) {
				return
			}
		}
	}
}

// prefixVersioned implements Versioned for a WithPrefix store.
type prefixVersioned[V any] struct {
	p     *prefixBase[V]
	under Versioned[V]
}

func (v prefixVersioned[V]) GetVersion(ctx context.Context, key string) (V, Version, error) {
	if err := v.p.check(key); err != nil {
		var zero V
		return zero, "", err
	}
	return v.under.GetVersion(ctx, v.p.prefix+key)
}

func (v prefixVersioned[V]) GetIfChanged(ctx context.Context, key string, known Version) (V, Version, bool, error) {
	if err := v.p.check(key); err != nil {
		var zero V
		return zero, "", false, err
	}
	return v.under.GetIfChanged(ctx, v.p.prefix+key, known)
}

func (v prefixVersioned[V]) SetIfAbsent(ctx context.Context, key string, value V) (Version, error) {
	if err := v.p.check(key); err != nil {
		return "", err
	}
	return v.under.SetIfAbsent(ctx, v.p.prefix+key, value)
}

func (v prefixVersioned[V]) CompareAndSwap(ctx context.Context, key string, old Version, value V) (Version, error) {
	if err := v.p.check(key); err != nil {
		return "", err
	}
	return v.under.CompareAndSwap(ctx, v.p.prefix+key, old, value)
}

func (v prefixVersioned[V]) CompareAndDelete(ctx context.Context, key string, old Version) error {
	if err := v.p.check(key); err != nil {
		return err
	}
	return v.under.CompareAndDelete(ctx, v.p.prefix+key, old)
}

// prefixBatcher implements Batcher for a WithPrefix store.
type prefixBatcher[V any] struct {
	p     *prefixBase[V]
	under Batcher[V]
}

// checkBatch returns the error for an invalid prefix or any invalid key.
func (b prefixBatcher[V]) checkBatch(op string, keys iter.Seq[string]) error {
	if b.p.bad != nil {
		return b.p.bad
	}
	return checkBatchKeysWith(op, keys, b.p.check)
}

// trimBatchError names the keys of a *BatchError from the store under
// without the prefix; other errors are returned as they are.
func (b prefixBatcher[V]) trimBatchError(err error) error {
	var batchErr *BatchError
	if err == nil || !errors.As(err, &batchErr) || batchErr != err {
		return err
	}
	failed := make(map[string]error, len(batchErr.Failed))
	for key, keyErr := range batchErr.Failed {
		failed[strings.TrimPrefix(key, b.p.prefix)] = keyErr
	}
	return &BatchError{Op: batchErr.Op, Failed: failed}
}

func (b prefixBatcher[V]) GetMany(ctx context.Context, keys []string) (map[string]V, error) {
	if err := b.checkBatch("GetMany", slices.Values(keys)); err != nil {
		return nil, err
	}
	full := make([]string, len(keys))
	for i, key := range keys {
		full[i] = b.p.prefix + key
	}
	found, err := b.under.GetMany(ctx, full)
	var trimmed map[string]V
	if found != nil {
		trimmed = make(map[string]V, len(found))
		for key, v := range found {
			trimmed[strings.TrimPrefix(key, b.p.prefix)] = v
		}
	}
	return trimmed, b.trimBatchError(err)
}

func (b prefixBatcher[V]) SetMany(ctx context.Context, items map[string]V) error {
	if err := b.checkBatch("SetMany", keysOfMap(items)); err != nil {
		return err
	}
	full := make(map[string]V, len(items))
	for key, v := range items {
		full[b.p.prefix+key] = v
	}
	return b.trimBatchError(b.under.SetMany(ctx, full))
}

func (b prefixBatcher[V]) DeleteMany(ctx context.Context, keys []string) error {
	if err := b.checkBatch("DeleteMany", slices.Values(keys)); err != nil {
		return err
	}
	full := make([]string, len(keys))
	for i, key := range keys {
		full[i] = b.p.prefix + key
	}
	return b.trimBatchError(b.under.DeleteMany(ctx, full))
}

// prefixLister implements PrefixLister for a WithPrefix store.
type prefixLister[V any] struct {
	p     *prefixBase[V]
	under PrefixLister
}

func (l prefixLister[V]) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	if l.p.bad != nil {
		return noKeys, l.p.badFunc
	}
	keys, errf := l.under.KeysWithPrefix(ctx, l.p.prefix+prefix)
	return trimKeys(keys, l.p.prefix), errf
}

// keysWithPrefixOf yields the keys of s that start with prefix: from its
// KeysWithPrefix when s is a PrefixLister, otherwise by filtering s.Keys.
// Layers that pass listings through to the store behind them use it.
func keysWithPrefixOf(ctx context.Context, s Store[[]byte], prefix string) (iter.Seq[string], func() error) {
	if lister, ok := s.(PrefixLister); ok {
		return lister.KeysWithPrefix(ctx, prefix)
	}
	var failure rangeFailure
	seq := func(yield func(string) bool) {
		failure.set(nil)
		if err := CheckPrefix(prefix); err != nil {
			failure.set(err)
			return
		}
		keys, errf := s.Keys(ctx)
		for key := range keys {
			if strings.HasPrefix(key, prefix) && !yield(key) {
				break
			}
		}
		failure.set(errf())
	}
	return seq, failure.get
}
