// Package kv is the contract of a map-like store with string keys
// (Store), its reference implementation in memory (Memory), and functions
// and layers that work on any store: WithPrefix, Update, GetMany, SetMany
// and DeleteMany, typed values, compression, caching and a local directory.
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
// Keys are opaque: "a//b", "a/./b", "with space" and "50%" are all
// distinct keys, stored as given. Keys are listed in byte-wise lexical
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
// range over the sequence lists afresh. The loop body may call the store,
// including Set and Delete: Memory holds no lock while it runs.
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
//     a time. The package functions GetMany, SetMany and DeleteMany use it
//     when present and otherwise make single calls, BatchConcurrency at a
//     time.
//   - PrefixLister: KeysWithPrefix lists only the keys under a prefix (S3:
//     a listing with Prefix). WithPrefix uses it.
//   - KeyChecker: CheckKey tells, without I/O, whether the store's methods
//     would accept a key.
//
// WithPrefix keeps exactly the Versioned, Batcher and PrefixLister
// abilities of the store under it, so wrapping a store in a prefix never
// hides or invents one.
//
// # Layers
//
// Each layer is a Store over another store, and passes kvtest.Run:
//
//   - Typed(s, JSON[V]()) or Gob, or any Codec: values of type V over
//     bytes. A value that does not decode is an error naming the key that
//     errors.Is ErrCorrupt.
//   - Compressed(s, opts): zstd; values stored before compression was
//     turned on are read as they were.
//   - NewCache(back, opts): read-through, write-through memory cache,
//     bounded by bytes, with a TTL; over a Versioned store an expired entry
//     is revalidated with GetIfChanged (with S3, a 304 that moves no value).
//   - NewDir(path, opts): a store in a local directory, with atomic writes;
//     no key reaches outside it.
//   - NewTiered(near, far, opts): near (a Dir) as a cache of far (a
//     BucketMap), revalidating disk hits when far is Versioned. With a
//     Cache above it: memory over disk over S3.
//
// Typed and Compressed keep the abilities of the store under them, so
// Update works through them.
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
