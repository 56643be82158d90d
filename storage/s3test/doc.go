// Package s3test is to S3 what net/http/httptest is to HTTP: an
// in-process, in-memory S3 server for tests and examples, and a harness
// that runs the same test against it and against real S3 servers.
//
// # The in-process server
//
// [NewServer] starts a server on 127.0.0.1 with one empty bucket,
// [DefaultBucket]. It takes no *testing.T, so Example functions can use it.
// [Server.URL] is its base URL, [Server.Config] a storage.Config that
// reaches it (path style, plain HTTP, region us-east-1, the fixed
// credentials [AccessKeyID] and [SecretAccessKey], DefaultBucket as the
// default bucket), [Server.Storage] a storage.Storage connected with that
// config, and [Server.Close] stops it and drops its data:
//
//	srv := s3test.NewServer()
//	defer srv.Close()
//	st := srv.Storage()
//	_, err := st.Put(ctx, storage.Name{Key: "k"}, strings.NewReader("v"), nil)
//
// The server is gofakes3 with its s3mem backend, corrected where package
// storage relies on S3 behaviour that gofakes3 lacks:
//
//   - A CopyObject with MetadataDirective REPLACE keeps only the user
//     metadata the request names (gofakes3 merges in the source's), so
//     storage.Storage.UpdateMetadata can remove metadata.
//   - An overwrite keeps only the new object's user metadata (s3mem merges
//     in the old object's).
//   - DeleteObject honours If-Match: 404 for a missing key, 412 for another
//     ETag.
//   - GET and HEAD honour If-Match: 412 for another ETag.
//   - PutObject with If-Match on a missing key answers 404 NoSuchKey, as
//     S3, MinIO, versitygw and moto do (s3mem answers 412).
//   - CompleteMultipartUpload honours If-None-Match "*" (412 if the key
//     exists) and If-Match (412 for another ETag, 404 for a missing key),
//     atomically with the write.
//   - CompleteMultipartUpload answers the ETag that HEAD, GET and listings
//     report later. That ETag is the MD5 of the whole object, where S3's
//     is the MD5 of the parts' MD5s with a "-N" suffix; code that checks a
//     body against its ETag must accept both.
//
// Limits that remain, each marked in [Caps] where a test depends on it:
// no UploadPartCopy (multipart copy); Cache-Control, Content-Language and
// Expires are not stored; paged listings with a delimiter repeat common
// prefixes (storage.Storage.List skips the repeats); ListObjectsV2 ignores
// EncodingType=url; a "+" in an unencoded CopySource is read as a space;
// keys holding control characters come back mangled, and keys holding
// U+FFFE or U+FFFF are listed as U+FFFD.
//
// # Running tests on every server
//
// [ForEach] runs a test function as one subtest per server: first the
// in-process server ([InProcess]), then every server named in the
// environment variable [EnvEndpoints], S3MAP_TEST_ENDPOINTS. Each subtest
// gets a [Target] with a new, empty bucket as its default bucket, which is
// emptied and deleted when the subtest ends.
//
// S3MAP_TEST_ENDPOINTS is a comma-separated list of name=url entries, each
// URL http or https with the credentials in it:
//
//	S3MAP_TEST_ENDPOINTS=minio=http://minioadmin:minioadmin@127.0.0.1:9000,versitygw=http://test:testtesttest@127.0.0.1:7070
//
// [ParseEndpoints] reads that form; a malformed entry fails the test
// rather than being skipped. The name selects where the server is known to
// depart from S3 ("minio", "versitygw", "moto"; any other name is taken to
// be a full S3): [Caps] has one field per departure, whose zero value means
// "behaves like S3", and [Target.SkipIf] skips a test, saying why, where
// the server lacks what the test needs.
//
// What each server honours (conditions on PutObject, CompleteMultipartUpload,
// DELETE and GET; key shapes; copy directives; standard headers; listing
// quirks) is on the page docs/servers.md in s3map's repository, which a
// test keeps in step with Caps.
//
//	func TestRename(t *testing.T) {
//		s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
//			tg.SkipIf(t, tg.Caps.NoUploadPartCopy, "UploadPartCopy")
//			// use tg.Storage ...
//		})
//	}
//
// [NewBucketName] and [RemoveBucket] help tests that need more buckets.
//
// # Fault injection
//
// An [Injector] injects the faults of a real network into S3 requests, so
// that a test can prove what code does when a reply is lost, a server is
// busy or a body arrives damaged. It sits in front of any server, the
// in-process one or a real endpoint, as a reverse proxy on 127.0.0.1
// ([Injector.Proxy]; [Target.WithFaults] starts one in front of a test's
// target), or inside a client as an http.RoundTripper
// ([Injector.Transport]).
//
// Each [Kind] of fault acts on one request: a TCP reset before the request
// is forwarded ([ResetBefore]), after the server did the work so that its
// reply is lost ([ResetAfter]), or in the middle of a reply's body
// ([ResetMidBody]); a 503 SlowDown or 500 InternalError with an S3 XML
// body, before the request reaches the server or instead of its reply
// ([SlowDownBefore], [SlowDownAfter], [InternalErrorBefore],
// [InternalErrorAfter]); a [Delay]; a 2xx body cut short with a matching
// Content-Length, so the client sees a clean short reply ([CutBody]); one
// byte of a 2xx body changed ([ChangeByte]).
//
// Faults are chosen at random, at [FaultOptions.Rate] of requests from a
// seed (the same seed and the same sequence of requests give the same
// faults), limited to some kinds or operations if wished; or scripted for
// the next requests of an S3 operation, named as [Operation] names a
// request ("PutObject", "CompleteMultipartUpload" ...):
//
//	inj := s3test.NewInjector(&s3test.FaultOptions{Rate: 0.05, Seed: 1})
//	ftg := tg.WithFaults(t, inj)
//	inj.Script("PutObject", s3test.ResetAfter) // the next PutObject's reply is lost
//	// use ftg.Storage; then check the server through tg.Storage
//	t.Log(inj.Faults(), inj.Stats())
//
// [Injector.Faults] lists what was injected and [Injector.Stats] counts
// requests and faults. The proxy streams bodies (objects of any size pass
// through without being held whole) and resets with SO_LINGER 0. The
// AWS SDK retries resets, 500 and 503 replies (up to 3 attempts by
// default); at 7 % faults its retry quota is not exhausted.
package s3test
