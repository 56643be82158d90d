package storage

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	cryptorand "crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// This file is storage's upload path over service/s3: Put, Write, SetFrom
// and Writer all end in (*Storage).put. It replaces the AWS transfer
// manager, which copies every part into a pool of (concurrency + 1) × part
// size, writes to the global log, hides part ETags, and retries
// conditional requests blindly (a lost reply then turns our own write into
// a 412).

const (
	// maxSinglePut is S3's largest PutObject: conditional writes up to
	// this size go as one request, so the condition and the write are
	// one atomic step on every server that honours conditions.
	maxSinglePut = 5 << 30
	// maxParts is S3's most parts in one multipart upload.
	maxParts = 10000
	// streamBuffers is the most part buffers one upload of a stream
	// (a reader that cannot seek) holds: memory ≤ streamBuffers × its
	// part size. Two keep two parts in flight, each kept until the
	// server acknowledges it (it may have to be sent again).
	streamBuffers = 2
	// defaultStreamPartSize is a stream's part size unless
	// Options.PartSize is set: 2 buffers of it keep a stream's upload
	// within 12 MiB (2 of the default 8 MiB put a small program's peak
	// over 32 MiB), and 10,000 parts of it are 58 GiB.
	defaultStreamPartSize = 6 << 20
)

// Cleanup bounds: what a write may still do after its context is done
// (abort its multipart upload, find out what a lost reply hid). They are
// variables for tests only.
var (
	// cleanupTimeout is the most time a write spends past its caller's
	// deadline or cancellation.
	cleanupTimeout = 30 * time.Second
	// abortAttemptTimeout bounds one AbortMultipartUpload request; a
	// stalled one is given up and sent again, within cleanupTimeout.
	abortAttemptTimeout = 10 * time.Second
)

// logger returns the Storage's logger; never nil.
func (s *Storage) logger() *slog.Logger {
	if s.opts.Logger != nil {
		return s.opts.Logger
	}
	return discardLogger
}

var discardLogger = slog.New(slog.DiscardHandler)

// writeCond is a write's precondition.
type writeCond struct {
	ifMatch     string // the old ETag, or ""
	ifNoneMatch bool   // create only
}

func (c writeCond) conditional() bool { return c.ifMatch != "" || c.ifNoneMatch }

// upload is one Put in progress.
type upload struct {
	s    *Storage
	op   string
	dst  Name
	a    attrs
	cond writeCond
	// kms: the object is encrypted with KMS (or the server may say so):
	// its ETag is not the MD5 of the body.
	kms bool
	// prog counts the bytes stored (progress.go); nil for none.
	prog *progress
	// token is the write token a conditional write stores in its
	// metadata (writeTokenKey), "" when it has none.
	token string
}

