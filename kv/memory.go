package kv

import (
	"bytes"
	"context"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/s3map/s3map/internal/seqerr"
)

// Memory is the reference Store: a map in memory, safe for concurrent use.
// It implements Versioned (a version is a per-store counter), Batcher,
// PrefixLister and KeyChecker.
//
// When V is []byte, Memory copies bytes in and out: the caller owns what
// Get returns, and Set keeps no reference to the caller's slice. Other
// value types are stored as given (a shallow copy).
//
// Keys lists a snapshot taken when the range starts, in byte-wise order,
// and holds no lock while the loop body runs, so the body may call any
// method of the store. Every method checks its key with CheckKey and then
// returns ctx.Err() as it is when the context is done.
//
// The zero Memory is an empty store ready to use. A Memory must not be
// copied after first use.
type Memory[V any] struct {
	mu      sync.RWMutex
	entries map[string]memoryEntry[V]
	clock   uint64 // the last version handed out
}

type memoryEntry[V any] struct {
	value   V
	version uint64
}

// NewMemory returns an empty Memory.
func NewMemory[V any]() *Memory[V] {
	return &Memory[V]{entries: make(map[string]memoryEntry[V])}
}

// Interface checks: Memory has every optional ability.
var (
	_ Versioned[[]byte] = (*Memory[[]byte])(nil)
	_ Batcher[[]byte]   = (*Memory[[]byte])(nil)
	_ PrefixLister      = (*Memory[[]byte])(nil)
	_ KeyChecker        = (*Memory[[]byte])(nil)
)

// cloneIfBytes copies the bytes of a []byte value, so that the store and the
// caller never share memory. Other types are returned as they are.
func cloneIfBytes[V any](v V) V {
	if b, ok := any(v).([]byte); ok {
		return any(bytes.Clone(b)).(V)
	}
	return v
}

// memoryVersion renders a counter as an opaque Version.
func memoryVersion(n uint64) Version {
	return Version("m" + strconv.FormatUint(n, 10))
}

// put stores a copy of v under key with a new version. m.mu must be held
// for writing.
func (m *Memory[V]) put(key string, v V) Version {
	if m.entries == nil {
		m.entries = make(map[string]memoryEntry[V])
	}
	m.clock++
	m.entries[key] = memoryEntry[V]{value: cloneIfBytes(v), version: m.clock}
	return memoryVersion(m.clock)
}

// CheckKey returns the error the methods of m give for key, or nil: m
// puts no prefix before its keys.
func (m *Memory[V]) CheckKey(key string) error {
	return CheckKey("", key)
}

// Get returns a copy of the value under key, or ErrNotFound.
func (m *Memory[V]) Get(ctx context.Context, key string) (V, error) {
	v, _, err := m.GetVersion(ctx, key)
	return v, err
}

// GetVersion returns a copy of the value under key and its version, or
// ErrNotFound.
func (m *Memory[V]) GetVersion(ctx context.Context, key string) (V, Version, error) {
	var zero V
	if err := checkKeyAndContext(ctx, key); err != nil {
		return zero, "", err
	}
	m.mu.RLock()
	e, ok := m.entries[key]
	m.mu.RUnlock()
	if !ok {
		return zero, "", errNotFoundKey(key)
	}
	return cloneIfBytes(e.value), memoryVersion(e.version), nil
}

// GetIfChanged returns a copy of the value under key and its version,
// unless the version is still known: then changed is false and the value
// is the zero value. A missing key is ErrNotFound.
func (m *Memory[V]) GetIfChanged(ctx context.Context, key string, known Version) (V, Version, bool, error) {
	var zero V
	if err := checkKeyAndContext(ctx, key); err != nil {
		return zero, "", false, err
	}
	m.mu.RLock()
	e, ok := m.entries[key]
	m.mu.RUnlock()
	switch {
	case !ok:
		return zero, "", false, errNotFoundKey(key)
	case memoryVersion(e.version) == known:
		return zero, known, false, nil
	}
	return cloneIfBytes(e.value), memoryVersion(e.version), true, nil
}

