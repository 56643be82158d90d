package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Info describes a stored object.
type Info struct {
	Name         Name
	Size         int64
	ETag         string // as the server gives it, quotes included
	LastModified time.Time
	ContentType  string
	// Metadata is the user metadata; empty (never nil) when there is none.
	Metadata Metadata
	// Headers are the standard headers stored with the object
	// (content-type, cache-control, content-disposition, content-encoding,
	// content-language, expires, storage class, server-side encryption),
	// by lower-case name; only those the server reported.
	Headers Headers
	// IsPrefix marks a common prefix from a listing with a Delimiter: a
	// "directory", with only Name set.
	IsPrefix bool
}

// objectFields are the fields HeadObject and GetObject share.
type objectFields struct {
	size                                   *int64
	etag, ct, cc, cd, ce, cl, expires, kms *string
	lastModified                           *time.Time
	storageClass                           types.StorageClass
	sse                                    types.ServerSideEncryption
	meta                                   map[string]string
}

func (f objectFields) info(n Name) Info {
	in := Info{
		Name:         n,
		Size:         aws.ToInt64(f.size),
		ETag:         aws.ToString(f.etag),
		LastModified: aws.ToTime(f.lastModified),
		ContentType:  aws.ToString(f.ct),
		Metadata:     metadataFromSDK(f.meta),
		Headers:      Headers{},
	}
	set := func(name string, v *string) {
		if v != nil && *v != "" {
			in.Headers[name] = *v
		}
	}
	set(hContentType, f.ct)
	set(hCacheControl, f.cc)
	set(hContentDisposition, f.cd)
	set(hContentEncoding, f.ce)
	set(hContentLanguage, f.cl)
	set(hExpires, f.expires)
	set(hSSEKMSKeyID, f.kms)
	if f.storageClass != "" {
		in.Headers[hStorageClass] = string(f.storageClass)
	}
	if f.sse != "" {
		in.Headers[hSSE] = string(f.sse)
	}
	return in
}

func headInfo(n Name, o *s3.HeadObjectOutput) Info {
	return objectFields{o.ContentLength, o.ETag, o.ContentType, o.CacheControl, o.ContentDisposition, o.ContentEncoding, o.ContentLanguage, o.ExpiresString, o.SSEKMSKeyId, o.LastModified, o.StorageClass, o.ServerSideEncryption, o.Metadata}.info(n)
}

func getInfo(n Name, o *s3.GetObjectOutput) Info {
	return objectFields{o.ContentLength, o.ETag, o.ContentType, o.CacheControl, o.ContentDisposition, o.ContentEncoding, o.ContentLanguage, o.ExpiresString, o.SSEKMSKeyId, o.LastModified, o.StorageClass, o.ServerSideEncryption, o.Metadata}.info(n)
}

// Stat returns the object's info (a HEAD request).
func (s *Storage) Stat(ctx context.Context, n Name) (_ Info, err error) {
	const op = "Stat"
	ctx, ob := s.begin(ctx, op, n)
	defer func() { ob.end(err, 0, 0) }()
	n, err = s.resolve(op, n, true)
	if err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &n.Bucket, Key: &n.Key})
	if err != nil {
		return Info{}, opError(ctx, op, n, err)
	}
	return headInfo(n, out), nil
}

// Exists reports whether the object exists, with its metadata when it
// does. A missing object is (false, nil, nil); a missing bucket, a 403 or
// any other failure is an error, never "false".
//
// A HEAD reply has no body, so a 404 does not say whether the key or the
// bucket is missing: the first 404 in a bucket is checked with a HEAD on the
// bucket, and buckets found are remembered for the Storage's lifetime.
func (s *Storage) Exists(ctx context.Context, n Name) (_ bool, _ Metadata, err error) {
	const op = "Exists"
	ctx, ob := s.begin(ctx, op, n)
	defer func() { ob.end(err, 0, 0) }()
	info, err := s.Stat(ctx, n)
	switch {
	case err == nil:
		return true, info.Metadata, nil
	case ctx.Err() != nil || !errors.Is(err, ErrNotFound):
		return false, nil, renameOp(err, op)
	}
	n, _ = s.resolve(op, n, true) // Stat succeeded in resolving it
	if !s.bucketKnown(n.Bucket) {
		ok, err := s.BucketExists(ctx, n.Bucket)
		switch {
		case err != nil:
			return false, nil, renameOp(err, op)
		case !ok:
			return false, nil, &Error{Op: op, Name: n, Err: fmt.Errorf("bucket %q does not exist", n.Bucket), kinds: []error{ErrNotFound, ErrBucketNotFound}}
		}
	}
	return false, nil, nil
}

// Delete removes the object. Deleting a missing object is not an error (S3
// answers 204 either way).
func (s *Storage) Delete(ctx context.Context, n Name) (err error) {
	const op = "Delete"
	ctx, ob := s.begin(ctx, op, n)
	defer func() { ob.end(err, 0, 0) }()
	n, err = s.resolve(op, n, true)
	if err != nil {
		return err
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &n.Bucket, Key: &n.Key})
	return opError(ctx, op, n, err)
}

