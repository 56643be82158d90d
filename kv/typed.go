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
// The result has each optional ability of s: it is a Versioned[V] exactly
// when s is a Versioned[[]byte] (versions pass through unchanged, so
// Update works on it), a PrefixLister when s is one, and a Batcher[V] when
// s is a Batcher[[]byte]. Find them by type assertion on the result. It is
// always a KeyChecker, checking keys as s does.
//
// Keys are passed to s as they are. The result is safe for concurrent use
// when s and c are.
func Typed[V any](s Store[[]byte], c Codec[V]) Store[V] {
	return withAbilities(s, newTyped(s, c))
}

// typed is the Store[V] that Typed returns. It has every optional ability;
// withAbilities shows only those its store has.
type typed[V any] struct {
	store    Store[[]byte]
	codec    Codec[V]
	checkKey func(key string) error // the store's KeyChecker, or CheckKey
}

// newTyped returns the layer of codec over s.
func newTyped[V any](s Store[[]byte], codec Codec[V]) *typed[V] {
	return &typed[V]{store: s, codec: codec, checkKey: keyCheckOf(s)}
}

// CheckKey checks key as the store underneath does.
func (t *typed[V]) CheckKey(key string) error {
	return t.checkKey(key)
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

// Set encodes v and stores it under key. An invalid key is refused before
// v is encoded.
func (t *typed[V]) Set(ctx context.Context, key string, v V) error {
	if err := t.checkKey(key); err != nil {
		return err
	}
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
// prefix. withAbilities shows it only when that store is a PrefixLister.
func (t *typed[V]) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	return t.store.(PrefixLister).KeysWithPrefix(ctx, prefix)
}

// The Versioned methods. withAbilities shows them only when the store
// underneath is a Versioned[[]byte].

// GetVersion returns the decoded value under key and its version.
func (t *typed[V]) GetVersion(ctx context.Context, key string) (V, Version, error) {
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
func (t *typed[V]) GetIfChanged(ctx context.Context, key string, known Version) (V, Version, bool, error) {
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
func (t *typed[V]) SetIfAbsent(ctx context.Context, key string, v V) (Version, error) {
	if err := t.checkKey(key); err != nil {
		return "", err
	}
	data, err := t.encode(key, v)
	if err != nil {
		return "", err
	}
	return t.store.(Versioned[[]byte]).SetIfAbsent(ctx, key, data)
}

// CompareAndSwap encodes v and stores it only if key's version is old.
func (t *typed[V]) CompareAndSwap(ctx context.Context, key string, old Version, v V) (Version, error) {
	if err := t.checkKey(key); err != nil {
		return "", err
	}
	data, err := t.encode(key, v)
	if err != nil {
		return "", err
	}
	return t.store.(Versioned[[]byte]).CompareAndSwap(ctx, key, old, data)
}

// CompareAndDelete deletes key only if its version is old.
func (t *typed[V]) CompareAndDelete(ctx context.Context, key string, old Version) error {
	return t.store.(Versioned[[]byte]).CompareAndDelete(ctx, key, old)
}

// The Batcher methods. withAbilities shows them only when the store
// underneath is a Batcher[[]byte].

// GetMany returns the decoded values of keys. Values that do not decode
// are named in a *BatchError, with the keys the store underneath failed;
// the map holds the others.
func (t *typed[V]) GetMany(ctx context.Context, keys []string) (map[string]V, error) {
	raw, err := t.store.(Batcher[[]byte]).GetMany(ctx, keys)
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

// SetMany encodes every item and then stores them all. Invalid keys and
// values that do not encode fail the whole batch with a *BatchError before
// anything is written.
func (t *typed[V]) SetMany(ctx context.Context, items map[string]V) error {
	if err := checkBatchKeysWith("SetMany", keysOfMap(items), t.checkKey); err != nil {
		return err
	}
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
	return t.store.(Batcher[[]byte]).SetMany(ctx, encoded)
}

// DeleteMany deletes every key from the store underneath.
func (t *typed[V]) DeleteMany(ctx context.Context, keys []string) error {
	return t.store.(Batcher[[]byte]).DeleteMany(ctx, keys)
}

// versionedOps is the part of Versioned[V] beyond Store[V].
type versionedOps[V any] interface {
	GetVersion(ctx context.Context, key string) (V, Version, error)
	GetIfChanged(ctx context.Context, key string, known Version) (V, Version, bool, error)
	SetIfAbsent(ctx context.Context, key string, v V) (Version, error)
	CompareAndSwap(ctx context.Context, key string, old Version, v V) (Version, error)
	CompareAndDelete(ctx context.Context, key string, old Version) error
}

// checkedStore is a Store that is also a KeyChecker: what every layer is.
type checkedStore[V any] interface {
	Store[V]
	KeyChecker
}

// layerOps is what a layer over a Store[[]byte] implements: the store, its
// key check, and every optional ability, each of which works only when
// under has it.
type layerOps[V any] interface {
	checkedStore[V]
	versionedOps[V]
	PrefixLister
	Batcher[V]
}

// withAbilities returns layer as a Store[V] whose method set holds the
// optional abilities that under has, and no others (KeyChecker aside,
// which every layer has), so that a type
// assertion on the result tells the truth.
func withAbilities[V any](under Store[[]byte], layer layerOps[V]) Store[V] {
	_, versioned := under.(Versioned[[]byte])
	_, lister := under.(PrefixLister)
	_, batcher := under.(Batcher[[]byte])
	switch {
	case versioned && lister && batcher:
		return struct {
			checkedStore[V]
			versionedOps[V]
			PrefixLister
			Batcher[V]
		}{layer, layer, layer, layer}
	case versioned && lister:
		return struct {
			checkedStore[V]
			versionedOps[V]
			PrefixLister
		}{layer, layer, layer}
	case versioned && batcher:
		return struct {
			checkedStore[V]
			versionedOps[V]
			Batcher[V]
		}{layer, layer, layer}
	case lister && batcher:
		return struct {
			checkedStore[V]
			PrefixLister
			Batcher[V]
		}{layer, layer, layer}
	case versioned:
		return struct {
			checkedStore[V]
			versionedOps[V]
		}{layer, layer}
	case lister:
		return struct {
			checkedStore[V]
			PrefixLister
		}{layer, layer}
	case batcher:
		return struct {
			checkedStore[V]
			Batcher[V]
		}{layer, layer}
	}
	return struct{ checkedStore[V] }{layer}
}