// Set stores a copy of v under key.
func (m *Memory[V]) Set(ctx context.Context, key string, v V) error {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	m.put(key, v)
	m.mu.Unlock()
	return nil
}

// SetIfAbsent stores a copy of v under key unless key has a value, in
// which case it returns ErrConflict.
func (m *Memory[V]) SetIfAbsent(ctx context.Context, key string, v V) (Version, error) {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[key]; ok {
		return "", errConflictKey(key, "it has a value")
	}
	return m.put(key, v), nil
}

// CompareAndSwap stores a copy of v under key if its version is old, and
// returns ErrConflict otherwise (a missing key included).
func (m *Memory[V]) CompareAndSwap(ctx context.Context, key string, old Version, v V) (Version, error) {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	switch {
	case !ok:
		return "", errConflictKey(key, "it has no value")
	case memoryVersion(e.version) != old:
		return "", errConflictKey(key, "its version is not "+strconv.Quote(string(old)))
	}
	return m.put(key, v), nil
}

// CompareAndDelete deletes key if its version is old, and returns
// ErrConflict otherwise (a missing key included).
func (m *Memory[V]) CompareAndDelete(ctx context.Context, key string, old Version) error {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	switch {
	case !ok:
		return errConflictKey(key, "it has no value")
	case memoryVersion(e.version) != old:
		return errConflictKey(key, "its version is not "+strconv.Quote(string(old)))
	}
	delete(m.entries, key)
	return nil
}

// Has reports whether key has a value.
func (m *Memory[V]) Has(ctx context.Context, key string) (bool, error) {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return false, err
	}
	m.mu.RLock()
	_, ok := m.entries[key]
	m.mu.RUnlock()
	return ok, nil
}

// Delete removes key; a missing key is not an error.
func (m *Memory[V]) Delete(ctx context.Context, key string) error {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.entries, key)
	m.mu.Unlock()
	return nil
}

// Keys yields every key in byte-wise order, from a snapshot taken when the
// range starts. No lock is held while the loop body runs. A key deleted
// during the loop may still be yielded; a key added during it may not be.
func (m *Memory[V]) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	return m.KeysWithPrefix(ctx, "")
}

// KeysWithPrefix yields every key that starts with prefix, in byte-wise
// order, as Keys does.
func (m *Memory[V]) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	return seqerr.New(func(yield func(string) bool) error {
		if err := CheckPrefix(prefix); err != nil {
			return err
		}
		for _, key := range m.snapshot(prefix) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !yield(key) {
				return nil
			}
		}
		return ctx.Err()
	})
}

// snapshot returns the keys that start with prefix, sorted.
func (m *Memory[V]) snapshot(prefix string) []string {
	m.mu.RLock()
	keys := make([]string, 0, len(m.entries))
	for key := range m.entries {
		if strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	m.mu.RUnlock()
	slices.Sort(keys)
	return keys
}

// GetMany returns copies of the values of keys; missing keys are absent
// from the map. Invalid keys fail the whole batch with a *BatchError
// before anything is read.
func (m *Memory[V]) GetMany(ctx context.Context, keys []string) (map[string]V, error) {
	if err := checkBatchKeys("GetMany", slices.Values(keys)); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	found := make(map[string]V, len(keys))
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, key := range keys {
		if e, ok := m.entries[key]; ok {
			found[key] = cloneIfBytes(e.value)
		}
	}
	return found, nil
}

// SetMany stores copies of every item, all at once. Invalid keys fail the
// whole batch with a *BatchError before anything is written.
func (m *Memory[V]) SetMany(ctx context.Context, items map[string]V) error {
	if err := checkBatchKeys("SetMany", keysOfMap(items)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, v := range items {
		m.put(key, v)
	}
	return nil
}

// DeleteMany deletes every key, all at once; missing keys are not errors.
// Invalid keys fail the whole batch with a *BatchError before anything is
// deleted.
func (m *Memory[V]) DeleteMany(ctx context.Context, keys []string) error {
	if err := checkBatchKeys("DeleteMany", slices.Values(keys)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, key := range keys {
		delete(m.entries, key)
	}
	return nil
}