// put is the one upload path: Put, Write, SetFrom and Writer call it.
func (s *Storage) put(ctx context.Context, op string, dst Name, r io.Reader, opts *PutOptions) (info Info, err error) {
	ctx, ob := s.begin(ctx, op, dst)
	defer func() { ob.end(err, 0, info.Size) }()
	if opts == nil {
		opts = &PutOptions{}
	}
	dst, err = s.resolve(op, dst, true)
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
	if opts.IfNoneMatch != "" && opts.IfMatch != "" {
		return Info{}, inputError(op, dst, ErrInvalidHeader, "IfMatch and IfNoneMatch together: use one")
	}
	if opts.Size < 0 {
		return Info{}, inputError(op, dst, ErrInvalidHeader, "negative Size %d", opts.Size)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, opError(ctx, op, dst, err)
	}
	// Every header must map onto both requests a write may use, before
	// anything is sent.
	if err := a.putObjectInput(&s3.PutObjectInput{}); err != nil {
		return Info{}, &Error{Op: op, Name: dst, Err: err, kinds: classifyInput(err)}
	}
	if err := a.createMultipartUploadInput(&s3.CreateMultipartUploadInput{}); err != nil {
		return Info{}, &Error{Op: op, Name: dst, Err: err, kinds: classifyInput(err)}
	}
	if r == nil {
		r = strings.NewReader("")
	}
	u := &upload{s: s, op: op, dst: dst, a: a,
		cond: writeCond{ifMatch: opts.IfMatch, ifNoneMatch: opts.IfNoneMatch != ""},
		kms:  strings.HasPrefix(string(a.sse()), "aws:kms"),
		prog: newProgress(ctx, op, dst, cmp.Or(opts.Size, -1), Bytes)}
	defer u.prog.end()
	if u.cond.conditional() {
		// A token of the write's own lets the check after a lost reply
		// tell our object from another writer's with the same bytes.
		// Without room for it in the metadata, the bytes must do.
		token := cryptorand.Text()
		if ta, ok := u.a.withWriteToken(token); ok {
			u.a, u.token = ta, token
		}
	}

	// A reader that can seek is read in place, part by part, through
	// io.SectionReader: nothing is copied, and a part can be sent again.
	if ra, size, ok, err := readerAtOf(r); err != nil {
		return Info{}, opError(ctx, op, dst, err)
	} else if ok {
		if opts.Size > 0 && opts.Size != size {
			return Info{}, inputError(op, dst, ErrInvalidHeader, "Size %d, but the reader holds %d bytes", opts.Size, size)
		}
		u.prog.setTotal(size)
		limit := s.opts.MultipartThreshold
		if u.cond.conditional() {
			limit = maxSinglePut
		}
		if size <= limit {
			return u.single(ctx, sectionBody(ra, size))
		}
		return u.multipart(ctx, &sectionParts{ra: ra, size: size}, size)
	}
	return u.stream(ctx, r, opts.Size)
}

// stream uploads a reader that cannot seek: a body that fits in one part
// goes as one PutObject from a buffer; a conditional one of known Size up
// to maxSinglePut streams as one PutObject; the rest goes in parts through
// a bounded pool of part buffers.
func (u *upload) stream(ctx context.Context, r io.Reader, size int64) (Info, error) {
	partSize, err := partSizeFor(u.s.streamPartSize, size)
	if err != nil {
		return Info{}, inputError(u.op, u.dst, ErrInvalidHeader, "%v", err)
	}
	br := bufio.NewReaderSize(r, 16)
	pool := newBufPool(int(partSize), streamBuffers)
	first := pool.get()
	n, rerr := io.ReadFull(br, first)
	switch {
	case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
		rerr = nil
	case rerr != nil:
		pool.put(first)
		return Info{}, opError(ctx, u.op, u.dst, rerr)
	}
	if n < len(first) || atEOF(br) {
		defer pool.put(first)
		if size > 0 && int64(n) != size {
			return Info{}, inputError(u.op, u.dst, ErrInvalidHeader, "Size %d, but the reader held %d bytes", size, n)
		}
		return u.single(ctx, bufferBody(first[:n]))
	}
	if u.cond.conditional() && size > 0 && size <= maxSinglePut {
		// The reader cannot seek and the size is known: stream one
		// PutObject, so the condition stays atomic. It cannot be sent
		// twice; a lost reply is still resolved.
		defer pool.put(first)
		return u.single(ctx, oneShotBody(io.MultiReader(bytes.NewReader(first[:n]), br), size))
	}
	return u.multipart(ctx, &streamParts{r: br, pool: pool, first: first[:n], ps: int(partSize), size: size}, size)
}

// atEOF reports whether br has no more bytes (a read error counts as more:
// the next read reports it).
func atEOF(br *bufio.Reader) bool {
	_, err := br.Peek(1)
	return err == io.EOF
}

