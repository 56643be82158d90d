// Package kvtest is the conformance suite for kv.Store implementations:
// one call checks that a store keeps the whole contract of package kv, and
// the contract of each optional ability it has.
//
// Call Run from a test of your own, with a function that makes a fresh,
// empty store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
//			s := mystore.New(...)        // empty, private to this subtest
//			t.Cleanup(func() { s.Close() })
//			return s
//		}, nil)
//	}
//
// # What it checks
//
// Run's subtests, each on a fresh store:
//
//   - Basic: round trips of text, empty, nil, binary (every byte value,
//     zero bytes) and large (over 5 MiB) values; overwrite; the caller
//     owns what Get returns and Set keeps no reference; missing keys (Get
//     gives kv.ErrNotFound, Has false, Delete nil); Delete.
//   - Keys: odd keys (space, unicode, + % ? # & = ; and other punctuation,
//     a//b, dot segments, keys differing only in case), the longest key
//     (kv.MaxKeyLen bytes with the store's prefix), and invalid keys
//     (empty, not UTF-8, too long) refused with kv.ErrInvalidKey by every
//     method. For a kv.KeyChecker, that its CheckKey agrees with its Set on
//     the odd keys and on keys some stores refuse (control characters,
//     noncharacters, dot segments): accepted by both, or refused by both
//     with kv.ErrInvalidKey. An odd key the store's CheckKey refuses is
//     skipped in the odd-keys test.
//   - Listing: byte-wise order; each range lists afresh; Set and Delete
//     inside the loop; Options.ManyKeys keys, written concurrently, listed
//     across pages; breaking out early, with no goroutine left behind;
//     a listing failure reaching the error function.
//   - Concurrency: writers and readers at once, and one Keys sequence
//     ranged from several goroutines at once, each range listing every
//     key (kv.Store's promise; run with -race).
//   - Context: every method, with a cancelled context, returns an error
//     that errors.Is context.Canceled, and does nothing.
//   - Versioned, Batcher, PrefixLister: the contract of each optional
//     ability, skipped when the store lacks it. Versioned includes the
//     counter proof: 8 goroutines each add one to a counter 50 times
//     through kv.Update, and the counter must end at exactly 400.
//   - BatchFunctions: kv.GetMany, kv.SetMany and kv.DeleteMany on the store.
//
// Then all of it again on kv.WithPrefix(store, Prefix), in the group
// "WithPrefix", which also checks that the prefix isolates its keys and
// that the prefixed store follows kv's ability rule (Versioned exactly when
// the store is; always a Batcher, a PrefixLister and a KeyChecker).
//
// # Stores that differ
//
// Options says what the suite cannot know: how many bytes of prefix the
// store puts before every key (KeyPrefixLen), a store whose listing fails
// (FailingKeys), odd keys a server cannot hold (UnsupportedKeys) and
// subtests a store cannot pass (Skip). Each skip names its reason in the
// test output; a Skip entry that names no subtest fails the "Options"
// subtest. A store that puts a prefix before its keys must also be a
// kv.KeyChecker, so that kv.WithPrefix and the batch functions can refuse
// a key too long for it before anything is written.
//
// Run takes about as many requests as a few thousand keys need; against
// an in-process S3 server it runs in seconds. It counts goroutines in one
// subtest, so do not run it in parallel with other tests.
package kvtest
