package kv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/s3map/s3map/internal/seqerr"
)

// KeysWithPrefix yields, in byte-wise order, the keys of s that start with
// prefix, in full. It uses s's PrefixLister when s has one, and otherwise
// filters s.Keys, stopping once past the prefix. A prefix that CheckPrefix
// refuses is reported by the error function (ErrInvalidKey), and nothing
// is yielded. The sequence keeps the promise of Store.Keys.
func KeysWithPrefix[V any](ctx context.Context, s Store[V], prefix string) (iter.Seq[string], func() error) {
	if lister, ok := s.(PrefixLister); ok {
		return lister.KeysWithPrefix(ctx, prefix)
	}
	if err := CheckPrefix(prefix); err != nil {
		return seqerr.Fail[string](err)
	}
	return seqerr.New(func(yield func(string) bool) error {
		keys, errf := s.Keys(ctx)
		for key := range keys {
			if !strings.HasPrefix(key, prefix) {
				if key < prefix {
					continue
				}
				break // sorted: every later key is past the prefix too
			}
			if !yield(key) {
				break
			}
		}
		return errf()
	})
}

// WithPrefix returns the part of s whose keys start with prefix, as a store
// of its own: key k of the result is key prefix+k of s. Keys yields the
// keys of that part with the prefix removed, in the same order, with
// KeysWithPrefix on s. Keys are checked with CheckKey(prefix, key), so a
// key is refused when prefix+key would be too long, and then by s as
// prefix+key. A key of s equal to prefix itself has no name in the result
// and is not listed.
//
// The result is a Versioned store exactly when s is one, and always a
// KeyChecker, a PrefixLister and a Batcher, whose methods call the
// package functions (KeysWithPrefix, GetMany, SetMany, DeleteMany) on s.
// WithPrefix of a WithPrefix store joins the two prefixes over the
// original store; an empty prefix returns s itself.
//
// A prefix that CheckPrefix refuses (not valid UTF-8, or too long) gives a
// store whose every method returns an error that errors.Is ErrInvalidKey,
// naming the prefix, and does nothing; its Keys yields nothing and its
// error function returns that error.
func WithPrefix[V any](s Store[V], prefix string) Store[V] {
	if prefix == "" {
		return s
	}
	p := &prefixStore[V]{under: s, prefix: prefix}
	if inner, ok := s.(interface{ prefixed() *prefixStore[V] }); ok {
		in := inner.prefixed()
		p.under, p.prefix = in.under, in.prefix+prefix
	}
	if err := CheckPrefix(p.prefix); err != nil {
		p.bad = fmt.Errorf("kv: WithPrefix: %w", err)
	}
	return KeepVersioned[Store[V]](p.under, p, prefixVersioned[V]{p})
}

// prefixStore is the store WithPrefix returns over a store that is not
// Versioned; prefixVersioned adds the Versioned methods.
type prefixStore[V any] struct {
	under  Store[V]
	prefix string
	bad    error // non-nil when prefix is invalid: every method returns it
}

// prefixVersioned is the store WithPrefix returns over a Versioned store.
type prefixVersioned[V any] struct{ *prefixStore[V] }

// Interface checks.
var (
	_ KeyChecker        = (*prefixStore[[]byte])(nil)
	_ PrefixLister      = (*prefixStore[[]byte])(nil)
	_ Batcher[[]byte]   = (*prefixStore[[]byte])(nil)
	_ Versioned[[]byte] = prefixVersioned[[]byte]{}
)

// prefixed lets WithPrefix join nested prefixes.
func (p *prefixStore[V]) prefixed() *prefixStore[V] { return p }

// check returns the error for an invalid prefix or key, or nil. The store
// under checks prefix+key itself.
func (p *prefixStore[V]) check(key string) error {
	if p.bad != nil {
		return p.bad
	}
	return CheckKey(p.prefix, key)
}

// CheckKey returns the error the methods of p give for key, or nil.
func (p *prefixStore[V]) CheckKey(key string) error {
	if err := p.check(key); err != nil {
		return err
	}
	if checker, ok := p.under.(KeyChecker); ok {
		return checker.CheckKey(p.prefix + key)
	}
	return nil
}

func (p *prefixStore[V]) Get(ctx context.Context, key string) (V, error) {
	if err := p.check(key); err != nil {
		var zero V
		return zero, err
	}
	return p.under.Get(ctx, p.prefix+key)
}

func (p *prefixStore[V]) Set(ctx context.Context, key string, v V) error {
	if err := p.check(key); err != nil {
		return err
	}
	return p.under.Set(ctx, p.prefix+key, v)
}

func (p *prefixStore[V]) Has(ctx context.Context, key string) (bool, error) {
	if err := p.check(key); err != nil {
		return false, err
	}
	return p.under.Has(ctx, p.prefix+key)
}