// readerAtOf returns r as an io.ReaderAt with the bytes left from its
// position, when r can seek (an *os.File on a pipe cannot, and is read as
// a stream).
func readerAtOf(r io.Reader) (io.ReaderAt, int64, bool, error) {
	seeker, ok := r.(io.Seeker)
	if !ok {
		return nil, 0, false, nil
	}
	cur, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		// A pipe or a terminal behind an *os.File: read it as a
		// stream.
		return nil, 0, false, nil
	}
	end, err := seeker.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, 0, false, err
	}
	if _, err := seeker.Seek(cur, io.SeekStart); err != nil {
		return nil, 0, false, err
	}
	size := end - cur
	if ra, ok := r.(io.ReaderAt); ok {
		return offsetReaderAt{ra, cur}, size, true, nil
	}
	return &seekReaderAt{rs: r.(io.ReadSeeker), base: cur}, size, true, nil
}

// offsetReaderAt reads ra from base on.
type offsetReaderAt struct {
	ra   io.ReaderAt
	base int64
}

func (o offsetReaderAt) ReadAt(p []byte, off int64) (int, error) { return o.ra.ReadAt(p, o.base+off) }

// seekReaderAt reads a ReadSeeker at offsets, one read at a time.
type seekReaderAt struct {
	mu   chanMutex
	rs   io.ReadSeeker
	base int64
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.lock()
	defer s.mu.unlock()
	if _, err := s.rs.Seek(s.base+off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(s.rs, p)
}

// chanMutex is a mutex usable as a zero value inside copied structs.
type chanMutex struct{ ch chan struct{} }

func (m *chanMutex) lock() {
	if m.ch == nil {
		m.ch = make(chan struct{}, 1)
	}
	m.ch <- struct{}{}
}
func (m *chanMutex) unlock() { <-m.ch }

// body is what one PutObject or UploadPart sends.
type body struct {
	size int64
	// open returns a fresh reader of the body, from its start; nil once
	// a body that cannot be sent twice has been sent.
	open func() io.Reader
	// sums are known before sending (then Content-MD5 and the CRC32C go
	// as headers and the server checks them), or computed while
	// streaming (oneShot).
	sums    *sums
	oneShot bool
	// last is the reader last opened, to tell whether all of it went
	// out before a failure.
	last *trackedReader
}

// sentWhole reports whether the last request read the whole body. A
// request that did not cannot have been stored (S3 stores a body only
// whole).
func (b *body) sentWhole() bool { return b.last != nil && b.last.pos >= b.size }

// trackedReader tracks how far a body was read since it was last rewound
// (the SDK reads a seekable body once to sign it, then rewinds).
type trackedReader struct {
	r   io.ReadSeeker
	pos int64
}

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.pos += int64(n)
	return n, err
}

func (t *trackedReader) Seek(off int64, whence int) (int64, error) {
	pos, err := t.r.Seek(off, whence)
	if err == nil {
		t.pos = pos
	}
	return pos, err
}

// sums are a body's CRC32C and, where needed, its MD5.
type sums struct {
	md5    [md5.Size]byte
	hasMD5 bool
	crc    uint32
}

func (s *sums) md5B64() string { return base64.StdEncoding.EncodeToString(s.md5[:]) }
func (s *sums) etag() string   { return `"` + hex.EncodeToString(s.md5[:]) + `"` }
func (s *sums) crcB64() string { return crcB64(s.crc) }

func crcB64(c uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], c)
	return base64.StdEncoding.EncodeToString(b[:])
}

// unsignedPayload sends a write's body as UNSIGNED-PAYLOAD instead of
// hashing all of it with SHA-256 for the signature first: the checksum
// headers storage computes (Content-MD5, x-amz-checksum-crc32c) are signed,
// and the server checks the body against them, so the SHA-256 pass was
// a third hash of every byte, and a 32 KiB buffer per request.
var unsignedPayload = s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)

