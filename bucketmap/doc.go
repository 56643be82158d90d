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
// Key k is the object prefix+k. Keys are non-empty valid UTF-8, with no
// control characters (S3 lists them back mangled), and prefix+key is at
// most 1024 bytes; anything else fails with an error that errors.Is
// kv.ErrInvalidKey before any request is sent. Some servers refuse or
// rewrite keys holding "//", "/./" or "/../" (see SERVERS.md), and servers
// that keep objects as files (MinIO, versitygw) cannot hold a key "a" beside
// keys below it such as "a/b": versitygw refuses the second write and MinIO
// drops one of them from listings. Where that matters, keep leaf keys and
// "directory" keys apart (for example "a/value" and "a/b").
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
