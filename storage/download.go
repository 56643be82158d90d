package storage

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// GetOptions tune Get. A nil *GetOptions reads the whole object.
type GetOptions struct {
	// Offset and Length select a byte range; Length 0 means to the end.
	Offset, Length int64
	// IfNoneMatch: if the object's ETag is this one, Get returns an error
	// that errors.Is ErrNotModified and no body moves (a 304).
	IfNoneMatch string
	// IfMatch: Get fails with ErrPreconditionFailed unless the ETag
	// matches.
	IfMatch string
}

// Reader streams an object's content, verifying it. Close it when done.
//
// The bytes are checked as they go by, against the length the server
// announced and, for a whole object, against a checksum the server vouches
// for (see Get). A body that fails makes the final Read return an error
// that errors.Is ErrCorrupt instead of io.EOF: bytes read before are not
// verified until Read has returned io.EOF.
type Reader struct {
	// Info describes the object (Size is the whole object's size; for a
	// range, Length is what this reader yields).
	Info   Info
	Length int64
	body   *stream
	v      *verifier
	err    error // sticky: the final result once reached
	ob     observation
	read   int64 // bytes read, for ob
}

// Read reads the object's bytes.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.body.Read(p)
	r.v.Write(p[:n])
	r.read += int64(n)
	if err == io.EOF {
		if cerr := r.v.check(); cerr != nil {
			err = r.body.corrupt(cerr)
		}
	}
	if err != nil {
		r.err = err
		r.body.close()
		r.end(err)
		r.body.prog.end()
	}
	return n, err
}

// Close releases the connection.
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = errors.New("storage: read after Close")
		r.end(nil)
	}
	r.body.prog.end()
	return r.body.close()
}

// end ends the observation of the Get, once.
func (r *Reader) end(err error) {
	if err == io.EOF {
		err = nil
	}
	r.ob.end(err, r.read, 0)
	r.ob = observation{}
}

// Get opens the object for reading, streaming it (memory does not grow with
// its size). The caller must Close the Reader.
//
// The body is verified (see Reader): always its length; for the whole
// object (or a range covering it) a full-object checksum the server
// returns (x-amz-checksum-*: CRC32C, CRC32, CRC64NVME, SHA1, SHA256), or
// else the ETag when it is the MD5 of the body (objects written in one
// part, not encrypted with SSE-KMS or SSE-C). A broken connection in the
// middle of the body is resumed with a ranged GET from the byte reached,
// pinned with If-Match to the ETag first seen, up to the client's retry
// attempts in a row without progress; if the object changed meanwhile,
// Read fails with ErrPreconditionFailed.
func (s *Storage) Get(ctx context.Context, src Name, opts *GetOptions) (_ *Reader, err error) {
	const op = "Get"
	ctx, ob := s.begin(ctx, op, src)
	defer func() {
		if err != nil {
			ob.end(err, 0, 0)
		}
	}()
	if opts == nil {
		opts = &GetOptions{}
	}
	src, err = s.resolve(op, src, true)
	if err != nil {
		return nil, err
	}
	if opts.Offset < 0 || opts.Length < 0 {
		return nil, inputError(op, src, ErrInvalidHeader, "negative range offset %d or length %d", opts.Offset, opts.Length)
	}
	in := &s3.GetObjectInput{Bucket: &src.Bucket, Key: &src.Key, ChecksumMode: types.ChecksumModeEnabled}
	if opts.Offset > 0 || opts.Length > 0 {
		rng := fmt.Sprintf("bytes=%d-", opts.Offset)
		if opts.Length > 0 {
			rng += fmt.Sprint(opts.Offset + opts.Length - 1)
		}
		in.Range = &rng
	}
	if opts.IfNoneMatch != "" {
		in.IfNoneMatch = &opts.IfNoneMatch
	}
	if opts.IfMatch != "" {
		in.IfMatch = &opts.IfMatch
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, opError(ctx, op, src, err)
	}
	info := getInfo(src, out)
	st := &stream{s: s, ctx: ctx, op: op, name: src, etag: aws.ToString(out.ETag), body: out.Body}
	st.end = aws.ToInt64(out.ContentLength)
	whole := true
	if in.Range != nil {
		// ContentLength is the range's; where it lies and the whole size
		// are in Content-Range. A server that ignored the range sent the
		// whole object.
		if first, last, total, ok := parseContentRange(aws.ToString(out.ContentRange)); ok {
			info.Size = total
			st.off, st.end = first, last+1
			whole = first == 0 && last == total-1
		} else if opts.Offset > 0 {
			out.Body.Close()
			return nil, &Error{Op: op, Name: src, Err: fmt.Errorf("server ignored the range %s", *in.Range)}
		}
	}
	exp := expect(out, whole && verifyReads.Load(), st.end-st.off)
	st.prog = newProgress(ctx, op, src, st.end-st.off, Bytes)
	return &Reader{Info: info, Length: st.end - st.off, body: st, v: newVerifier(exp), ob: ob}, nil
}