// copyBufs are sumsOf's buffers: a small write hashes its body without
// allocating one.
var copyBufs = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// sumsOf reads r to its end, for its CRC32C and, withMD5, its MD5.
func sumsOf(r io.Reader, withMD5 bool) (*sums, error) {
	buf := copyBufs.Get().(*[32 << 10]byte)
	defer copyBufs.Put(buf)
	c := crc32.New(castagnoli)
	if !withMD5 {
		if _, err := io.CopyBuffer(c, r, buf[:]); err != nil {
			return nil, err
		}
		return &sums{crc: c.Sum32()}, nil
	}
	m := md5.New()
	if _, err := io.CopyBuffer(io.MultiWriter(m, c), r, buf[:]); err != nil {
		return nil, err
	}
	s := &sums{crc: c.Sum32(), hasMD5: true}
	m.Sum(s.md5[:0])
	return s, nil
}

// needMD5 reports whether uploads must compute MD5s: unless the server is
// known to keep (and so to check) CRC32C checksums, the MD5 is what the
// server checks (Content-MD5) and what recognises our object after a lost
// reply. Where CRC32C is kept, it does both, at a fraction of MD5's cost.
func (s *Storage) needMD5() bool { return s.checksums.Load() != checksumsKept }

func sectionBody(ra io.ReaderAt, size int64) *body {
	return &body{size: size, open: func() io.Reader { return io.NewSectionReader(ra, 0, size) }}
}

func bufferBody(b []byte) *body {
	return &body{size: int64(len(b)), open: func() io.Reader { return bytes.NewReader(b) }}
}

func oneShotBody(r io.Reader, size int64) *body {
	b := &body{size: size, oneShot: true}
	b.open = func() io.Reader {
		b.open = nil
		return r
	}
	return b
}

// hashingReader computes sums of what passes through it and refuses to
// yield more or fewer bytes than size: a longer reader fails the request
// before its last byte is sent, so nothing is stored.
type hashingReader struct {
	r    *bufio.Reader
	left int64
	m    hash.Hash
	c    hash.Hash32
}

var errBodyLength = errors.New("the reader's length differs from Size")

func (h *hashingReader) Read(p []byte) (int, error) {
	if h.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > h.left {
		p = p[:h.left]
	}
	n, err := h.r.Read(p)
	if int64(n) == h.left {
		// Before the last bytes go out, make sure the reader ends
		// there; if not, they never go, and nothing is stored.
		if _, perr := h.r.Peek(1); perr != io.EOF {
			return 0, errBodyLength
		}
	}
	h.left -= int64(n)
	h.m.Write(p[:n])
	h.c.Write(p[:n])
	if h.left == 0 {
		return n, nil
	}
	if err == io.EOF {
		return n, fmt.Errorf("%w: it ended %d bytes early", errBodyLength, h.left)
	}
	return n, err
}

func (h *hashingReader) sums() *sums {
	s := &sums{crc: h.c.Sum32(), hasMD5: true}
	h.m.Sum(s.md5[:0])
	return s
}

