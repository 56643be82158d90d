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
//
// Limits that remain, where a test must skip or use a real server:
// no UploadPartCopy (multipart copy); GET ignores If-Match;
// Cache-Control, Content-Language and Expires are not stored;
// CompleteMultipartUpload ignores If-None-Match; PutObject with If-Match
// on a missing key answers 412 where MinIO, versitygw and moto answer
// 404; paged listings with a
// delimiter repeat common prefixes (storage.Storage.List skips the
// repeats); ListObjectsV2 ignores EncodingType=url; keys holding control
// characters come back mangled.
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
//	func TestRename(t *testing.T) {
//		s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
//			tg.SkipIf(t, tg.Caps.NoUploadPartCopy, "UploadPartCopy")
//			// use tg.Storage ...
//		})
//	}
//
// [NewBucketName] and [RemoveBucket] help tests that need more buckets.
package s3test
