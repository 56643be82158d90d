package kv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"unicode/utf8"
)

// Sentinel errors. Stores wrap them with %w, so test with errors.Is.
var (
	// ErrNotFound reports that a key has no value. Get returns it for a
	// missing key; Has and Delete never do.
	ErrNotFound = errors.New("kv: key not found")

	// ErrInvalidKey reports a key that no store accepts: empty, not valid
	// UTF-8, or longer than MaxKeyLen bytes (with the store's prefix).
	ErrInvalidKey = errors.New("kv: invalid key")

	// ErrConflict reports that a conditional write or delete did not happen
	// because the key's version was not the one given (or the key existed,
	// for SetIfAbsent).
	ErrConflict = errors.New("kv: condition failed")

	// ErrOutcomeUnknown reports a conditional write or delete whose result
	// could not be established (its reply was lost, and what the store
	// holds now does not tell). The write may or may not have happened; it
	// is never reported as ErrConflict, and Update never retries it.
	ErrOutcomeUnknown = errors.New("kv: outcome of conditional write unknown")

	// ErrCorrupt reports a stored value that failed verification or that a
	// layer cannot turn back into what was written: a body whose length or
	// checksum does not match (bucketmap), a codec that refused it (Typed),
	// a damaged or oversized frame (kv/zstd). The error names the key and
	// wraps the cause. No layer keeps such a value (kv/cache drops it).
	ErrCorrupt = errors.New("kv: stored value does not decode")

	// ErrValueTooLarge reports a value over a layer's size limit, such as
	// the MaxValueSize of kv/zstd.
	ErrValueTooLarge = errors.New("kv: value too large")
)

// MaxKeyLen is the longest key, in bytes, that a store accepts, counting any
// prefix the store adds. It is S3's limit on object keys.
const MaxKeyLen = 1024

// Store is a map from string keys to values of type V.
//
// Every method takes a context first and honours its cancellation. A store
// is safe for concurrent use.
type Store[V any] interface {
	// Get returns the value stored under key, or an error that errors.Is
	// ErrNotFound when there is none.
	Get(ctx context.Context, key string) (V, error)

	// Set stores v under key, replacing any value there. The store keeps no
	// reference to v's memory.
	Set(ctx context.Context, key string, v V) error

	// Has reports whether key has a value. A missing key is (false, nil).
	Has(ctx context.Context, key string) (bool, error)

	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// Keys yields every key in byte-wise lexical order. The error function
	// reports the first failure (listing error, cancelled context) once the
	// loop is over; breaking out early is safe and leaks nothing. Each range
	// over the sequence lists afresh. One sequence may be ranged from
	// several goroutines at once: each range lists every key, there is no
	// data race, and the error function reports the outcome of the range
	// that ended last (call Keys once per goroutine for an error each).
	Keys(ctx context.Context) (iter.Seq[string], func() error)
}

// Version identifies one stored value of a key: an ETag for S3, a counter
// for Memory. Versions are opaque; compare them only for equality.
type Version string

// Versioned is the optional ability of a store to report versions and to
// write or delete only when a condition on the version holds. Find it with a
// type assertion, as io/fs does for its optional interfaces.
//
// A failed condition returns an error that errors.Is ErrConflict.
type Versioned[V any] interface {
	Store[V]

	// GetVersion returns the value under key and its version.
	GetVersion(ctx context.Context, key string) (V, Version, error)

	// GetIfChanged returns the value and version of key unless its version
	// is still known. When it is, changed is false, the value is the zero
	// value and no value was transferred (S3: a 304 to If-None-Match).
	GetIfChanged(ctx context.Context, key string, known Version) (v V, version Version, changed bool, err error)

	// SetIfAbsent stores v only if key has no value, and returns the new
	// version. If key has a value, it returns ErrConflict.
	SetIfAbsent(ctx context.Context, key string, v V) (Version, error)

	// CompareAndSwap stores v only if key's current version is old, and
	// returns the new version. Otherwise (including a missing key) it
	// returns ErrConflict.
	CompareAndSwap(ctx context.Context, key string, old Version, v V) (Version, error)

	// CompareAndDelete deletes key only if its current version is old.
	// Otherwise (including a missing key) it returns ErrConflict.
	CompareAndDelete(ctx context.Context, key string, old Version) error
}