// single sends the body as one PutObject. An unconditional write is
// retried as the SDK retries (it is idempotent); a conditional one is sent
// once per attempt by our own loop, and a failure that may hide a stored
// write is resolved before anything is reported (see resolve).
func (u *upload) single(ctx context.Context, b *body) (Info, error) {
	var hr *hashingReader
	if !b.oneShot {
		s, err := sumsOf(b.open(), u.s.needMD5())
		if err != nil {
			return Info{}, opError(ctx, u.op, u.dst, err)
		}
		b.sums = s
	}
	in := u.putInput()
	in.ContentLength = aws.Int64(b.size)
	if b.sums != nil {
		if b.sums.hasMD5 {
			in.ContentMD5 = aws.String(b.sums.md5B64())
		}
		if u.s.checksums.Load() != checksumsRefused {
			in.ChecksumCRC32C = aws.String(b.sums.crcB64())
		}
	}
	// The payload goes unsigned (see unsignedPayload).
	optFns := []func(*s3.Options){unsignedPayload}
	if b.oneShot {
		// A reader that cannot seek cannot be hashed first; its MD5 is
		// checked against the reply's ETag instead.
		optFns = append(optFns, oneAttempt)
	}
	send := func(ctx context.Context) (*s3.PutObjectOutput, error) {
		if b.open == nil {
			return nil, errNotResendable
		}
		r := b.open()
		if b.oneShot {
			hr = &hashingReader{r: bufio.NewReader(r), left: b.size, m: md5.New(), c: crc32.New(castagnoli)}
			r = hr
		} else {
			b.last = &trackedReader{r: r.(io.ReadSeeker)}
			r = b.last
		}
		in.Body = r
		out, err := u.s.client.PutObject(ctx, in, optFns...)
		if err == nil && in.ChecksumCRC32C != nil && aws.ToString(out.ChecksumCRC32C) == *in.ChecksumCRC32C {
			u.s.checksums.CompareAndSwap(checksumsUnknown, checksumsKept)
		}
		if err != nil && in.ChecksumCRC32C != nil && checksumRefused(err) {
			// A server that does not take S3's checksums: send
			// without, from now on.
			u.s.checksums.Store(checksumsRefused)
			u.s.logger().Info("storage: the server refused a CRC32C checksum header; writing without", "op", u.op, "name", u.dst.String(), "error", err)
			in.ChecksumCRC32C = nil
			if b.open == nil {
				return nil, errNotResendable
			}
			b.last = &trackedReader{r: b.open().(io.ReadSeeker)}
			in.Body = b.last
			out, err = u.s.client.PutObject(ctx, in, optFns...)
		}
		return out, err
	}
	if !u.cond.conditional() && !b.oneShot {
		out, err := send(ctx)
		if err != nil {
			return Info{}, u.fail(ctx, err)
		}
		u.prog.add(b.size)
		return u.info(b.size, aws.ToString(out.ETag)), nil
	}
	optFns = append(optFns, oneAttempt)
	var etag string
	err := u.s.exactlyOnce(ctx, u.op, u.dst, u.cond, "PutObject",
		func(ctx context.Context) error {
			out, err := send(ctx)
			if err == nil {
				etag = aws.ToString(out.ETag)
			}
			return err
		},
		func(ctx context.Context, _ error) (verdict, string, error) {
			want, whole := b.sums, b.sentWhole()
			if hr != nil {
				want, whole = hr.sums(), hr.left == 0
			}
			v, stored, err := u.s.checkStored(ctx, u.dst, u.cond, b.size, whole, u.token, func(etag, crc string) bool {
				return (!u.kms && want.hasMD5 && etag == want.etag()) || crc == want.crcB64()
			})
			if v == verdictOurs {
				etag = stored
			}
			return v, stored, err
		},
		func() bool { return b.open != nil })
	if err != nil {
		return Info{}, u.fail(ctx, err)
	}
	u.prog.add(b.size)
	return u.info(b.size, etag), nil
}

// fail classifies a failed write: a reader whose length differs from Size
// is bad input.
func (u *upload) fail(ctx context.Context, err error) error {
	if !errors.Is(err, errBodyLength) {
		return opError(ctx, u.op, u.dst, err)
	}
	e := inputError(u.op, u.dst, ErrInvalidHeader, "%v", errBodyLength).(*Error)
	if errors.Is(err, ErrOutcomeUnknown) {
		// A server may keep the part of a body it received (versitygw
		// 1.8.0 does): the write is bad input and of unknown outcome.
		e.Err = fmt.Errorf("%w; %w: the server may have stored the part it received", e.Err, ErrOutcomeUnknown)
		e.kinds = append(e.kinds, ErrOutcomeUnknown)
	}
	return e
}

var errNotResendable = errors.New("the body cannot be sent again (its reader cannot seek)")

func (u *upload) info(size int64, etag string) Info {
	return Info{Name: u.dst, Size: size, ETag: etag, Metadata: Metadata{}, Headers: Headers{}}
}

// putInput returns the PutObjectInput of the write (headers and
// condition; no body).
func (u *upload) putInput() *s3.PutObjectInput {
	in := &s3.PutObjectInput{Bucket: &u.dst.Bucket, Key: &u.dst.Key}
	u.a.putObjectInput(in) // checked in put
	if u.cond.ifMatch != "" {
		in.IfMatch = aws.String(u.cond.ifMatch)
	}
	if u.cond.ifNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	return in
}

