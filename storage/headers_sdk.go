package storage

import (
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// This file is the one place where headers become SDK input fields. Every
// header parseHeaders accepts has a row in sdkHeaders with a setter for
// each SDK input a write can go through: PutObject (single-part Put and
// PresignPut), CreateMultipartUpload (multipart Put and multipart Copy) and
// CopyObject. A header that cannot go into one of them has a nil setter
// there, and that input's function refuses it with ErrInvalidHeader.

// sdkHeader maps one standard header to each SDK input. Values reaching a
// setter were checked by parseHeaders.
type sdkHeader struct {
	name   string
	put    func(in *s3.PutObjectInput, v string)
	create func(in *s3.CreateMultipartUploadInput, v string)
	copy   func(in *s3.CopyObjectInput, v string)
}

// sdkHeaders has one row per standard header parseHeaders accepts.
var sdkHeaders = []sdkHeader{
	{hContentType,
		func(in *s3.PutObjectInput, v string) { in.ContentType = &v },
		func(in *s3.CreateMultipartUploadInput, v string) { in.ContentType = &v },
		func(in *s3.CopyObjectInput, v string) { in.ContentType = &v }},
	{hCacheControl,
		func(in *s3.PutObjectInput, v string) { in.CacheControl = &v },
		func(in *s3.CreateMultipartUploadInput, v string) { in.CacheControl = &v },
		func(in *s3.CopyObjectInput, v string) { in.CacheControl = &v }},
	{hContentDisposition,
		func(in *s3.PutObjectInput, v string) { in.ContentDisposition = &v },
		func(in *s3.CreateMultipartUploadInput, v string) { in.ContentDisposition = &v },
		func(in *s3.CopyObjectInput, v string) { in.ContentDisposition = &v }},
	{hContentEncoding,
		func(in *s3.PutObjectInput, v string) { in.ContentEncoding = &v },
		func(in *s3.CreateMultipartUploadInput, v string) { in.ContentEncoding = &v },
		func(in *s3.CopyObjectInput, v string) { in.ContentEncoding = &v }},
	{hContentLanguage,
		func(in *s3.PutObjectInput, v string) { in.ContentLanguage = &v },
		func(in *s3.CreateMultipartUploadInput, v string) { in.ContentLanguage = &v },
		func(in *s3.CopyObjectInput, v string) { in.ContentLanguage = &v }},
	{hExpires,
		func(in *s3.PutObjectInput, v string) { in.Expires = httpTime(v) },
		func(in *s3.CreateMultipartUploadInput, v string) { in.Expires = httpTime(v) },
		func(in *s3.CopyObjectInput, v string) { in.Expires = httpTime(v) }},
	{hStorageClass,
		func(in *s3.PutObjectInput, v string) { in.StorageClass = types.StorageClass(v) },
		func(in *s3.CreateMultipartUploadInput, v string) { in.StorageClass = types.StorageClass(v) },
		func(in *s3.CopyObjectInput, v string) { in.StorageClass = types.StorageClass(v) }},
	{hSSE,
		func(in *s3.PutObjectInput, v string) { in.ServerSideEncryption = types.ServerSideEncryption(v) },
		func(in *s3.CreateMultipartUploadInput, v string) {
			in.ServerSideEncryption = types.ServerSideEncryption(v)
		},
		func(in *s3.CopyObjectInput, v string) { in.ServerSideEncryption = types.ServerSideEncryption(v) }},
	{hSSEKMSKeyID,
		func(in *s3.PutObjectInput, v string) { in.SSEKMSKeyId = &v },
		func(in *s3.CreateMultipartUploadInput, v string) { in.SSEKMSKeyId = &v },
		func(in *s3.CopyObjectInput, v string) { in.SSEKMSKeyId = &v }},
	{hTagging,
		func(in *s3.PutObjectInput, v string) { in.Tagging = &v },
		func(in *s3.CreateMultipartUploadInput, v string) { in.Tagging = &v },
		// A copy keeps the source's tags unless told to replace them.
		func(in *s3.CopyObjectInput, v string) {
			in.Tagging, in.TaggingDirective = &v, types.TaggingDirectiveReplace
		}},
	{hACL,
		func(in *s3.PutObjectInput, v string) { in.ACL = types.ObjectCannedACL(v) },
		func(in *s3.CreateMultipartUploadInput, v string) { in.ACL = types.ObjectCannedACL(v) },
		func(in *s3.CopyObjectInput, v string) { in.ACL = types.ObjectCannedACL(v) }},
}

// standardHeaderNames lists the standard headers parseHeaders accepts.
func standardHeaderNames() []string {
	names := make([]string, len(sdkHeaders))
	for i, h := range sdkHeaders {
		names[i] = h.name
	}
	return names
}

// httpTime parses an Expires value: one checked by parseHeaders, or a
// source's as its server reported it. A value that is not an HTTP date
// (from a server's HEAD) is left out rather than sent as the zero time.
func httpTime(v string) *time.Time {
	t, err := http.ParseTime(v)
	if err != nil {
		return nil
	}
	return &t
}

// putObjectInput sets in's metadata and standard headers from a: for a
// single-part Put and for PresignPut.
func (a attrs) putObjectInput(in *s3.PutObjectInput) error {
	in.Metadata = a.metaOrNil()
	return a.apply("PutObject", func(h sdkHeader, v string) bool {
		if h.put == nil {
			return false
		}
		h.put(in, v)
		return true
	})
}

// createMultipartUploadInput sets in's metadata and standard headers from
// a: for a multipart Put and a multipart Copy.
func (a attrs) createMultipartUploadInput(in *s3.CreateMultipartUploadInput) error {
	in.Metadata = a.metaOrNil()
	return a.apply("CreateMultipartUpload", func(h sdkHeader, v string) bool {
		if h.create == nil {
			return false
		}
		h.create(in, v)
		return true
	})
}

// copyObjectInput sets in's metadata and standard headers from a. The
// metadata directive is the caller's: with types.MetadataDirectiveCopy the
// server ignores the metadata and the content headers sent.
func (a attrs) copyObjectInput(in *s3.CopyObjectInput) error {
	in.Metadata = a.metaOrNil()
	return a.apply("CopyObject", func(h sdkHeader, v string) bool {
		if h.copy == nil {
			return false
		}
		h.copy(in, v)
		return true
	})
}

// apply calls set for each standard header in a, in table order, and
// refuses a header set cannot take.
func (a attrs) apply(request string, set func(h sdkHeader, v string) bool) error {
	for _, h := range sdkHeaders {
		v, ok := a.system[h.name]
		if !ok {
			continue
		}
		if !set(h, v) {
			return fmt.Errorf("%w: %s cannot be sent with %s", ErrInvalidHeader, h.name, request)
		}
	}
	return nil
}
