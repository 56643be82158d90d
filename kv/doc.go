// Package kv is the contract of a map-like store with string keys
// (Store), its reference implementation in memory (Memory), and functions
// and layers that work on any store: WithPrefix, Update, All, GetMany,
// SetMany, DeleteMany and KeysWithPrefix, typed values and a local
// directory.
// It does no S3 I/O itself; package bucketmap provides a Store over an S3
// bucket prefix.
//
// # Keys
//
// A key is a non-empty, valid UTF-8 string of at most MaxKeyLen (1024)
// bytes, counting any prefix the store puts before it; that is S3's limit
// on object keys. Any other key is refused with an error that errors.Is
// ErrInvalidKey, naming the problem, before any I/O. CheckKey is that
// check, written once for every store; a store that can tell how it would
// check a key, prefix included, implements KeyChecker.
//
// A store may refuse more keys than CheckKey does, and says which in its
// documentation: bucketmap.BucketMap refuses what S3 servers rewrite or
// mangle (control characters, ".", ".." and empty path segments,
// noncharacters), and a store with a prefix of its own counts it in the
// length. Such a store must implement KeyChecker, and its CheckKey must
// agree with its Set: a key CheckKey accepts is stored, and one it refuses
// is refused by Set with the same ErrInvalidKey, before any I/O. kvtest
// checks this. A layer checks a key only where the store beneath would not
// refuse it before doing anything (WithPrefix counts its prefix); so a key
// is checked once per call, by the outermost store that needs to.
//
// For Memory and Dir, keys are opaque: "a//b", "a/./b", "with space" and
// "50%" are all distinct keys, stored as given. Keys are listed in byte-wise lexical
// order, as S3 lists them (Go's < on strings).
//
// # Values and errors
//
// A Store[[]byte] copies bytes in and out: the caller owns what Get
// returns, and Set keeps no reference to the caller's slice.
//
// Errors wrap a sentinel for their kind, so test them with errors.Is:
//
//   - ErrNotFound: Get (and GetVersion, GetIfChanged) on a missing key.
//     Has reports a missing key as (false, nil) and Delete of a missing
//     key succeeds.
//   - ErrInvalidKey: a key or prefix that no store accepts.
//   - ErrConflict: a conditional write or delete whose condition failed.
//   - *BatchError: a batch in which some keys failed; errors.Is looks
//     through each key's error.
//
// A method called with a done context returns ctx.Err() as it is, so
// errors.Is(err, context.Canceled) holds.
//
// # Iteration
//
// Keys returns a sequence and an error function:
//
//	keys, errf := s.Keys(ctx)
//	for key := range keys {
//		...
//	}
//	if err := errf(); err != nil {
//		... // the listing failed, or ctx was cancelled
//	}
//
// The error function reports the first failure of the latest range once
// the loop is over. Breaking out early is safe and leaks nothing. Each
// range over the sequence lists afresh. One sequence may be ranged from
// several goroutines at once, without a data race; the error function then
// reports the range that ended last. The loop body may call the store,
// including Set and Delete: Memory holds no lock while it runs. All yields
// keys with their values, reading ahead.
//
// # Concurrency
//
// Every store and layer in this package is safe for concurrent use. Plain
// Set is last-writer-wins; for read-modify-write without lost updates, use
// Update on a Versioned store, which retries on conflict.
//
// # Optional abilities
//
// As io/fs does, a store may have more abilities than Store, found by a
// type assertion:
//
//   - Versioned: versions (an ETag for S3, a counter for Memory) and
//     conditional writes: GetVersion, GetIfChanged, SetIfAbsent,
//     CompareAndSwap, CompareAndDelete. Update needs it.
//   - Batcher: GetMany, SetMany and DeleteMany done better than one key at
//     a time (BucketMap's DeleteMany: one request per 1000 keys).
//   - PrefixLister: KeysWithPrefix lists only the keys under a prefix (S3:
//     a listing with Prefix).
//   - KeyChecker: CheckKey tells, without I/O, whether the store's methods
//     would accept a key.
//
// The rule, io/fs's: each speed-up ability has a package function that
// uses it when a store has it and falls back otherwise (GetMany, SetMany
// and DeleteMany make single calls, BatchConcurrency at a time;
// KeysWithPrefix filters Keys). Every layer in this module (WithPrefix,
// Typed, and the layers of kv/cache and kv/zstd) always implements
// Batcher, PrefixLister and KeyChecker, by calling the package function
// on the store beneath, as io/fs's Sub always implements ReadFile. Only
// Versioned, which cannot be emulated, is kept exactly: a layer is
// Versioned when the store beneath is, and never otherwise. KeepVersioned
// is the one helper that makes that choice, for every layer; use it for
// layers of your own.
//
// # Layers
//
// Each layer is a Store over another store, and passes kvtest.Run:
//
//   - WithPrefix(s, prefix): the keys of s under prefix.
//   - Typed(s, JSON[V]()) or Gob, or any Codec: values of type V over
//     bytes. A value that does not decode is an error naming the key that
//     errors.Is ErrCorrupt.
//   - NewDir(path, opts): a store in a local directory, with atomic writes;
//     no key reaches outside it.
//   - kv/zstd: values compressed with zstd, readable by any zstd decoder.
//   - kv/cache: a memory cache and a two-tier (disk over S3) cache, both
//     Versioned when the store behind is, so Update works through them.
//
// Package kv itself depends on the standard library only; the layers that
// need third-party modules (otter, klauspost/compress) live in those
// subpackages.
//
// # Testing a store
//
// Package kv/kvtest is the conformance suite: every store in this module
// passes it, and so can yours. From a test in your package:
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
//			return newEmptyStoreForTest(t)
//		}, nil)
//	}
//
// Run checks the whole contract (odd and invalid keys, ordering across
// pages, early breaks, concurrency, cancellation, and each optional
// ability the store has) and repeats it under WithPrefix. kvtest.Options
// describes what a store cannot do, each with a reason shown when its test
// skips.
package kv