// oneAttempt turns the SDK's retries off for one call: a request whose
// reply may hide a stored write is never sent again blindly.
func oneAttempt(o *s3.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1) }

// backoff waits before attempt n (1-based) of a retry: 50 ms doubling up
// to 2 s, with jitter; false if ctx ended first.
func backoff(ctx context.Context, n int) bool {
	d := 50 * time.Millisecond << min(n-1, 6)
	d = min(d, 2*time.Second)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ambiguous reports whether a failed request may have been applied: no
// reply (a transport error, a timeout, a cancelled context) or a 5xx.
func ambiguous(err error) bool {
	if err == nil {
		return false
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		code := re.HTTPStatusCode()
		return code >= 500 || code == 0
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorFault() == smithy.FaultServer
	}
	return true
}

// conflictStatus reports whether err is a reply that a condition failed:
// 412, 409 (concurrent conditional writes on AWS) or 404 (If-Match on a
// missing key).
func conflictStatus(err error) bool {
	switch httpStatus(err) {
	case http.StatusPreconditionFailed, http.StatusConflict, http.StatusNotFound:
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict":
			return true
		}
	}
	return false
}

// checksumRefused reports whether err is a server refusing the
// x-amz-checksum-crc32c header itself (not a mismatch, which is BadDigest
// or XAmzContentChecksumMismatch).
func checksumRefused(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "BadDigest", "XAmzContentChecksumMismatch", "InvalidDigest":
		return false
	case "NotImplemented", "InvalidRequest", "InvalidArgument", "UnsupportedHeader":
		return strings.Contains(strings.ToLower(apiErr.ErrorMessage()), "checksum")
	}
	return false
}

// Checksum support learnt from a server's replies.
const (
	checksumsUnknown int32 = iota
	checksumsKept          // UploadPart echoes a part's CRC32C
	checksumsIgnored       // UploadPart does not: the server may store a wrong full-object value, so multipart uploads go without
	checksumsRefused       // the server refuses the header
)

// verdict is what a check after an ambiguous failure found.
type verdict int

const (
	verdictUnknown    verdict = iota // ours may have landed and been replaced: cannot tell
	verdictOurs                      // the stored object is the one we wrote (or, for DeleteIf, it is gone)
	verdictNotApplied                // the stored state is the precondition's: ours did not land
	verdictConflict                  // ours did not land (its body never went out whole) and the condition does not hold
)

func (v verdict) String() string {
	return [...]string{"unknown", "ours", "not applied", "conflict"}[v]
}

