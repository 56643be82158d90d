// Package bucketmap makes an S3 bucket, or the part of it under a key
// prefix, usable as a Go map: Get, Set, Has, Delete and Keys, with the S3
// side (metadata, server-side copy, batch delete, conditional writes)
// within reach. It is the Go successor of the Python s3bucketmap.
//
// A *BucketMap implements kv.Store[[]byte], so the layers of package kv
// (a prefix, a cache, a typed codec, compression) stack over it, and
// kv.Update gives atomic read-modify-write on it.
//
//	st, _ := storage.Open(ctx, cfg)
//	m, _ := bucketmap.New(st, storage.Name{Key: "app/"}, nil)
//	m.Set(ctx, "greeting", []byte("hello"))   // object app/greeting
//	users := m.Sub("users/")                   // keys under app/users/
//
// Every request goes through package storage: BucketMap builds none of
// its own.
//
// # Keys
//
// Key k is the object prefix+k. Keys are non-empty valid UTF-8 and
// prefix+key is at most 1024 bytes. BucketMap also refuses what S3 servers
// rewrite or cannot list back byte for byte:
//
//   - control characters (U+0000 to U+001F and U+007F) and the
//     noncharacters U+FFFE and U+FFFF, which XML cannot carry: servers list
//     them mangled, and the batch delete behind Clear and DeleteMany leaves
//     such objects in place (see storage.CheckKey);
//   - an object name with a "." or ".." path segment, an empty segment
//     ("a//b") or a leading "/": servers that keep objects as files resolve
//     them (versitygw writes "alice/../bob/x" as "bob/x", outside a
//     sub-map's prefix, and "/x" as "x") or refuse them after the request
//     is sent (MinIO). A dot inside a name (".x", "a..b") is fine, and so
//     is a trailing "/".
//
// Anything else fails with an error that errors.Is kv.ErrInvalidKey,
// saying why, before any request is sent; CheckKey gives the same verdict
// without I/O. New and Sub refuse a prefix with such a segment the same
// way. The other noncharacters (U+FDD0 to U+FDEF, U+1FFFE, ...), U+FFFD,
// C1 controls and unnormalised Unicode list back byte for byte on every
// server tested (docs/servers.md in the repository says what each server
// does).
//
// A key equal to the map's prefix is not a key of the map: for
// m.Sub("t"), the object "t" itself is neither listed, counted nor
// cleared.
//
// Servers that keep objects as files (MinIO, versitygw) cannot hold a key
// "a" beside keys below it such as "a/b": versitygw refuses the second
// write and MinIO drops one of them from listings. Where that matters, keep
// leaf keys and "directory" keys apart (for example "a/value" and "a/b").
// versitygw also refuses a non-empty value under a key ending in "/".
//
// # Errors
//
// A missing key: Get returns an error that errors.Is both kv.ErrNotFound
// and storage.ErrNotFound; Has returns false, nil; Delete returns nil. A
// missing bucket or a 403 is an error, never "missing". A failed condition
// (SetIfAbsent, CompareAndSwap, CompareAndDelete) errors.Is both
// kv.ErrConflict and storage.ErrPreconditionFailed. Errors unwrap to the
// *storage.Error and through it to the SDK's error; errors from the
// context are kept (errors.Is(err, context.Canceled)).
//
// # Iteration
//
// Keys, KeysWithPrefix and All return a sequence and an error function:
//
//	keys, errf := m.Keys(ctx)
//	for k := range keys { ... }
//	if err := errf(); err != nil { ... }
//
// Keys come in S3's byte-wise order, one page of 1000 at a time, so memory
// does not grow with the number of keys. Breaking out early is safe and
// stops the listing. Each range lists afresh. All also fetches a bounded
// number of values ahead, in parallel.
//
// # Versions and conditional writes
//
// A key's version is its ETag. GetVersion, SetIfAbsent (If-None-Match: *),
// CompareAndSwap (If-Match) and CompareAndDelete make kv.Update safe when
// several writers update one key. GetIfChanged is a conditional GET: when
// the version is still current, S3 answers 304 and no value moves.
//
// # Concurrency
//
// A BucketMap is safe for concurrent use. Batches (GetMany, SetMany) and
// All run at most Options.Concurrency requests at once; DeleteMany and
// Clear use DeleteObjects, 1000 keys a request.
package bucketmap