// verifyReads turns the checksum part of read verification off in the
// package's benchmarks only (see export_test.go); lengths are always
// checked.
var verifyReads = func() *atomic.Bool { var b atomic.Bool; b.Store(true); return &b }()

// parseContentRange reads "bytes first-last/total".
func parseContentRange(cr string) (first, last, total int64, ok bool) {
	if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &first, &last, &total); err != nil {
		return 0, 0, 0, false
	}
	return first, last, total, first >= 0 && first <= last && last < total
}

// A stream yields bytes [off, end) of one version of an object: the body of
// a GET, resumed with a ranged GET pinned to the ETag if the connection
// breaks. A body that ends early without an error (a short body with a
// matching Content-Length) is ErrCorrupt.
type stream struct {
	s        *Storage
	ctx      context.Context
	op       string
	name     Name
	etag     string
	off, end int64
	body     io.ReadCloser // nil: open at off on the next Read
	failures int           // broken bodies in a row without progress
	prog     *progress     // counts the bytes delivered (progress.go)
}

func (st *stream) Read(p []byte) (int, error) {
	for {
		if st.off >= st.end {
			return 0, st.finish()
		}
		if st.body == nil {
			if err := st.open(); err != nil {
				return 0, err
			}
		}
		if rest := st.end - st.off; int64(len(p)) > rest {
			p = p[:rest]
		}
		n, err := st.body.Read(p)
		st.off += int64(n)
		st.prog.add(int64(n))
		if n > 0 {
			st.failures = 0
		}
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF && st.off == st.end:
			st.close()
			return n, io.EOF
		case err == io.EOF:
			return n, st.corrupt(fmt.Errorf("body ended at byte %d of %d", st.off, st.end))
		case st.ctx.Err() != nil:
			return n, opError(st.ctx, st.op, st.name, err)
		}
		// A broken connection: resume from st.off, within the budget.
		st.close()
		st.failures++
		if st.failures >= st.s.maxAttempts() {
			return n, opError(st.ctx, st.op, st.name, err)
		}
		st.s.event(st.ctx, Event{Kind: EventRetry, Request: "GetObject", Attempt: st.failures + 1, Err: err})
		if n > 0 {
			return n, nil
		}
	}
}

// open sends the GET for bytes [off, end), pinned to the ETag.
func (st *stream) open() error {
	rng := fmt.Sprintf("bytes=%d-%d", st.off, st.end-1)
	in := &s3.GetObjectInput{Bucket: &st.name.Bucket, Key: &st.name.Key, Range: &rng}
	if st.etag != "" {
		in.IfMatch = &st.etag
	}
	out, err := st.s.client.GetObject(st.ctx, in)
	if err != nil {
		return opError(st.ctx, st.op, st.name, err)
	}
	// Servers that ignore If-Match on GET (the in-process one) are caught
	// by the ETag of the reply.
	if etag := aws.ToString(out.ETag); etag != st.etag {
		out.Body.Close()
		return &Error{Op: st.op, Name: st.name, Err: fmt.Errorf("object changed during the read (ETag %s, was %s)", etag, st.etag), kinds: []error{ErrPreconditionFailed}}
	}
	if first, last, _, ok := parseContentRange(aws.ToString(out.ContentRange)); !ok || first != st.off || last != st.end-1 {
		out.Body.Close()
		return &Error{Op: st.op, Name: st.name, Err: fmt.Errorf("server answered range %s with %q", rng, aws.ToString(out.ContentRange))}
	}
	st.body = out.Body
	return nil
}

