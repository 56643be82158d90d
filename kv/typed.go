package kv

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// Typed returns a Store[V] that keeps its values in s as bytes, through c.
//
// Get decodes what s holds; a value that does not decode is an error that
// errors.Is ErrCorrupt, names the key and wraps the codec's error. Set
// encodes before it writes, so a value that does not encode writes nothing.
//
// The result is a Versioned[V] exactly when s is a Versioned[[]byte]
// (versions pass through unchanged, so Update works on it). It is always a
// KeyChecker (checking keys as s does), a PrefixLister and a Batcher[V],
// whose methods call the package functions on s. Keys are passed to s as
// they are, and checked by s. The result is safe for concurrent use when s
// and c are.
func Typed[V any](s Store[[]byte], c Codec[V]) Store[V] {
	t := &typed[V]{store: s, codec: c}
	return KeepVersioned[Store[V]](s, t, typedVersioned[V]{t})
}

// typed is the Store[V] that Typed returns over a store that is not
// Versioned; typedVersioned adds the Versioned methods.
type typed[V any] struct {
	store Store[[]byte]
	codec Codec[V]
}

// typedVersioned is the Store[V] that Typed returns over a Versioned store.
type typedVersioned[V any] struct{ *typed[V] }

// Interface checks.
var (
	_ KeyChecker        = (*typed[int])(nil)
	_ PrefixLister      = (*typed[int])(nil)
	_ Batcher[int]      = (*typed[int])(nil)
	_ Versioned[[]byte] = typedVersioned[[]byte]{}
)

// CheckKey checks key as the store underneath does.
func (t *typed[V]) CheckKey(key string) error {
	return keyCheckOf(t.store)(key)
}

// encode returns the bytes of v for key, or an error naming key.
func (t *typed[V]) encode(key string, v V) ([]byte, error) {
	data, err := t.codec.Encode(v)
	if err != nil {
		return nil, fmt.Errorf("kv: key %q: encoding value: %w", key, err)
	}
	return data, nil
}

// decode returns the value of key whose bytes are data, or an error that
// errors.Is ErrCorrupt.
func (t *typed[V]) decode(key string, data []byte) (V, error) {
	v, err := t.codec.Decode(data)
	if err != nil {
		var zero V
		return zero, fmt.Errorf("%w: key %q: %w", ErrCorrupt, key, err)
	}
	return v, nil
}

// Get returns the decoded value under key.
func (t *typed[V]) Get(ctx context.Context, key string) (V, error) {
	data, err := t.store.Get(ctx, key)
	if err != nil {
		var zero V
		return zero, err
	}
	return t.decode(key, data)
}

// Set encodes v and stores it under key.
func (t *typed[V]) Set(ctx context.Context, key string, v V) error {
	data, err := t.encode(key, v)
	if err != nil {
		return err
	}
	return t.store.Set(ctx, key, data)
}

// Has reports whether key has a value, without reading or decoding it.
func (t *typed[V]) Has(ctx context.Context, key string) (bool, error) {
	return t.store.Has(ctx, key)
}

// Delete removes key.
func (t *typed[V]) Delete(ctx context.Context, key string) error {
	return t.store.Delete(ctx, key)
}

// Keys yields the keys of the store underneath.
func (t *typed[V]) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	return t.store.Keys(ctx)
}

// KeysWithPrefix yields the keys of the store underneath that start with
// prefix.
func (t *typed[V]) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	return KeysWithPrefix(ctx, t.store, prefix)
}

// The Versioned methods, on the store underneath, which KeepVersioned made
// sure is Versioned.

// GetVersion returns the decoded value under key and its version.
func (t typedVersioned[V]) GetVersion(ctx context.Context, key string) (V, Version, error) {
	data, version, err := t.store.(Versioned[[]byte]).GetVersion(ctx, key)
	if err != nil {
		var zero V
		return zero, "", err
	}
	v, err := t.decode(key, data)
	return v, version, err
}

// GetIfChanged returns the decoded value and version of key unless its
// version is still known; then nothing is decoded.
func (t typedVersioned[V]) GetIfChanged(ctx context.Context, key string, known Version) (V, Version, bool, error) {
	var zero V
	data, version, changed, err := t.store.(Versioned[[]byte]).GetIfChanged(ctx, key, known)
	if err != nil || !changed {
		return zero, version, changed, err
	}
	v, err := t.decode(key, data)
	if err != nil {
		return zero, version, changed, err
	}
	return v, version, true, nil
}

// SetIfAbsent encodes v and stores it only if key has no value.
func (t typedVersioned[V]) SetIfAbsent(ctx context.Context, key string, v V) (Version, error) {
	data, err := t.encode(key, v)
	if err != nil {
		return "", err
	}
	return t.store.(Versioned[[]byte]).SetIfAbsent(ctx, key, data)
}

// CompareAndSwap encodes v and stores it only if key's version is old.
func (t typedVersioned[V]) CompareAndSwap(ctx context.Context, key string, old Version, v V) (Version, error) {
	data, err := t.encode(key, v)
	if err != nil {
		return "", err
	}
	return t.store.(Versioned[[]byte]).CompareAndSwap(ctx, key, old, data)
}

// CompareAndDelete deletes key only if its version is old.
func (t typedVersioned[V]) CompareAndDelete(ctx context.Context, key string, old Version) error {
	return t.store.(Versioned[[]byte]).CompareAndDelete(ctx, key, old)
}

// The Batcher methods, with the package functions on the store
// underneath.

// GetMany returns the decoded values of keys. Values that do not decode
// are named in a *BatchError, with the keys the store underneath failed;
// the map holds the others.
func (t *typed[V]) GetMany(ctx context.Context, keys []string) (map[string]V, error) {
	raw, err := GetMany(ctx, t.store, keys)
	var failed map[string]error
	if err != nil {
		var batchErr *BatchError
		if !errors.As(err, &batchErr) {
			return nil, err
		}
		failed = make(map[string]error, len(batchErr.Failed))
		for key, keyErr := range batchErr.Failed {
			failed[key] = keyErr
		}
	}
	found := make(map[string]V, len(raw))
	for key, data := range raw {
		v, err := t.decode(key, data)
		if err != nil {
			if failed == nil {
				failed = make(map[string]error)
			}
			failed[key] = err
			continue
		}
		found[key] = v
	}
	if failed != nil {
		return found, &BatchError{Op: "GetMany", Failed: failed}
	}
	return found, nil
}

// SetMany encodes every item and then stores them all. Values that do not
// encode fail the whole batch with a *BatchError before anything is
// written, as invalid keys do.
func (t *typed[V]) SetMany(ctx context.Context, items map[string]V) error {
	encoded := make(map[string][]byte, len(items))
	var failed map[string]error
	for key, v := range items {
		data, err := t.encode(key, v)
		if err != nil {
			if failed == nil {
				failed = make(map[string]error)
			}
			failed[key] = err
			continue
		}
		encoded[key] = data
	}
	if failed != nil {
		return &BatchError{Op: "SetMany", Failed: failed}
	}
	return SetMany(ctx, t.store, encoded)
}

// DeleteMany deletes every key from the store underneath.
func (t *typed[V]) DeleteMany(ctx context.Context, keys []string) error {
	return DeleteMany(ctx, t.store, keys)
}