// KeepVersioned returns versioned when under is a Versioned[U], and plain
// otherwise: how a layer over under (WithPrefix, Typed, and the layers of
// kv/cache and kv/zstd) has the Versioned ability exactly when the store
// beneath has it. versioned is plain with the Versioned methods added,
// which call those of under; plain has every other ability.
func KeepVersioned[S any, U any](under Store[U], plain, versioned S) S {
	if _, ok := under.(Versioned[U]); ok {
		return versioned
	}
	return plain
}

// Batcher is the optional ability of a store to read, write and delete many
// keys at once better than one at a time. The package functions GetMany,
// SetMany and DeleteMany use it when a store has it and fall back to single
// calls otherwise.
//
// A batch that fails for some keys returns a *BatchError naming each of
// them; the other keys are done. A batch with invalid keys is refused
// whole, before anything is done, with a *BatchError naming each invalid
// key (its error errors.Is ErrInvalidKey).
type Batcher[V any] interface {
	// GetMany returns the values of the given keys. Missing keys are absent
	// from the map; they are not errors.
	GetMany(ctx context.Context, keys []string) (map[string]V, error)
	// SetMany stores every item.
	SetMany(ctx context.Context, items map[string]V) error
	// DeleteMany deletes every key; missing keys are not errors.
	DeleteMany(ctx context.Context, keys []string) error
}

// CheckKey returns an error that errors.Is ErrInvalidKey, naming the
// problem, unless key is non-empty, valid UTF-8 and at most MaxKeyLen bytes
// once prefix is put before it. Stores call it before any I/O.
func CheckKey(prefix, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: key %q is not valid UTF-8", ErrInvalidKey, key)
	case len(prefix)+len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes with prefix of %d bytes is over %d bytes", ErrInvalidKey, len(key), len(prefix), MaxKeyLen)
	}
	return nil
}

// CheckPrefix returns an error that errors.Is ErrInvalidKey, naming the
// problem, unless prefix is valid UTF-8 and at most MaxKeyLen bytes. The
// empty prefix is valid. WithPrefix and KeysWithPrefix use it.
func CheckPrefix(prefix string) error {
	switch {
	case !utf8.ValidString(prefix):
		return fmt.Errorf("%w: prefix %q is not valid UTF-8", ErrInvalidKey, prefix)
	case len(prefix) > MaxKeyLen:
		return fmt.Errorf("%w: prefix of %d bytes is over %d bytes", ErrInvalidKey, len(prefix), MaxKeyLen)
	}
	return nil
}

// PrefixLister is the optional ability of a store to list only the keys
// that start with a prefix, better than filtering Keys (S3: a listing with
// Prefix). WithPrefix uses it when the store under it has it.
type PrefixLister interface {
	// KeysWithPrefix yields, in byte-wise lexical order, every key that
	// starts with prefix, in full (prefix included). The empty prefix lists
	// every key. The error function reports the first failure once the loop
	// is over, as for Store.Keys; a prefix that CheckPrefix refuses is such
	// a failure (ErrInvalidKey), and nothing is yielded.
	KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error)
}

// errNotFoundKey returns ErrNotFound naming key.
func errNotFoundKey(key string) error {
	return fmt.Errorf("%w: %q", ErrNotFound, key)
}

// errConflictKey returns ErrConflict naming key and why the condition failed.
func errConflictKey(key, why string) error {
	return fmt.Errorf("%w: key %q: %s", ErrConflict, key, why)
}

// checkKeyAndContext checks key with CheckKey and then ctx, in that order:
// a bad key is reported whether or not the context is done. The stores of
// this package that put no prefix before their keys (Memory, Dir) use it.
func checkKeyAndContext(ctx context.Context, key string) error {
	if err := CheckKey("", key); err != nil {
		return err
	}
	return ctx.Err()
}

// keyCheckOf returns how s checks keys: its KeyChecker, or CheckKey with
// no prefix.
func keyCheckOf[V any](s Store[V]) func(key string) error {
	if checker, ok := s.(KeyChecker); ok {
		return checker.CheckKey
	}
	return func(key string) error { return CheckKey("", key) }
}

// KeyChecker is the optional ability of a store to check a key, without
// any I/O, exactly as its methods would: with CheckKey and whatever prefix
// the store puts before its keys. The batch functions use it to refuse a
// batch with an invalid key before anything is written; WithPrefix uses it
// to check prefix+key against the store under it.
type KeyChecker interface {
	// CheckKey returns an error that errors.Is ErrInvalidKey when the
	// store's methods would refuse key, and nil otherwise.
	CheckKey(key string) error
}