// finish ends a stream that reached its end: the body must end there too
// (and once read to its EOF, the connection can be reused).
func (st *stream) finish() error {
	if st.body == nil {
		return io.EOF
	}
	var one [1]byte
	n, err := st.body.Read(one[:])
	st.close()
	if n > 0 {
		return st.corrupt(fmt.Errorf("body longer than the %d bytes announced", st.end))
	}
	_ = err // every byte arrived: a broken connection now loses nothing
	return io.EOF
}

func (st *stream) close() error {
	if st.body == nil {
		return nil
	}
	err := st.body.Close()
	st.body = nil
	return err
}

// corrupt builds the ErrCorrupt error of a body that failed verification.
func (st *stream) corrupt(err error) error {
	st.s.event(st.ctx, Event{Kind: EventCorrupt, Request: "GetObject", Err: err})
	return &Error{Op: st.op, Name: st.name, Err: err, kinds: []error{ErrCorrupt}}
}

// maxAttempts is the client's retry budget: how many times one request
// may be tried.
func (s *Storage) maxAttempts() int {
	o := s.client.Options()
	switch {
	case o.Retryer != nil:
		return max(o.Retryer.MaxAttempts(), 1)
	case o.RetryMaxAttempts > 0:
		return o.RetryMaxAttempts
	}
	return 3 // the SDK's standard retryer
}

// copyBufSize is the buffer of each stream Read copies into the file.
const copyBufSize = 256 << 10

// Read downloads src to the local file localPath and returns the object's
// user metadata. It writes to a temporary file beside localPath and
// renames it into place only once the whole body is verified (its length,
// and a checksum as for Get; for a parallel download CRC checksums are
// combined from the ranges, others are hashed over the file's written
// prefix as it grows, while the download goes on) and synced to disk (the
// kernel is asked to write the file back every 8 MiB as it downloads, so
// the final fsync waits for little), so on any
// failure or cancellation localPath is exactly as it was and no temporary
// file remains. A body that fails verification is an error that errors.Is
// ErrCorrupt. A localPath that is a directory is an error before anything
// is sent.
//
// The first request is a whole-object GET, which tells the size, ETag and
// checksum. Large objects are then also fetched in byte ranges of
// PartSize, Concurrency streams at once, while the first GET goes on from
// the start (the ranges come from the end for a CRC; for MD5 or SHA they
// follow the first GET's part, which then ends): those of at least
// Options.ParallelReadThreshold bytes, or by default those of 4 parts or
// more whose first part came slower than 128 MiB/s (a link that caps one
// stream). Every range
// is pinned to the first ETag (If-Match), so if the object changes during
// the download Read fails. Broken connections are resumed as for Get.
func (s *Storage) Read(ctx context.Context, src Name, localPath string) (_ Metadata, err error) {
	const op = "Read"
	ctx, ob := s.begin(ctx, op, src)
	var size int64
	defer func() { ob.end(err, size, 0) }()
	src, err = s.resolve(op, src, true)
	if err != nil {
		return nil, err
	}
	if localPath == "" || strings.HasSuffix(localPath, string(filepath.Separator)) || strings.HasSuffix(localPath, "/") {
		return nil, &Error{Op: op, Name: src, Err: fmt.Errorf("local path %q is not a file name", localPath)}
	}
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(localPath); err == nil {
		if st.IsDir() {
			return nil, &Error{Op: op, Name: src, Err: fmt.Errorf("local path %s is a directory", localPath)}
		}
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(localPath), "."+filepath.Base(localPath)+".s3map-*.tmp")
	if err != nil {
		return nil, &Error{Op: op, Name: src, Err: err}
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	info, err := s.download(ctx, op, src, tmp)
	if err != nil {
		return nil, err
	}
	for _, step := range []func() error{
		func() error { return tmp.Chmod(mode) },
		tmp.Sync,
		tmp.Close,
		func() error { return os.Rename(tmp.Name(), localPath) },
	} {
		if err := step(); err != nil {
			return nil, &Error{Op: op, Name: src, Err: err}
		}
	}
	done = true
	size = info.Size
	return info.Metadata, nil
}

// download writes the object into f, verified.
func (s *Storage) download(ctx context.Context, op string, src Name, f *os.File) (Info, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &src.Bucket, Key: &src.Key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return Info{}, opError(ctx, op, src, err)
	}
	info := getInfo(src, out)
	size := info.Size
	first := &stream{s: s, ctx: ctx, op: op, name: src, etag: info.ETag, end: size, body: out.Body,
		prog: newProgress(ctx, op, src, size, Bytes)}
	defer first.close()
	defer first.prog.end()
	exp := expect(out, verifyReads.Load(), size)
	canSplit := s.opts.Concurrency > 1 && size > s.opts.PartSize
	switch {
	case canSplit && s.opts.ParallelReadThreshold > 0 && size >= s.opts.ParallelReadThreshold:
		err = s.downloadParallel(ctx, first, f, exp, false)
	case canSplit && s.opts.ParallelReadThreshold == 0 && size >= adaptiveReadMin*s.opts.PartSize:
		err = s.downloadParallel(ctx, first, f, exp, true)
	default:
		v := newVerifier(exp)
		if err = copyAt(ctx, f, 0, size, first, v, make([]byte, copyBufSize)); err == nil {
			if cerr := v.check(); cerr != nil {
				err = first.corrupt(cerr)
			}
		}
	}
	if err != nil {
		return Info{}, opError(ctx, op, src, err)
	}
	// The file must hold exactly what the server announced.
	if st, err := f.Stat(); err != nil {
		return Info{}, &Error{Op: op, Name: src, Err: err}
	} else if st.Size() != size {
		return Info{}, first.corrupt(fmt.Errorf("wrote %d bytes, the object has %d", st.Size(), size))
	}
	return info, nil
}