// PutOptions tune Put. A nil *PutOptions means none.
type PutOptions struct {
	// Headers: user metadata and standard headers, as for Write.
	Headers Headers
	// IfNoneMatch "*" writes only if the key has no object.
	IfNoneMatch string
	// IfMatch writes only if the object's ETag is this one.
	IfMatch string
	// Size, when known and > 0, is the body's exact length. For a reader
	// that cannot seek it lets a conditional write of up to 5 GiB stream
	// as one atomic PutObject instead of going in parts; a reader whose
	// length differs fails with ErrInvalidHeader and stores nothing.
	Size int64
}

// Put uploads the object from r, whose length may be unknown, and returns
// the new object's info (Name, Size, ETag).
//
// A reader that can seek (a file, a bytes.Reader) is read in place: its
// parts go through io.SectionReader and are never copied. A reader that
// cannot seek is read into at most 2 part buffers of its part size (6 MiB
// unless Options.PartSize is set). Every
// request carries the body's MD5 (Content-MD5, checked by the server) and,
// where the server keeps them, a full-object CRC32C checksum
// (x-amz-checksum-crc32c), which verified reads check. Unconditional
// bodies over MultipartThreshold go up in parts, Concurrency at once.
//
// With IfNoneMatch or IfMatch, a failed condition is an error that
// errors.Is ErrPreconditionFailed, and only a real conflict is: the write
// is exactly once. Up to 5 GiB a conditional write goes as one PutObject
// (streamed; for a reader that cannot seek, give Size, else a body over
// PartSize goes in parts), so the condition and the write are one atomic
// step on every server that honours conditions on PutObject. Larger bodies
// go in parts with the condition on CompleteMultipartUpload, which some
// servers ignore (moto 5.2.1 ignores If-Match there). Conditional requests
// are never retried blindly by the SDK: after a failure that may hide a
// stored write (no reply, a timeout, a 5xx, or a 412, 409 or 404 after
// one), Put looks at the stored object. Each conditional write stores a
// token of its own in reserved metadata (x-amz-meta-s3map-write, hidden
// from Metadata): the stored object carrying it is ours, so success,
// whatever another writer stored; without room for it in the metadata, the
// ETag as the MD5 of what was sent, or the CRC32C and size, decide. The
// stored state the condition asked for (the old ETag for IfMatch, no object
// for IfNoneMatch) means it did not land: it is sent again within the
// client's attempt budget. Anything else (ours may have landed and been
// replaced) is an error that errors.Is ErrOutcomeUnknown, never
// ErrPreconditionFailed.
//
// No multipart upload outlives Put: a failure or cancellation aborts it,
// and a reply of CreateMultipartUpload that was lost is followed by a look
// for the upload it made (see AbortUploads for crashed processes). That
// clean-up runs on a fresh context: Put returns at most 30 seconds after
// ctx is done.
func (s *Storage) Put(ctx context.Context, dst Name, r io.Reader, opts *PutOptions) (Info, error) {
	return s.put(ctx, "Put", dst, r, opts)
}

// classifyInput returns the kinds of an input error from parseHeaders.
func classifyInput(err error) []error {
	for _, k := range []error{ErrMetadataTooLarge, ErrInvalidHeader} {
		if errors.Is(err, k) {
			return []error{k}
		}
	}
	return nil
}

// DeleteIf deletes the object only if its ETag is etag (DeleteObject with
// If-Match). Otherwise, including when the object is missing, it returns an
// error that errors.Is ErrPreconditionFailed.
//
// It is exactly once as conditional writes are (see Put): the request is
// not retried blindly; after a failure that may hide a delete, a HEAD
// decides. The object still there with etag means the delete did not land:
// it is sent again. The object gone means success: the object with etag no
// longer exists, though another client may have deleted it in the same
// moment. Another object there is ErrOutcomeUnknown.
//
// The condition needs the server's support. AWS S3 and moto honour it;
// versitygw 1.8.0 refuses another ETag but deletes nothing and answers
// success for a missing key; MinIO ignores If-Match on DELETE and deletes
// unconditionally, so do not rely on DeleteIf there.
func (s *Storage) DeleteIf(ctx context.Context, n Name, etag string) (err error) {
	const op = "DeleteIf"
	ctx, ob := s.begin(ctx, op, n)
	defer func() { ob.end(err, 0, 0) }()
	n, err = s.resolve(op, n, true)
	if err != nil {
		return err
	}
	if etag == "" {
		return inputError(op, n, ErrInvalidHeader, "empty ETag")
	}
	in := &s3.DeleteObjectInput{Bucket: &n.Bucket, Key: &n.Key, IfMatch: &etag}
	return s.exactlyOnce(ctx, op, n, writeCond{ifMatch: etag}, "DeleteObject",
		func(ctx context.Context) error {
			_, err := s.client.DeleteObject(ctx, in, oneAttempt)
			return err
		},
		func(ctx context.Context, _ error) (verdict, string, error) {
			out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &n.Bucket, Key: &n.Key})
			switch {
			case err == nil && aws.ToString(out.ETag) == etag:
				return verdictNotApplied, etag, nil
			case err == nil:
				return verdictUnknown, aws.ToString(out.ETag), nil
			case httpStatus(err) == http.StatusNotFound && ctx.Err() == nil:
				return verdictOurs, "", nil
			}
			return verdictUnknown, "", err
		},
		func() bool { return true })
}
