package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
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
func (s *Storage) Stat(ctx context.Context, n Name) (Info, error) {
	const op = "Stat"
	n, err := s.resolve(op, n, true)
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
func (s *Storage) Exists(ctx context.Context, n Name) (bool, Metadata, error) {
	const op = "Exists"
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
func (s *Storage) Delete(ctx context.Context, n Name) error {
	const op = "Delete"
	n, err := s.resolve(op, n, true)
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
	// Size, when known and > 0, is the body's length; it saves buffering
	// for readers that cannot seek.
	Size int64
}

// Put uploads the object from r, whose length may be unknown. Large bodies
// go up in parts, Concurrency at once, so memory stays within about
// Concurrency × PartSize; a failed or cancelled upload is aborted, leaving
// no parts. It returns the new object's info (Name, Size, ETag).
//
// With IfNoneMatch or IfMatch, a failed condition is an error that
// errors.Is ErrPreconditionFailed.
func (s *Storage) Put(ctx context.Context, dst Name, r io.Reader, opts *PutOptions) (Info, error) {
	return s.put(ctx, "Put", dst, r, opts)
}

func (s *Storage) put(ctx context.Context, op string, dst Name, r io.Reader, opts *PutOptions) (Info, error) {
	if opts == nil {
		opts = &PutOptions{}
	}
	dst, err := s.resolve(op, dst, true)
	if err != nil {
		return Info{}, err
	}
	a, err := parseHeaders(opts.Headers)
	if err != nil {
		return Info{}, &Error{Op: op, Name: dst, Err: err, kinds: classifyInput(err)}
	}
	if opts.IfNoneMatch != "" && opts.IfNoneMatch != "*" {
		return Info{}, inputError(op, dst, ErrInvalidHeader, "IfNoneMatch must be \"*\" for a write, not %q", opts.IfNoneMatch)
	}
	if r == nil {
		r = strings.NewReader("")
	}
	var size func() int64
	body := r
	if seeker, ok := r.(io.ReadSeeker); ok {
		// The transfer manager learns the size from a seeker, and can
		// replay parts on retry: hand it over as it is.
		n, err := remaining(seeker)
		if err != nil {
			return Info{}, opError(ctx, op, dst, err)
		}
		size = func() int64 { return n }
	} else {
		c := &countingReader{r: r}
		body, size = c, func() int64 { return c.n }
	}
	in := &transfermanager.UploadObjectInput{
		Bucket:               &dst.Bucket,
		Key:                  &dst.Key,
		Body:                 body,
		Metadata:             a.metaOrNil(),
		ContentType:          a.str(hContentType),
		CacheControl:         a.str(hCacheControl),
		ContentDisposition:   a.str(hContentDisposition),
		ContentEncoding:      a.str(hContentEncoding),
		ContentLanguage:      a.str(hContentLanguage),
		Expires:              a.expires(),
		StorageClass:         tmtypes.StorageClass(a.storageClass()),
		ServerSideEncryption: tmtypes.ServerSideEncryption(a.sse()),
		SSEKMSKeyID:          a.str(hSSEKMSKeyID),
		Tagging:              a.str(hTagging),
		ACL:                  tmtypes.ObjectCannedACL(a.acl()),
	}
	if opts.Size > 0 {
		in.ContentLength = &opts.Size
	}
	conditional := false
	if opts.IfNoneMatch != "" {
		in.IfNoneMatch, conditional = &opts.IfNoneMatch, true
	}
	if opts.IfMatch != "" {
		in.IfMatch, conditional = &opts.IfMatch, true
	}
	out, err := s.tm.UploadObject(ctx, in)
	if err != nil {
		if conditional {
			return Info{}, conditionalWriteError(ctx, op, dst, err)
		}
		return Info{}, opError(ctx, op, dst, err)
	}
	return Info{Name: dst, Size: size(), ETag: aws.ToString(out.ETag), Metadata: Metadata{}, Headers: Headers{}}, nil
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

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// remaining returns how many bytes a seeker holds past its position.
func remaining(s io.Seeker) (int64, error) {
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	end, err := s.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := s.Seek(cur, io.SeekStart); err != nil {
		return 0, err
	}
	return end - cur, nil
}

// DeleteIf deletes the object only if its ETag is etag (DeleteObject with
// If-Match). Otherwise, including when the object is missing, it returns an
// error that errors.Is ErrPreconditionFailed.
//
// The condition needs the server's support. AWS S3 and moto honour it;
// versitygw 1.8.0 refuses another ETag but deletes nothing and answers
// success for a missing key; MinIO ignores If-Match on DELETE and deletes
// unconditionally, so do not rely on DeleteIf there.
func (s *Storage) DeleteIf(ctx context.Context, n Name, etag string) error {
	const op = "DeleteIf"
	n, err := s.resolve(op, n, true)
	if err != nil {
		return err
	}
	if etag == "" {
		return inputError(op, n, ErrInvalidHeader, "empty ETag")
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &n.Bucket, Key: &n.Key, IfMatch: &etag})
	if err != nil {
		return conditionalWriteError(ctx, op, n, err)
	}
	return nil
}