// adaptiveReadMin: by default (Options.ParallelReadThreshold 0), objects
// of at least this many parts may go parallel, and do when their first
// part arrives slower than slowStreamRate.
const adaptiveReadMin = 4

// slowStreamRate is the rate in bytes per second under which one stream is
// taken to be capped by the link (a far server, a per-connection limit), so
// that parallel ranges gain: 128 MiB/s. One stream on loopback or next to
// the server is faster, and there parallel ranges only cost.
const slowStreamRate = 128 << 20

// slowStream reports whether n bytes in d are slower than slowStreamRate.
// Tests replace it (export_test.go) to decide without timing.
var slowStream = func(n int64, d time.Duration) bool {
	return float64(n) < slowStreamRate*d.Seconds()
}

// downloadParallel writes the object into f: first, the whole-object GET,
// goes on from the start part by part, while Concurrency-1 workers fetch
// the other parts in ranged GETs. With adaptive, the workers start only if
// first's first part came slowly (slowStream); otherwise first reads it
// all.
//
// How the parts are shared depends on the digest. A CRC combines from the
// parts' own CRCs, so the workers take parts from the end and meet first
// in the middle, where first's body is closed: first streams on without a
// new request. A digest that does not combine (MD5, SHA) must see the
// bytes in order, so every stream takes parts from the start: first's
// bytes are hashed as they pass, as long as its parts follow each other;
// once a worker has taken its next part, first closes its body and fetches
// parts as the workers do, and a hasher hashes the file's contiguous
// written prefix as it grows (see hashPrefix). So the digest keeps up with
// the download instead of reading the file again after it.
func (s *Storage) downloadParallel(ctx context.Context, first *stream, f *os.File, exp expectation, adaptive bool) error {
	size, partSize := first.end, s.opts.PartSize
	parts := (size + partSize - 1) / partSize
	partEnd := func(i int64) int64 { return min((i+1)*partSize, size) }
	poly, width, isCRC := crcPoly(exp.alg)
	ordered := exp.alg != "" && !isCRC
	var (
		mu          sync.Mutex
		front, back = int64(0), parts - 1 // next part from the start, from the end
	)
	claim := func(fromFront bool) (int64, bool) {
		mu.Lock()
		defer mu.Unlock()
		if front > back {
			return 0, false
		}
		if fromFront || ordered {
			front++
			return front - 1, true
		}
		back--
		return back + 1, true
	}
	// claimAfter claims part i+1 for first only if no one took it: first's
	// body is there.
	claimAfter := func(i int64) (int64, bool) {
		mu.Lock()
		defer mu.Unlock()
		if front != i+1 || front > back {
			return 0, false
		}
		front++
		return i + 1, true
	}
	crcs := make([]uint64, parts)
	v := newVerifier(exp) // the prefix first reads; then, ordered, all
	var (
		written = make([]atomic.Int64, parts) // ordered: bytes written from each part's start
		grew    = make(chan struct{}, 1)      // ordered: a part grew
		runEnd  int64                         // ordered: where first's run of parts ended
		ranOut  = make(chan struct{})         // closed when runEnd is set
	)
	// fetch downloads part i in a ranged GET.
	fetch := func(gctx context.Context, i int64, buf []byte) error {
		if beforePartHook != nil {
			beforePartHook(i * partSize)
		}
		part := &stream{s: s, ctx: gctx, op: first.op, name: first.name, etag: first.etag, off: i * partSize, end: partEnd(i), prog: first.prog}
		defer part.close()
		var w io.Writer
		var h hash.Hash
		switch {
		case ordered:
			w = partGrowth{&written[i], grew}
		case isCRC:
			h = newHash(exp.alg)
			w = h
		}
		if err := copyAt(gctx, f, part.off, part.end-part.off, part, w, buf); err != nil {
			return err
		}
		if h != nil {
			crcs[i] = crcValue(h)
		}
		return nil
	}
	// Each stream claims its first part before any starts, so every
	// worker has one while parts last.
	g, gctx := errgroup.WithContext(ctx)
	i0, _ := claim(true)
	startWorkers := func() {
		for range s.opts.Concurrency - 1 {
			i0, ok := claim(false)
			if !ok {
				break
			}
			g.Go(func() error {
				buf := make([]byte, copyBufSize)
				for i, ok := i0, true; ok; i, ok = claim(false) {
					if err := fetch(gctx, i, buf); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	if !adaptive {
		startWorkers()
	}
	g.Go(func() error {
		defer first.close()
		buf := make([]byte, copyBufSize)
		start := time.Now()
		for i := i0; ; {
			if err := copyAt(gctx, f, i*partSize, partEnd(i)-i*partSize, first, v, buf); err != nil {
				return err
			}
			if adaptive && i == i0 {
				n, d := partEnd(i)-i*partSize, time.Since(start)
				slow := slowStream(n, d)
				s.logger().Debug("storage: Read judged the link by its first part", "op", first.op, "name", first.name.String(),
					"bytes", n, "seconds", d.Seconds(), "parallel", slow)
				if slow {
					startWorkers()
				}
			}
			next, ok := int64(0), false
			if ordered {
				next, ok = claimAfter(i)
			} else {
				next, ok = claim(true)
			}
			if !ok {
				runEnd = partEnd(i)
				break
			}
			i = next
		}
		if !ordered {
			return nil
		}
		// ordered: first's run ended at runEnd; it fetches parts as
		// the workers do from now on.
		first.close()
		close(ranOut)
		for i, ok := claim(true); ok; i, ok = claim(true) {
			if err := fetch(gctx, i, buf); err != nil {
				return err
			}
		}
		return nil
	})
	if ordered {
		g.Go(func() error {
			select {
			case <-ranOut:
			case <-gctx.Done():
				return gctx.Err()
			}
			return hashPrefix(gctx, f, v, runEnd, size, partSize, written, grew)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// Every part is complete (copyAt), so the length holds; download
	// checks the file's size too.
	switch {
	case exp.alg == "":
		return nil
	case isCRC:
		c := crcValue(v.h)
		for i := front; i < parts; i++ {
			c = crcCombine(poly, width, c, crcs[i], partEnd(i)-i*partSize)
		}
		err := exp.match(crcBytes(c, width))
		if err != nil && exp.orIEEE {
			// The rare server that called a CRC32 CRC32C: hash the file.
			v = newVerifier(expectation{size: size, alg: "CRC32", sum: exp.sum})
			if _, err := io.CopyBuffer(v, io.NewSectionReader(f, 0, size), make([]byte, copyBufSize)); err != nil {
				return err
			}
			err = v.check()
		}
		if err != nil {
			return first.corrupt(err)
		}
		return nil
	}
	if err := v.check(); err != nil {
		return first.corrupt(err)
	}
	return nil
}

// Test hooks (export_test.go); nil outside tests. beforePartHook is called
// with a part's offset before a ranged GET of a parallel download fetches
// it; hashedHook with how many bytes of the file hashPrefix has hashed.
var (
	beforePartHook func(off int64)
	hashedHook     func(n int64)
)

// partGrowth counts the bytes copyAt has written into one part of the
// file, and signals grew.
type partGrowth struct {
	n    *atomic.Int64
	grew chan struct{}
}

func (p partGrowth) Write(b []byte) (int, error) {
	p.n.Add(int64(len(b)))
	select {
	case p.grew <- struct{}{}:
	default:
	}
	return len(b), nil
}

// hashPrefix feeds v the bytes of f from pos to size in order, reading
// each as soon as the part holding it has been written that far (written
// counts each part's bytes from its start; grew signals growth). It ends
// when all are hashed, or when ctx ends.
func hashPrefix(ctx context.Context, f io.ReaderAt, v io.Writer, pos, size, partSize int64, written []atomic.Int64, grew <-chan struct{}) error {
	buf := make([]byte, copyBufSize)
	for pos < size {
		j := pos / partSize
		avail := j*partSize + written[j].Load()
		if avail <= pos {
			select {
			case <-grew:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		k, err := f.ReadAt(buf[:min(avail-pos, int64(len(buf)))], pos)
		if err != nil && !(err == io.EOF && k > 0) {
			return err
		}
		v.Write(buf[:k])
		pos += int64(k)
		if hashedHook != nil {
			hashedHook(pos)
		}
	}
	return nil
}

// copyAt copies exactly n bytes from r into f at off, and into w when it
// is not nil. It stops when ctx is done. A slow digest (verifier.slow) is fed
// in a goroutine of its own, so that hashing overlaps the network and the
// file instead of adding to them.
func copyAt(ctx context.Context, f io.WriterAt, off, n int64, r io.Reader, w io.Writer, buf []byte) error {
	var p *hashPipe
	if v, ok := w.(*verifier); ok && v.slow() {
		p = newHashPipe(w, buf)
		defer p.close()
	}
	file, _ := f.(*os.File) // nil: no writeback
	if writebackEvery <= 0 {
		file = nil
	}
	written := off // asked to be written back from the start up to here
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if p != nil {
			buf = <-p.free
		}
		k, err := r.Read(buf[:min(int64(len(buf)), n)])
		if k > 0 {
			if _, werr := f.WriteAt(buf[:k], off); werr != nil {
				return werr
			}
			switch {
			case p != nil:
				p.full <- buf[:k]
			case w != nil:
				w.Write(buf[:k])
			}
			off += int64(k)
			n -= int64(k)
			if file != nil && off-written >= writebackEvery {
				writeback(file, written, off-written)
				written = off
			}
		} else if p != nil {
			p.free <- buf
		}
		if err == io.EOF && n == 0 {
			break
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // a stream never ends before its end
			}
			return err
		}
	}
	// The range's tail (a part may be shorter than writebackEvery).
	if file != nil && off > written {
		writeback(file, written, off-written)
	}
	return nil
}

// A hashPipe writes to w, in its own goroutine, the buffers sent on full,
// and hands them back on free: copyAt fills one while another is hashed.
type hashPipe struct {
	w          io.Writer
	full, free chan []byte
	done       chan struct{}
}

func newHashPipe(w io.Writer, buf []byte) *hashPipe {
	const bufs = 3
	p := &hashPipe{w: w, full: make(chan []byte, bufs), free: make(chan []byte, bufs), done: make(chan struct{})}
	p.free <- buf
	for range bufs - 1 {
		p.free <- make([]byte, len(buf))
	}
	go func() {
		defer close(p.done)
		for b := range p.full {
			p.w.Write(b)
			p.free <- b[:cap(b)]
		}
	}()
	return p
}

// close waits until everything sent is hashed.
func (p *hashPipe) close() {
	close(p.full)
	<-p.done
}