func (p *prefixStore[V]) Delete(ctx context.Context, key string) error {
	if err := p.check(key); err != nil {
		return err
	}
	return p.under.Delete(ctx, p.prefix+key)
}

func (p *prefixStore[V]) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	return p.KeysWithPrefix(ctx, "")
}

func (p *prefixStore[V]) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	if p.bad != nil {
		return seqerr.Fail[string](p.bad)
	}
	keys, errf := KeysWithPrefix(ctx, p.under, p.prefix+prefix)
	return seqerr.New(func(yield func(string) bool) error {
		for key := range keys {
			if rest, ok := strings.CutPrefix(key, p.prefix); ok && rest != "" && !yield(rest) {
				break
			}
		}
		return errf()
	})
}

// checkBatch returns the error for an invalid prefix or any invalid key,
// naming every key that p or the store under it refuses, so that a batch
// is refused whole.
func (p *prefixStore[V]) checkBatch(op string, keys iter.Seq[string]) error {
	if p.bad != nil {
		return p.bad
	}
	return checkBatchKeysWith(op, keys, p.CheckKey)
}

// trimBatchError names the keys of a *BatchError from the store under
// without the prefix; other errors are returned as they are.
func (p *prefixStore[V]) trimBatchError(err error) error {
	var batchErr *BatchError
	if err == nil || !errors.As(err, &batchErr) || batchErr != err {
		return err
	}
	failed := make(map[string]error, len(batchErr.Failed))
	for key, keyErr := range batchErr.Failed {
		failed[strings.TrimPrefix(key, p.prefix)] = keyErr
	}
	return &BatchError{Op: batchErr.Op, Failed: failed}
}

// full returns keys with the prefix put before each.
func (p *prefixStore[V]) full(keys []string) []string {
	full := make([]string, len(keys))
	for i, key := range keys {
		full[i] = p.prefix + key
	}
	return full
}

func (p *prefixStore[V]) GetMany(ctx context.Context, keys []string) (map[string]V, error) {
	if err := p.checkBatch("GetMany", slices.Values(keys)); err != nil {
		return nil, err
	}
	found, err := GetMany(ctx, p.under, p.full(keys))
	var trimmed map[string]V
	if found != nil {
		trimmed = make(map[string]V, len(found))
		for key, v := range found {
			trimmed[strings.TrimPrefix(key, p.prefix)] = v
		}
	}
	return trimmed, p.trimBatchError(err)
}

func (p *prefixStore[V]) SetMany(ctx context.Context, items map[string]V) error {
	if err := p.checkBatch("SetMany", keysOfMap(items)); err != nil {
		return err
	}
	full := make(map[string]V, len(items))
	for key, v := range items {
		full[p.prefix+key] = v
	}
	return p.trimBatchError(SetMany(ctx, p.under, full))
}

func (p *prefixStore[V]) DeleteMany(ctx context.Context, keys []string) error {
	if err := p.checkBatch("DeleteMany", slices.Values(keys)); err != nil {
		return err
	}
	return p.trimBatchError(DeleteMany(ctx, p.under, p.full(keys)))
}

// The Versioned methods, on the store under, which KeepVersioned made sure
// is Versioned.

func (p prefixVersioned[V]) GetVersion(ctx context.Context, key string) (V, Version, error) {
	if err := p.check(key); err != nil {
		var zero V
		return zero, "", err
	}
	return p.under.(Versioned[V]).GetVersion(ctx, p.prefix+key)
}

func (p prefixVersioned[V]) GetIfChanged(ctx context.Context, key string, known Version) (V, Version, bool, error) {
	if err := p.check(key); err != nil {
		var zero V
		return zero, "", false, err
	}
	return p.under.(Versioned[V]).GetIfChanged(ctx, p.prefix+key, known)
}

func (p prefixVersioned[V]) SetIfAbsent(ctx context.Context, key string, value V) (Version, error) {
	if err := p.check(key); err != nil {
		return "", err
	}
	return p.under.(Versioned[V]).SetIfAbsent(ctx, p.prefix+key, value)
}

func (p prefixVersioned[V]) CompareAndSwap(ctx context.Context, key string, old Version, value V) (Version, error) {
	if err := p.check(key); err != nil {
		return "", err
	}
	return p.under.(Versioned[V]).CompareAndSwap(ctx, p.prefix+key, old, value)
}

func (p prefixVersioned[V]) CompareAndDelete(ctx context.Context, key string, old Version) error {
	if err := p.check(key); err != nil {
		return err
	}
	return p.under.(Versioned[V]).CompareAndDelete(ctx, p.prefix+key, old)
}
