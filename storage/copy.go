package storage

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Copy copies src to dst on the server. The destination's user metadata
// comes from h when h holds any "x-amz-meta-*" header, otherwise from the
// source, byte for byte (values another client wrote are never decoded and
// re-encoded on the way). Content-Type and the other standard headers of
// the source survive either way, unless h gives new values; so do the
// source's storage class and server-side encryption. Objects larger than
// Options.CopyThreshold (default 5 GiB) are copied in parts.
func (s *Storage) Copy(ctx context.Context, src, dst Name, h Headers) error {
	return s.copy(ctx, "Copy", src, dst, h, false)
}

// UpdateMetadata replaces the object's user metadata with the x-amz-meta-*
// headers in h (none: the object is left with no user metadata). The
// content and the standard headers stay, unless h gives new values for
// them. It is a copy of the object onto itself.
func (s *Storage) UpdateMetadata(ctx context.Context, n Name, h Headers) error {
	return s.copy(ctx, "UpdateMetadata", n, n, h, true)
}

// contentHeaders are the standard headers a CopyObject with the COPY
// metadata directive takes from the source and ignores in the request.
var contentHeaders = []string{hContentType, hCacheControl, hContentDisposition, hContentEncoding, hContentLanguage, hExpires}

// copy does Copy and UpdateMetadata. With replaceMeta, the user metadata
// is h's even when h holds none.
//
// When the source's metadata and content headers go over unchanged, a
// single CopyObject uses the COPY directive: the server copies them, so
// they arrive exactly as stored. Otherwise (new metadata or content
// headers, a copy onto itself, which S3 refuses with COPY, or a copy in
// parts) every header is sent: the source's metadata as the server gave
// it in HEAD, raw, and its standard headers, with h's on top.
func (s *Storage) copy(ctx context.Context, op string, src, dst Name, h Headers, replaceMeta bool) (err error) {
	ctx, ob := s.begin(ctx, op, dst)
	defer func() { ob.end(err, 0, 0) }()
	src, err = s.resolve(op, src, true)
	if err != nil {
		return err
	}
	dst, err = s.resolve(op, dst, true)
	if err != nil {
		return err
	}
	given, err := parseHeaders(h)
	if err != nil {
		return &Error{Op: op, Name: dst, Err: err, kinds: classifyInput(err)}
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &src.Bucket, Key: &src.Key})
	if err != nil {
		return opError(ctx, op, src, err)
	}
	info := headInfo(src, head)
	inParts := info.Size > s.opts.CopyThreshold
	keepSource := !given.hasMeta && !replaceMeta &&
		!slices.ContainsFunc(contentHeaders, func(name string) bool { _, ok := given.system[name]; return ok })
	serverCopies := keepSource && src != dst && !inParts

	want := attrs{system: map[string]string{}, meta: given.meta}
	for _, name := range systemHeaders {
		if v, ok := info.Headers[name]; ok && (!serverCopies || !slices.Contains(contentHeaders, name)) {
			want.system[name] = v
		}
	}
	maps.Copy(want.system, given.system)
	if !given.hasMeta && !replaceMeta && !serverCopies {
		want.meta = head.Metadata // raw, as stored
	}
	prog := newProgress(ctx, op, dst, info.Size, Bytes)
	defer prog.end()
	if inParts {
		return opError(ctx, op, dst, s.copyParts(ctx, src, dst, info, want, prog))
	}
	source := copySource(src)
	in := &s3.CopyObjectInput{
		Bucket:            &dst.Bucket,
		Key:               &dst.Key,
		CopySource:        &source,
		CopySourceIfMatch: &info.ETag,
		MetadataDirective: types.MetadataDirectiveReplace,
	}
	if serverCopies {
		in.MetadataDirective = types.MetadataDirectiveCopy
	}
	if err := want.copyObjectInput(in); err != nil {
		return &Error{Op: op, Name: dst, Err: err, kinds: classifyInput(err)}
	}
	if _, err = s.client.CopyObject(ctx, in); err != nil {
		return opError(ctx, op, dst, err)
	}
	prog.add(info.Size)
	return nil
}

// copySource is the x-amz-copy-source value: "bucket/key" with the key
// percent-encoded byte by byte except unreserved characters and '/', so
// '+' goes as %2B and is not read as a space.
func copySource(n Name) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteString(n.Bucket)
	b.WriteByte('/')
	for i := 0; i < len(n.Key); i++ {
		c := n.Key[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// copyParts copies a large object with UploadPartCopy, Concurrency parts
// at once. It starts and aborts its upload as uploads do (upload.create and
// upload.abort): a lost CreateMultipartUpload reply leaves no upload, and a
// failure aborts on a clean-up context, bounded by cleanupTimeout.
func (s *Storage) copyParts(ctx context.Context, src, dst Name, info Info, want attrs, prog *progress) (err error) {
	u := &upload{s: s, op: "Copy", dst: dst, a: want}
	var cl cleaner
	defer cl.done()
	id, err := u.create(ctx, &cl, false)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			u.abort(cl.ctx(ctx), id, err)
		}
	}()
	source := copySource(src)
	partSize := s.opts.CopyPartSize
	n := (info.Size + partSize - 1) / partSize
	if n > 10000 {
		return fmt.Errorf("%d parts of %d bytes is over S3's 10000: raise Options.CopyPartSize", n, partSize)
	}
	parts := make([]types.CompletedPart, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Concurrency)
	for i := range n {
		g.Go(func() error {
			first := i * partSize
			last := min(first+partSize, info.Size) - 1
			num := int32(i + 1)
			out, err := s.client.UploadPartCopy(gctx, &s3.UploadPartCopyInput{
				Bucket:            &dst.Bucket,
				Key:               &dst.Key,
				UploadId:          &id,
				PartNumber:        &num,
				CopySource:        &source,
				CopySourceIfMatch: &info.ETag,
				CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", first, last)),
			})
			if err != nil {
				return fmt.Errorf("part %d: %w", num, err)
			}
			parts[i] = types.CompletedPart{PartNumber: &num, ETag: out.CopyPartResult.ETag}
			prog.add(last + 1 - first)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &dst.Bucket,
		Key:             &dst.Key,
		UploadId:        &id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}
