package storage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// part is one part of a multipart upload, ready to send.
type part struct {
	num     int32
	size    int64
	open    func() io.Reader // a fresh reader of the part, from its start
	release func()           // gives its buffer back; may be nil
}

// partSource yields the parts of a body in order; io.EOF when done.
type partSource interface {
	next() (*part, error)
	partSize() int64
}

// sectionParts cuts a reader that can seek into io.SectionReaders:
// nothing is copied, and a part can be read again for a retry.
type sectionParts struct {
	ra      io.ReaderAt
	size    int64
	ps      int64
	off     int64
	num     int32
	started bool
}

func (p *sectionParts) partSize() int64 { return p.ps }

func (p *sectionParts) next() (*part, error) {
	if p.started && p.off >= p.size {
		return nil, io.EOF
	}
	p.started = true
	n := min(p.ps, p.size-p.off)
	off := p.off
	p.off += n
	p.num++
	return &part{num: p.num, size: n, open: func() io.Reader { return io.NewSectionReader(p.ra, off, n) }}, nil
}

// streamParts reads a stream into part buffers from a bounded pool: the
// next part is read only when a buffer is free, so memory stays within
// the pool's size whatever the stream's length.
type streamParts struct {
	r        *bufio.Reader
	pool     *bufPool
	first    []byte // the part read to decide single or multipart
	ps       int
	size     int64 // the length the caller gave, or 0
	total    int64
	num      int32
	finished bool
}

func (p *streamParts) partSize() int64 { return int64(p.ps) }

func (p *streamParts) next() (*part, error) {
	var buf []byte
	if p.first != nil {
		buf, p.first = p.first, nil
	} else {
		if p.finished {
			return nil, io.EOF
		}
		buf = p.pool.get()
		n, err := io.ReadFull(p.r, buf)
		switch {
		case err == io.EOF:
			p.pool.put(buf)
			p.finished = true
			if p.size > 0 && p.total != p.size {
				return nil, fmt.Errorf("%w: it held %d bytes, Size says %d", errBodyLength, p.total, p.size)
			}
			return nil, io.EOF
		case err == io.ErrUnexpectedEOF:
			p.finished = true
		case err != nil:
			p.pool.put(buf)
			return nil, err
		}
		buf = buf[:n]
	}
	if len(buf) < p.ps {
		p.finished = true
	}
	p.total += int64(len(buf))
	p.num++
	if p.size > 0 && p.total > p.size {
		p.pool.put(buf)
		return nil, fmt.Errorf("%w: it holds more than Size's %d bytes", errBodyLength, p.size)
	}
	if p.num > maxParts {
		p.pool.put(buf)
		return nil, fmt.Errorf("the stream is longer than %d parts of %d bytes; raise PartSize or give Size", maxParts, p.ps)
	}
	b := buf
	return &part{num: p.num, size: int64(len(b)), open: func() io.Reader { return bytes.NewReader(b) }, release: func() { p.pool.put(b) }}, nil
}

// bufPool hands out at most max buffers of one size, allocated when first
// needed; get blocks while all are in use.
type bufPool struct {
	size int
	free chan []byte
	sem  chan struct{}
}

func newBufPool(size, max int) *bufPool {
	return &bufPool{size: size, free: make(chan []byte, max), sem: make(chan struct{}, max)}
}

func (p *bufPool) get() []byte {
	select {
	case b := <-p.free:
		return b[:p.size]
	default:
	}
	select {
	case b := <-p.free:
		return b[:p.size]
	case p.sem <- struct{}{}:
		if bufAllocHook != nil {
			bufAllocHook(p.size)
		}
		return make([]byte, p.size)
	}
}

// bufAllocHook, when set (by tests: export_test.go), is told of every
// buffer a bufPool allocates.
var bufAllocHook func(size int)

func (p *bufPool) put(b []byte) {
	if b != nil {
		p.free <- b[:cap(b)]
	}
}

