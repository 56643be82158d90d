// Package storage is the S3 layer of s3map: names, configuration, objects
// as files and as streams, user metadata and standard headers, server-side
// copy, listing, batch delete, buckets and presigned URLs, for AWS S3 and
// S3-compatible servers (MinIO, versitygw, moto, ...). It knows nothing of
// maps; package bucketmap builds on it.
//
// A [Storage] wraps an aws-sdk-go-v2 S3 client. [Open] makes one from a
// [Config]; [New] wraps a client the caller already has:
//
//	cfg, err := storage.LoadConfig("s3.yaml")
//	if err != nil { ... }
//	st, err := storage.Open(ctx, cfg)
//	if err != nil { ... }
//	err = st.Write(ctx, "report.pdf", storage.Name{Key: "reports/2024.pdf"},
//		storage.Headers{"x-amz-meta-state": "final"})
//
// The seed's six operations are [Storage.Write], [Storage.Read],
// [Storage.Exists], [Storage.Delete], [Storage.Copy] and
// [Storage.UpdateMetadata]. [Storage.Put] and [Storage.Get] stream any
// io.Reader up and any object down without holding it in memory; large
// objects move in parts, several at a time.
//
// # Names and the default bucket
//
// A [Name] is a bucket and a key. [ParseName] reads the "s3://bucket/key"
// form and [Name.String] writes it; the key is everything after the slash
// that ends the bucket, taken as it is (no percent-decoding), so
// "s3://bucket/a//b" names the key "a//b". An empty Bucket ("s3:///key")
// means the Storage's default bucket, set by Config.DefaultBucket or
// Options.DefaultBucket; with no default bucket such a name fails with
// [ErrNoBucket]. The bucket operations take "" for the default bucket too
// ([Storage.CreateBucket], [Storage.BucketExists], [Storage.List],
// [Storage.DeleteMany]). [CheckBucket] is the check every operation applies
// to a bucket name; [Storage.CreateBucket] applies S3's stricter rules for
// new buckets, and refuses a bucket that exists already with
// [ErrBucketExists] on every server.
//
// Keys are valid UTF-8, 1 to [MaxKeyLen] (1024) bytes, without control
// characters (S3 stores those, but listings return them mangled or as XML
// that does not parse). Any other key is an [ErrInvalidName] error before a
// request is sent. Keys with spaces, unicode and "+ % ? # &" are fine; a
// copy's source is percent-encoded so that "+" is not read as a space.
//
// # Config
//
// [LoadConfig] reads a YAML file, the fields either at the top level or
// under "s3:", as the seed's s3.yaml has them:
//
//	s3:
//	  access_key_id: "XXXXX"
//	  secret_access_key: "YYYYYYY"
//	  default_bucket: "ZZZZZZZ"
//	  endpoint: "127.0.0.1:9000"   # host:port or URL; empty for AWS
//	  region: us-east-1
//	  tls: false                   # http for an endpoint without scheme
//	  path_style: true             # the default for a custom endpoint
//	  retry_max_attempts: 5
//	  retry_mode: adaptive         # or standard
//	  checksums: when_required     # the default for a custom endpoint
//	  part_size: 16MiB             # or bytes: 16777216
//	  concurrency: 8
//
// Without keys, credentials and region come from the standard AWS chain
// (environment, shared config, the named profile). An unknown field (with
// a "did you mean" when one known field is close), a bad value, bad YAML,
// a second YAML document or an empty "s3:" section is an [ErrInvalidConfig]
// error naming the file and, where the YAML tells, the line and the field.
// Endpoints with another scheme, user info, a path, a query or a bad port,
// and regions not shaped like one, are refused the same way, before any
// request. A "host:port" endpoint is https unless tls is false: against a
// plain-HTTP server, set "tls: false" or write an http:// URL.
//
// Formatting or marshalling a Config (every fmt verb, String, GoString,
// json.Marshal, yaml.Marshal, log/slog's text and JSON handlers, nested in
// structs and groups) shows the secret key and session token as REDACTED,
// and no error shows them, even when one was pasted into another field. A
// marshalled Config therefore loads back without its secrets.
//
// # Headers and metadata
//
// Writes take [Headers]: user metadata as "x-amz-meta-*" headers and the
// standard headers S3 keeps with an object (Content-Type, Cache-Control,
// Content-Disposition, Content-Encoding, Content-Language, Expires,
// x-amz-storage-class, x-amz-server-side-encryption and its KMS key id,
// x-amz-tagging, x-amz-acl). Names are case-insensitive. An unknown header,
// the same header twice in different case, a control character, a bad date
// or an unknown storage class, encryption or ACL, and x-amz-tagging that S3
// would refuse (not URL-encoded key=value pairs joined by '&', over 10
// tags, keys repeated, empty, over 128 characters or starting with "aws:",
// values over 256, characters other than letters, digits, spaces and
// + - = . _ : / @) is an [ErrInvalidHeader]
// error, and user metadata over [MaxMetadataSize] (2 KB, names without the
// prefix plus values, as sent) is [ErrMetadataTooLarge], both before
// anything is sent. Nothing is dropped silently.
//
// Reads return [Metadata] keyed by lower-case "x-amz-meta-*" names, so
// metadata read back equals the Headers written when those held only
// metadata in lower case. A value is encoded on write only when it could
// not otherwise be sent or read back: printable ASCII goes as it is
// ("x=?y" included), so every client reads what was written. Values that
// are not ASCII, that have spaces at either end (which HTTP trims), or that
// hold an RFC 2047 encoded word themselves are sent as one base64 encoded
// word ("=?UTF-8?b?...?="), as S3 itself returns non-ASCII metadata, and
// decoded on the way back: "Zürich" and "日本語" come back as they went.
//
// Reads decode every RFC 2047 word in a value, whoever wrote it: a value
// another client stored as "=?utf-8?q?a_b?=" reads as "a b". Other clients
// see s3map's encoded values as they are stored; boto3 and the aws CLI
// show the raw word, which Python turns back into the text with the
// standard library:
//
//	from email.header import decode_header, make_header
//	value = str(make_header(decode_header(raw)))
//
// [Storage.Copy] takes the destination's metadata from its headers when
// they hold any x-amz-meta-*, and from the source otherwise: then the
// server copies it (the COPY metadata directive), or s3map sends the
// source's values as the server returned them, never decoded and
// re-encoded, so metadata another client wrote arrives byte for byte.
// [Storage.UpdateMetadata] replaces the metadata of an object in place.
// Either way Content-Type and the other standard headers of the source
// survive unless the headers give new ones.
//
// # Writes
//
// [Storage.Put], [Storage.Write], [Storage.NewWriter] (and bucketmap's
// Set, SetFrom and NewWriter) share one upload path over service/s3. A
// file, or any reader that can seek, is read in place through
// io.SectionReader, so an upload holds no part in memory (a 256 MiB file:
// 18 MiB peak RSS in a small program); a stream that cannot seek is read
// into at most 2 part buffers of its part size (6 MiB unless
// Options.PartSize is set: 29.5 MiB peak RSS for 256 MiB). Every request carries the
// body's CRC32C (x-amz-checksum-crc32c, a full-object checksum for
// multipart uploads) and, unless the server is known to keep CRC32C, its
// MD5 (Content-MD5); the server refuses a body that does not match, and
// verified reads check the stored checksum later. A server that does not
// keep checksums (moto 5.2.1, the in-process server) is found out from its
// first reply and written without them: moto stores a wrong full-object
// value for a multipart upload that declares one.
//
// Conditional writes (IfMatch, IfNoneMatch) happen exactly once. They are
// never retried blindly: after a failure that may hide a stored write (no
// reply, a timeout, a 5xx, or a 412, 409 or 404 after one), a HEAD decides.
// Each conditional write stores a random token of its own in reserved
// metadata (x-amz-meta-s3map-write, refused in Headers and never shown in
// Metadata; other clients see it): the stored object carrying our token is
// ours, and success. Without room for the token (user metadata within 37
// bytes of [MaxMetadataSize]), the bytes decide instead: the ETag as the
// MD5 of what was sent (for parts, the MD5 of their MD5s with "-N"), or the
// CRC32C and size; then another writer storing the very same bytes in that
// moment would be taken for ours. The state the condition asked for (the
// old ETag, or no object) means the request did not land, and it is sent
// again within the client's attempt budget; a body that never went out
// whole cannot have been stored, so another object there is a real
// conflict ([ErrPreconditionFailed]); anything else is [ErrOutcomeUnknown]
// (ours may have landed and been replaced), never [ErrPreconditionFailed].
// A request the server applies only after the check (held inside the
// server past its lost reply) is not seen: that is the residue.
// [Storage.DeleteIf] follows the same rule; the object gone after
// an ambiguous attempt counts as deleted.
//
// Up to 5 GiB a conditional write goes as one PutObject, so the condition
// and the write are one atomic step on every server that honours
// conditions on PutObject. Larger bodies, and streams of unknown length
// over one part, go in parts with the condition on
// CompleteMultipartUpload, which some servers ignore (moto 5.2.1 ignores
// If-Match there); give PutOptions.Size for a stream to keep it one
// PutObject.
//
// No multipart upload outlives the write that made it. A failure or a
// cancellation aborts the upload on a fresh context; a stalled abort is
// given up after 10 seconds and sent again, and an upload that a part in
// flight brought back is aborted again. A CreateMultipartUpload whose
// reply was lost may have made an upload nobody knows: the uploads of the
// key are listed before and after, and the new ones that are not ours are
// aborted (a concurrent writer's upload of the same key begun in that
// moment is aborted too; its write fails, it stores nothing wrong). This
// clean-up is bounded: a write returns at most 30 seconds after its
// context is done. A CompleteMultipartUpload whose reply was lost with the
// object stored whole is success. What a crashed process leaves is
// removed by [Storage.AbortUploads]; on AWS add a lifecycle rule with
// AbortIncompleteMultipartUpload as well.
//
// Options.Logger (a *slog.Logger; nil is silent) receives what the library
// decides on its own: each resolution of an ambiguous write with its
// verdict, retries, aborts and failed aborts. Nothing is written to the
// global log or to stderr. Options.Concurrency is at most [MaxConcurrency]
// and PartSize at most [MaxPartSize], so no setting can exhaust memory.
//
// # Observability and SDK middleware
//
// Options.Observer (an [Observer]; nil for none) is told when each
// operation begins and ends, with its outcome ([Outcome]: "ok",
// "not_found", "precondition_failed", ...) and the object bytes moved, and
// of retries, writes resolved after a lost reply (with the verdict) and
// corrupt bodies. Operations run with the context its Begin returns, so a
// tracer's span there is the parent of the S3 requests' spans. Package
// storage/s3otel builds one from OpenTelemetry (spans and metrics); it is
// the only package that imports OpenTelemetry.
//
// Options.APIOptions adds SDK middleware (smithy-go's
// func(*middleware.Stack) error) to every request, for the client
// [OpenWith] builds as for one given to [New]. [Open] is [OpenWith]
// without Options.
//
// # Errors
//
// Errors from a Storage are [*Error] values: the operation, the name, and
// the cause. errors.Is matches the sentinel for the kind of failure
// ([ErrNotFound], [ErrBucketNotFound], [ErrForbidden],
// [ErrPreconditionFailed], [ErrNotModified], [ErrBucketExists],
// [ErrBucketNotEmpty], and the input errors above), and Unwrap reaches the
// cause: for a server's reply the SDK's error, which errors.As turns into a
// smithy.APIError with the S3 error code. Error() stays short, as
// "storage: Get s3://b/k: not found (404 NoSuchKey)": the kind, the HTTP
// status and the S3 code, without the SDK's request and host IDs. A
// "host:port" endpoint (https by default) against a plain-HTTP server
// fails saying to set tls: false or use an http:// endpoint. A 403 is [ErrForbidden], never
// "not found". A cancelled or expired context is returned as it is:
// errors.Is(err, context.Canceled) holds. [Storage.DeleteMany] reports the
// keys that failed in a [*BatchError], one [KeyError] each.
//
//	_, err := st.Get(ctx, name, nil)
//	switch {
//	case errors.Is(err, storage.ErrNotFound):
//		// no such object
//	case errors.Is(err, context.Canceled):
//		// the caller gave up
//	}
//
// # Verified reads
//
// Every body [Storage.Get] and [Storage.Read] return is checked against
// its length and, where the server vouches for one, a digest: a
// full-object x-amz-checksum-* value (CRC32C, CRC32, CRC64NVME, SHA1,
// SHA256), asked for with checksum mode ENABLED, else the ETag when it is
// the MD5 of the body (objects written in one part, without SSE-KMS or
// SSE-C), else the length alone. Composite multipart checksums ("...-N")
// cannot be checked on a whole body, and a checksum on a reply for part of
// an object is not trusted. A body that fails is an error that errors.Is
// [ErrCorrupt], never data: the [Reader]'s final Read returns it instead of
// io.EOF, and Read leaves its target as it was. Objects other clients
// wrote without a checksum are still checked for length and, where the
// ETag is an MD5, for content. The SDK's own response validation is not
// used (it would hash every body twice and fails valid ranges on some
// servers). Which servers keep which checksums is written in verify.go.
//
// A connection that breaks in the middle of a body is resumed with a
// ranged GET from the byte reached, pinned with If-Match to the ETag first
// seen; the client's RetryMaxAttempts bounds the tries in a row without
// progress. Read's first request is one whole-object GET (no HEAD): it
// tells the size, the ETag and the checksum. Large objects (by default,
// those of 4 parts or more whose first part came slower than 128 MiB/s;
// see Options.ParallelReadThreshold) are also fetched in parallel byte
// ranges, each pinned to that ETag, written in place with WriteAt; part
// CRCs are combined into the whole object's. Memory stays at a few
// buffers of 256 KiB per stream, whatever the size.
//
// # Progress
//
// Long operations report their progress through the context, as
// net/http/httptrace reports a request's events: [WithProgress] returns a
// context under which Write, Read, Put, Get (through its Reader),
// NewWriter, Copy, UpdateMetadata and DeleteMany call a function with a
// [Progress] (operation, name, Done, Total or -1, bytes or keys), at most
// once per interval and once more at the end (Progress.Final), so the
// signatures of the seed's Write, Read and Copy stay as they are and one
// context drives a progress bar across layers (bucketmap's SetFrom is a
// Put, its Clear a DeleteMany). A context without it costs one
// context lookup per operation.
//
// Downloads count bytes as they arrive; uploads and copies count each part
// once the server has stored it (an object sent in one request counts at
// the end). A part sent again or a body resumed after a broken connection
// counts once, so Done never goes backwards and never exceeds Total; after
// a success with a known Total the final Done equals it.
//
// # Iteration
//
// [Storage.List] returns an iterator and an error function. The loop yields
// objects in S3's byte-wise key order, one page of requests at a time, so
// memory does not grow with the number of keys; the error function reports
// the first failure (a failed request, a cancelled context) once the loop
// is over. Breaking out of the loop early is safe and stops the requests.
// Each range lists afresh.
//
//	objects, errf := st.List(ctx, "", "photos/", nil)
//	for info := range objects {
//		fmt.Println(info.Name.Key, info.Size)
//	}
//	if err := errf(); err != nil { ... }
//
// # Concurrency
//
// A Storage is safe for concurrent use by many goroutines, as the SDK
// client under it is. Nothing stores a context: every I/O method takes one
// first, for that call only.
//
// # Testing
//
// Package [github.com/s3map/s3map/storage/s3test] starts an in-process,
// in-memory S3 server on 127.0.0.1, as net/http/httptest does for HTTP, and
// runs tests against it and against the real servers named in the
// S3MAP_TEST_ENDPOINTS environment variable. The examples in this package
// use it, so they run with no server and no credentials.
package storage