// exactlyOnce runs attempt (one request, no SDK retries) until it
// succeeds, fails for certain, or its outcome cannot be established.
// After an ambiguous failure (no reply, a timeout, a 5xx), and after a
// 412, 409 or 404 that follows one, check looks at what is stored: ours
// means success; the precondition's state means the request did not land,
// so it is sent again while attempts remain and canResend allows; anything
// else is ErrOutcomeUnknown. The check runs on a fresh context bounded by
// cleanupTimeout when ctx is done.
func (s *Storage) exactlyOnce(ctx context.Context, op string, n Name, cond writeCond, what string,
	attempt func(context.Context) error,
	check func(ctx context.Context, lastErr error) (verdict, string, error),
	canResend func() bool,
) error {
	log := s.logger()
	afterAmbiguous := false
	var cleanup context.Context
	for i := 1; ; i++ {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		if !ambiguous(err) && !(afterAmbiguous && conflictStatus(err)) {
			if cond.conditional() {
				return conditionalWriteError(ctx, op, n, err)
			}
			return opError(ctx, op, n, err)
		}
		afterAmbiguous = true
		cctx := ctx
		if ctx.Err() != nil {
			if cleanup == nil {
				var cancel context.CancelFunc
				cleanup, cancel = context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
				defer cancel()
			}
			cctx = cleanup
		}
		v, stored, cerr := check(cctx, err)
		log.Info("storage: resolved an ambiguous "+what, "op", op, "name", n.String(), "attempt", i, "error", err, "verdict", v.String(), "stored_etag", stored, "check_error", cerr)
		s.event(ctx, Event{Kind: EventResolved, Request: what, Verdict: v.String(), Err: err})
		switch v {
		case verdictOurs:
			return nil
		case verdictConflict:
			e := opError(ctx, op, n, err).(*Error)
			e.Err = fmt.Errorf("%w: %w", ErrPreconditionFailed, e.Err)
			e.kinds = append(e.kinds, ErrPreconditionFailed)
			return e
		case verdictNotApplied:
			if ctx.Err() != nil || i >= s.maxAttempts() || !canResend() {
				return opError(ctx, op, n, err)
			}
			if !backoff(ctx, i) {
				return opError(ctx, op, n, ctx.Err())
			}
			log.Info("storage: retrying "+what, "op", op, "name", n.String(), "attempt", i+1)
			s.event(ctx, Event{Kind: EventRetry, Request: what, Attempt: i + 1, Err: err})
			continue
		}
		cause := err
		if cerr != nil {
			cause = fmt.Errorf("%w; checking afterwards: %v", err, cerr)
		}
		e := opError(ctx, op, n, cause).(*Error)
		e.Err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, e.Err)
		e.kinds = append(e.kinds, ErrOutcomeUnknown)
		e.kinds = slicesDelete(e.kinds, ErrPreconditionFailed)
		return e
	}
}

func slicesDelete(ks []error, k error) []error {
	out := ks[:0:0]
	for _, x := range ks {
		if x != k {
			out = append(out, x)
		}
	}
	return out
}

// checkStored looks at what is stored at n after an ambiguous write: ours
// (isOurs of its ETag and full-object CRC32C, with the right size), the
// precondition's state (not applied), or something else (unknown). A
// request whose body did not go out whole (sentWhole false) cannot have
// been stored: then "something else" means the condition does not hold, a
// real conflict. (Servers answer a failed condition before reading the
// body and close the connection; Go's HTTP client then reports the broken
// write, not the 412.) It returns the stored ETag.
func (s *Storage) checkStored(ctx context.Context, n Name, cond writeCond, size int64, sentWhole bool, token string, isOurs func(etag, crc string) bool) (verdict, string, error) {
	other := verdictUnknown
	if !sentWhole {
		other = verdictConflict
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &n.Bucket, Key: &n.Key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		if httpStatus(err) == http.StatusNotFound && ctx.Err() == nil {
			if cond.ifMatch == "" {
				// Absent: the state If-None-Match wants, and an
				// unconditional write may simply be sent again.
				return verdictNotApplied, "", nil
			}
			return other, "", nil
		}
		return verdictUnknown, "", err
	}
	etag := aws.ToString(out.ETag)
	sizeOK := aws.ToInt64(out.ContentLength) == size
	if token != "" {
		// The write's own token decides, whatever the bytes: another
		// writer's object with the same content is not ours.
		if metaValue(out.Metadata, writeTokenKey) == token {
			if !sizeOK {
				// Ours, but not whole: a server that stored a body
				// cut short. Never a success.
				return verdictUnknown, etag, nil
			}
			return verdictOurs, etag, nil
		}
	} else if sentWhole && sizeOK && isOurs(etag, aws.ToString(out.ChecksumCRC32C)) {
		return verdictOurs, etag, nil
	}
	if !cond.conditional() || (cond.ifMatch != "" && etag == cond.ifMatch) {
		return verdictNotApplied, etag, nil
	}
	return other, etag, nil
}

// metaValue returns the user metadata value named key (without
// "x-amz-meta-"), whatever the case the SDK gave the name in.
func metaValue(m map[string]string, key string) string {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}