// partSizeFor returns the part size for a body of size bytes (0:
// unknown): ps, raised for large known sizes so that the body fits in
// S3's 10,000 parts.
func partSizeFor(ps, size int64) (int64, error) {
	if size > ps*maxParts {
		ps = (size + maxParts - 1) / maxParts
		ps = (ps + 1<<20 - 1) &^ (1<<20 - 1)
	}
	if ps > maxPartSizeS3 {
		return 0, fmt.Errorf("a body of %d bytes needs parts over S3's largest of 5 GiB", size)
	}
	return ps, nil
}

// maxPartSizeS3 is S3's largest part.
const maxPartSizeS3 = 5 << 30

// partResult is what an uploaded part left for CompleteMultipartUpload.
type partResult struct {
	num  int32
	size int64
	etag string
	sums *sums
	// echoed: the reply carried the part's CRC32C back.
	echoed bool
}

// multipart uploads src in parts, Concurrency at once, with the write's
// condition on CompleteMultipartUpload. No upload outlives the call: a
// failure or cancellation aborts it (on a fresh context, bounded by
// cleanupTimeout); an ambiguous CreateMultipartUpload is followed by a
// look for the upload it may have made.
func (u *upload) multipart(ctx context.Context, src partSource, size int64) (info Info, err error) {
	if size > 0 {
		ps, perr := partSizeFor(u.s.opts.PartSize, size)
		if perr != nil {
			return Info{}, inputError(u.op, u.dst, ErrInvalidHeader, "%v", perr)
		}
		if sp, ok := src.(*sectionParts); ok {
			sp.ps = ps
		}
	}
	var cl cleaner
	defer cl.done()
	useSums := u.s.checksums.Load() != checksumsIgnored && u.s.checksums.Load() != checksumsRefused

	first, err := src.next()
	if err != nil {
		return Info{}, opError(ctx, u.op, u.dst, err)
	}
	id, firstRes, err := u.startUpload(ctx, &cl, first, &useSums)
	if first.release != nil {
		first.release()
	}
	if err != nil {
		return Info{}, err
	}
	u.prog.add(firstRes.size)
	defer func() {
		if err != nil {
			u.abort(cl.ctx(ctx), id, err)
		}
	}()

	var (
		mu      sync.Mutex
		results = []partResult{firstRes}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(u.s.opts.Concurrency)
	var srcErr error
	for gctx.Err() == nil {
		p, perr := src.next()
		if perr == io.EOF {
			break
		}
		if perr != nil {
			srcErr = perr
			break
		}
		g.Go(func() error {
			if p.release != nil {
				defer p.release()
			}
			res, err := u.uploadPart(gctx, id, p, useSums)
			if err != nil {
				return err
			}
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
			u.prog.add(res.size)
			return nil
		})
	}
	if werr := g.Wait(); werr != nil {
		return Info{}, opError(ctx, u.op, u.dst, werr)
	}
	if srcErr != nil {
		return Info{}, u.fail(ctx, srcErr)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, opError(ctx, u.op, u.dst, err)
	}
	slices.SortFunc(results, func(a, b partResult) int { return int(a.num - b.num) })
	var whole func() (string, bool)
	if sp, ok := src.(*sectionParts); ok {
		whole = func() (string, bool) {
			sm, err := sumsOf(io.NewSectionReader(sp.ra, 0, sp.size), true)
			if err != nil {
				return "", false
			}
			return sm.etag(), true
		}
	}
	return u.complete(ctx, &cl, id, results, useSums, whole)
}

// startUpload creates the upload and sends the first part. While the
// Storage does not yet know whether the server keeps CRC32C checksums, the
// first part tells: a server that does not echo the part's checksum may
// store a wrong full-object value (moto 5.2.1 does), so that upload is
// aborted and made again without checksums, once per Storage.
func (u *upload) startUpload(ctx context.Context, cl *cleaner, first *part, useSums *bool) (string, partResult, error) {
	for {
		id, err := u.create(ctx, cl, *useSums)
		if err != nil {
			return "", partResult{}, err
		}
		res, err := u.uploadPart(ctx, id, first, *useSums)
		if err != nil {
			err = opError(ctx, u.op, u.dst, err)
			u.abort(cl.ctx(ctx), id, err)
			return "", partResult{}, err
		}
		if !*useSums || u.s.checksums.Load() == checksumsKept {
			return id, res, nil
		}
		if res.echoed {
			u.s.checksums.Store(checksumsKept)
			return id, res, nil
		}
		u.s.checksums.Store(checksumsIgnored)
		u.s.logger().Info("storage: the server does not keep part checksums; multipart uploads go without CRC32C", "op", u.op, "name", u.dst.String())
		u.abort(cl.ctx(ctx), id, nil)
		*useSums = false
	}
}

// uploadPart sends one part, with its MD5 (Content-MD5: the server checks
// it) and, with useSums, its CRC32C. UploadPart is idempotent: the SDK's
// retries may send it again.
func (u *upload) uploadPart(ctx context.Context, id string, p *part, useSums bool) (partResult, error) {
	sm, err := sumsOf(p.open(), !useSums || u.s.needMD5())
	if err != nil {
		return partResult{}, err
	}
	in := &s3.UploadPartInput{
		Bucket:        &u.dst.Bucket,
		Key:           &u.dst.Key,
		UploadId:      &id,
		PartNumber:    aws.Int32(p.num),
		ContentLength: aws.Int64(p.size),
		Body:          p.open(),
	}
	if sm.hasMD5 {
		in.ContentMD5 = aws.String(sm.md5B64())
	}
	if useSums {
		in.ChecksumCRC32C = aws.String(sm.crcB64())
	}
	out, err := u.s.client.UploadPart(ctx, in, unsignedPayload)
	if err != nil {
		return partResult{}, fmt.Errorf("part %d: %w", p.num, err)
	}
	return partResult{num: p.num, size: p.size, etag: aws.ToString(out.ETag), sums: sm,
		echoed: aws.ToString(out.ChecksumCRC32C) == sm.crcB64()}, nil
}

// create makes the multipart upload, one request per attempt. After an
// ambiguous attempt the server may hold an upload we never learnt of: the
// uploads of the key are listed before the first attempt and again once
// ours is made (or we give up), and every upload of the key that is new
// and not ours is aborted. The residue: an upload the server makes after
// that second listing (a request delayed inside the server), and a
// concurrent writer's upload of the same key begun in between, which is
// aborted (its write then fails; it never stores wrong data).
func (u *upload) create(ctx context.Context, cl *cleaner, useSums bool) (string, error) {
	in := &s3.CreateMultipartUploadInput{Bucket: &u.dst.Bucket, Key: &u.dst.Key}
	u.a.createMultipartUploadInput(in) // checked in put
	if useSums {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
		in.ChecksumType = types.ChecksumTypeFullObject
	}
	log := u.s.logger()
	baseline, berr := u.s.uploadIDs(ctx, u.dst)
	if berr != nil {
		log.Warn("storage: cannot list multipart uploads; an upload made by a lost CreateMultipartUpload reply could not be found", "op", u.op, "name", u.dst.String(), "error", berr)
	}
	ambiguousTries := 0
	for i := 1; ; i++ {
		out, err := u.s.client.CreateMultipartUpload(ctx, in, oneAttempt)
		if err == nil {
			id := aws.ToString(out.UploadId)
			if ambiguousTries > 0 {
				u.abortStrays(cl.ctx(ctx), baseline, berr, id)
			}
			return id, nil
		}
		if !ambiguous(err) {
			return "", opError(ctx, u.op, u.dst, err)
		}
		ambiguousTries++
		if ctx.Err() != nil || i >= u.s.maxAttempts() || !backoff(ctx, i) {
			u.abortStrays(cl.ctx(ctx), baseline, berr, "")
			return "", opError(ctx, u.op, u.dst, err)
		}
		log.Info("storage: retrying CreateMultipartUpload after an ambiguous failure", "op", u.op, "name", u.dst.String(), "attempt", i+1, "error", err)
		u.s.event(ctx, Event{Kind: EventRetry, Request: "CreateMultipartUpload", Attempt: i + 1, Err: err})
	}
}

// abortStrays aborts the uploads of the key that are not in baseline and
// are not ours: made by a CreateMultipartUpload whose reply was lost.
func (u *upload) abortStrays(ctx context.Context, baseline map[string]bool, berr error, ours string) {
	if berr != nil {
		return
	}
	ids, err := u.s.uploadIDs(ctx, u.dst)
	if err != nil {
		u.s.logger().Warn("storage: cannot list multipart uploads to find one a lost reply hid", "op", u.op, "name", u.dst.String(), "error", err)
		return
	}
	for id := range ids {
		if !baseline[id] && id != ours {
			u.s.logger().Info("storage: aborting a multipart upload a lost CreateMultipartUpload reply left", "op", u.op, "name", u.dst.String(), "upload_id", id)
			u.abort(ctx, id, nil)
		}
	}
}

// uploadIDs lists the multipart uploads in progress for exactly n's key.
func (s *Storage) uploadIDs(ctx context.Context, n Name) (map[string]bool, error) {
	ids := map[string]bool{}
	in := &s3.ListMultipartUploadsInput{Bucket: &n.Bucket, Prefix: &n.Key}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if isCode(err, "NoSuchUpload") {
			return ids, nil // the in-process server's answer for none
		}
		if err != nil {
			return nil, err
		}
		for _, up := range out.Uploads {
			if aws.ToString(up.Key) == n.Key {
				ids[aws.ToString(up.UploadId)] = true
			}
		}
		// Keys sort byte-wise, so n.Key's uploads come before those of
		// longer keys: stop once past it.
		past := len(out.Uploads) > 0 && aws.ToString(out.Uploads[len(out.Uploads)-1].Key) != n.Key
		if past || !aws.ToBool(out.IsTruncated) || (out.NextKeyMarker == nil && out.NextUploadIdMarker == nil) {
			return ids, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// complete sends CompleteMultipartUpload with the write's condition, one
// request per attempt. A reply lost with the object stored whole is
// success: the stored ETag is the multipart ETag of our parts (the MD5 of
// their MD5s, "-N"), or its full-object CRC32C and size are ours, or (for
// a body that can be read again) its ETag is the MD5 of the whole body.
// wholeMD5, when not nil, reads the body again for its whole MD5: the
// ETag some servers (the in-process one) give a multipart object.
func (u *upload) complete(ctx context.Context, cl *cleaner, id string, parts []partResult, useSums bool, wholeMD5 func() (string, bool)) (Info, error) {
	var (
		md5s    []byte
		haveMD5 = true
		crc     uint32
		size    int64
		cparts  = make([]types.CompletedPart, len(parts))
	)
	for i, p := range parts {
		md5s = append(md5s, p.sums.md5[:]...)
		haveMD5 = haveMD5 && p.sums.hasMD5
		crc = uint32(crcCombine(uint64(crc32.Castagnoli), 32, uint64(crc), uint64(p.sums.crc), p.size))
		size += p.size
		cparts[i] = types.CompletedPart{PartNumber: aws.Int32(p.num), ETag: aws.String(p.etag)}
		if useSums {
			cparts[i].ChecksumCRC32C = aws.String(p.sums.crcB64())
		}
	}
	whole := md5.Sum(md5s)
	wantETag := fmt.Sprintf("%q", hex.EncodeToString(whole[:])+fmt.Sprintf("-%d", len(parts)))
	in := &s3.CompleteMultipartUploadInput{
		Bucket:          &u.dst.Bucket,
		Key:             &u.dst.Key,
		UploadId:        &id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: cparts},
	}
	if useSums {
		in.ChecksumCRC32C = aws.String(crcB64(crc))
		in.ChecksumType = types.ChecksumTypeFullObject
	}
	if u.cond.ifMatch != "" {
		in.IfMatch = aws.String(u.cond.ifMatch)
	}
	if u.cond.ifNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	var etag string
	err := u.s.exactlyOnce(ctx, u.op, u.dst, u.cond, "CompleteMultipartUpload",
		func(ctx context.Context) error {
			out, err := u.s.client.CompleteMultipartUpload(ctx, in, oneAttempt)
			if err == nil {
				etag = aws.ToString(out.ETag)
			}
			return err
		},
		func(ctx context.Context, lastErr error) (verdict, string, error) {
			v, stored, err := u.s.checkStored(ctx, u.dst, u.cond, size, true, u.token, func(etag, c string) bool {
				if (haveMD5 && etag == wantETag) || (useSums && c == crcB64(crc)) {
					return true
				}
				if wholeMD5 != nil && !strings.Contains(etag, "-") {
					w, ok := wholeMD5()
					return ok && etag == w
				}
				return false
			})
			if v == verdictOurs {
				etag = stored
			}
			if v == verdictNotApplied && isCode(lastErr, "NoSuchUpload") {
				// The upload is gone (completed, then replaced,
				// or aborted by someone else): not ours stored.
				v = verdictUnknown
			}
			return v, stored, err
		},
		func() bool { return true })
	if err != nil {
		return Info{}, err
	}
	return u.info(size, etag), nil
}

// isCode reports whether err is a server reply with this S3 error code.
func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

// abort aborts the upload on ctx (a clean-up context, alive after the
// caller's has ended), giving up on a stalled attempt after
// abortAttemptTimeout and trying again until ctx ends, and until the
// upload is no longer listed (S3 notes that parts in flight may need a
// second abort). cause is the write's failure, for the log.
func (u *upload) abort(ctx context.Context, id string, cause error) {
	log := u.s.logger()
	for i := 1; ; i++ {
		actx, cancel := context.WithTimeout(ctx, abortAttemptTimeout)
		_, err := u.s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &u.dst.Bucket, Key: &u.dst.Key, UploadId: &id}, oneAttempt)
		cancel()
		if err == nil || isCode(err, "NoSuchUpload") {
			// A part still in flight inside the server can bring
			// the upload back after the abort (versitygw): look,
			// and abort again if it is listed.
			ids, lerr := u.s.uploadIDs(ctx, u.dst)
			if lerr != nil || !ids[id] {
				log.Info("storage: aborted multipart upload", "op", u.op, "name", u.dst.String(), "upload_id", id, "cause", cause)
				return
			}
			err = errors.New("the upload is still listed after its abort")
		}
		if ctx.Err() != nil || !backoff(ctx, i) {
			log.Error("storage: could not abort multipart upload; it stays until AbortUploads or a lifecycle rule removes it", "op", u.op, "name", u.dst.String(), "upload_id", id, "error", err)
			return
		}
		log.Warn("storage: abort of multipart upload failed; trying again", "op", u.op, "name", u.dst.String(), "upload_id", id, "attempt", i, "error", err)
	}
}

// cleaner holds the clean-up context of one write: made when first
// needed, from the caller's context without its cancellation, and ending
// cleanupTimeout later. So a write returns at most cleanupTimeout after
// its context is done.
type cleaner struct {
	c      context.Context
	cancel context.CancelFunc
}

func (c *cleaner) ctx(parent context.Context) context.Context {
	if c.c == nil {
		c.c, c.cancel = context.WithTimeout(context.WithoutCancel(parent), cleanupTimeout)
	}
	return c.c
}

func (c *cleaner) done() {
	if c.cancel != nil {
		c.cancel()
	}
}
