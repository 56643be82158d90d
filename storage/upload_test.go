package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/logging"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// newInjector returns a fault injector for scripted faults; a Delay
// fault stalls a request for a minute (until its context ends).
func newInjector() *s3test.Injector {
	return s3test.NewInjector(&s3test.FaultOptions{Delay: time.Minute})
}

// requests counts the requests of an operation the injector saw.
func requests(inj *s3test.Injector, op string) int { return inj.Stats().ByOperation[op] }

// hookAfterFault runs hook once, after the first request of op that the
// transport beneath fails (a lost reply): another client's work between
// the lost reply and what the library does next.
func hookAfterFault(op string, hook func()) func(http.RoundTripper) http.RoundTripper {
	var once sync.Once
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(r)
			if err != nil && s3test.Operation(r) == op {
				once.Do(hook)
			}
			return resp, err
		})
	}
}

// logBuffer is a slog.Logger writing into a buffer, to see decisions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// noGlobalOutput fails the test if anything reaches the global log.
func noGlobalOutput(t *testing.T) {
	t.Helper()
	var global bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&global)
	t.Cleanup(func() {
		log.SetOutput(prev)
		if global.Len() > 0 {
			t.Errorf("written to the global log: %q", global.String())
		}
	})
}

// stored reads n whole.
func stored(t testing.TB, st *storage.Storage, n storage.Name) []byte {
	t.Helper()
	r, err := st.Get(context.Background(), n, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func uploadsLeft(t testing.TB, tg *s3test.Target) int {
	t.Helper()
	out, err := tg.Storage.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &tg.Config.DefaultBucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

// A conditional write whose reply is lost after the server stored it is
// success, not a conflict: the SDK does not send it again blindly (which
// got a 412 from our own write), and the stored ETag is the MD5 of ours.
func TestLostReplyOfConditionalPut(t *testing.T) {
	noGlobalOutput(t)
	for _, size := range []int{10, 40 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
				ctx := context.Background()
				// Through the fault proxy: the connection itself is
				// reset after the server did the work.
				inj := newInjector()
				ftg := tg.WithFaults(t, inj)
				var lb logBuffer
				st, err := storage.New(ftg.Storage.Client(), &storage.Options{DefaultBucket: tg.Config.DefaultBucket, Logger: lb.logger()})
				if err != nil {
					t.Fatal(err)
				}
				n := storage.Name{Key: "lost"}
				v1, v2 := randomBytes(t, size), randomBytes(t, size)

				inj.Script("PutObject", s3test.ResetAfter)
				info, err := st.Put(ctx, n, bytes.NewReader(v1), &storage.PutOptions{IfNoneMatch: "*"})
				if err != nil {
					t.Fatalf("SetIfAbsent whose reply was lost: %v; want success", err)
				}
				if sum := md5.Sum(v1); info.ETag != fmt.Sprintf("%q", fmt.Sprintf("%x", sum)) {
					t.Errorf("ETag %s; want the MD5 of the value", info.ETag)
				}
				inj.Script("PutObject", s3test.ResetAfter)
				if _, err := st.Put(ctx, n, bytes.NewReader(v2), &storage.PutOptions{IfMatch: info.ETag}); err != nil {
					t.Fatalf("CompareAndSwap whose reply was lost: %v; want success", err)
				}
				if !bytes.Equal(stored(t, st, n), v2) {
					t.Error("the stored value is not the swapped one")
				}
				// Conditional writes go as one PutObject up to 5 GiB.
				if c := requests(inj, "CreateMultipartUpload"); c != 0 {
					t.Errorf("%d CreateMultipartUpload for a conditional write of %d bytes; want one PutObject", c, size)
				}
				if !strings.Contains(lb.String(), "verdict=ours") {
					t.Errorf("log does not show the resolution:\n%s", lb.String())
				}
			})
		})
	}
}

// After a lost reply, another writer's change means the outcome cannot be
// known: ErrOutcomeUnknown, never ErrPreconditionFailed.
func TestLostReplyThenOtherWriterIsOutcomeUnknown(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		inj := newInjector()
		n := storage.Name{Key: "contended"}
		other := hookAfterFault("PutObject", func() {
			if _, err := tg.Storage.Put(ctx, n, strings.NewReader("other"), nil); err != nil {
				t.Error(err)
			}
		})
		st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper { return other(inj.Transport(next)) }, nil)
		first, err := st.Put(ctx, n, strings.NewReader("v1"), nil)
		if err != nil {
			t.Fatal(err)
		}
		inj.Script("PutObject", s3test.ResetAfter)
		_, err = st.Put(ctx, n, strings.NewReader("v2"), &storage.PutOptions{IfMatch: first.ETag})
		if !errors.Is(err, storage.ErrOutcomeUnknown) || errors.Is(err, storage.ErrPreconditionFailed) {
			t.Fatalf("lost reply, then another write: %v; want ErrOutcomeUnknown only", err)
		}
		// A reply lost before the server saw the request: sent again.
		inj.Script("PutObject", s3test.ResetBefore)
		cur, _ := st.Stat(ctx, n)
		if _, err := st.Put(ctx, n, strings.NewReader("v3"), &storage.PutOptions{IfMatch: cur.ETag}); err != nil {
			t.Fatalf("a request that never reached the server: %v; want it sent again", err)
		}
		if got := stored(t, st, n); string(got) != "v3" {
			t.Errorf("stored %q; want v3", got)
		}
	})
}

// A real conflict stays a conflict, also for a 40 MB value: a stale
// CompareAndSwap and a SetIfAbsent on an existing key are refused on
// every server, since they go as one PutObject.
func TestStaleLargeConditionalWritesRefused(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		n := storage.Name{Key: "big"}
		old, err := st.Put(ctx, n, bytes.NewReader(randomBytes(t, 40<<20)), nil)
		if err != nil {
			t.Fatal(err)
		}
		current := randomBytes(t, 40<<20)
		if _, err := st.Put(ctx, n, bytes.NewReader(current), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Put(ctx, n, bytes.NewReader(randomBytes(t, 40<<20)), &storage.PutOptions{IfMatch: old.ETag}); !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Errorf("stale CompareAndSwap of 40 MB: %v; want ErrPreconditionFailed", err)
		}
		if _, err := st.Put(ctx, n, bytes.NewReader(randomBytes(t, 40<<20)), &storage.PutOptions{IfNoneMatch: "*"}); !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Errorf("SetIfAbsent of 40 MB on an existing key: %v; want ErrPreconditionFailed", err)
		}
		if !bytes.Equal(stored(t, st, n), current) {
			t.Error("a refused conditional write changed the value")
		}
	})
}

// DeleteIf whose reply was lost after the delete is success.
func TestLostReplyOfDeleteIf(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		inj := newInjector()
		st := withTransport(t, tg, inj.Transport, nil)
		n := storage.Name{Key: "del"}
		info, err := st.Put(ctx, n, strings.NewReader("x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		inj.Script("DeleteObject", s3test.ResetAfter)
		if err := st.DeleteIf(ctx, n, info.ETag); err != nil {
			t.Fatalf("DeleteIf whose reply was lost: %v; want success", err)
		}
		if ok, _, _ := st.Exists(ctx, n); ok {
			t.Error("the object is still there")
		}
		if requests(inj, "DeleteObject") != 1 {
			t.Errorf("%d DeleteObject requests; want 1 (the check found it gone)", requests(inj, "DeleteObject"))
		}
	})
}

// A lost CreateMultipartUpload reply: the upload the server made is found
// and aborted, the write succeeds, and no upload is left.
func TestLostReplyOfCreateMultipartUpload(t *testing.T) {
	noGlobalOutput(t)
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		inj := newInjector()
		st := withTransport(t, tg, inj.Transport, nil)
		n := storage.Name{Key: "mp"}
		data := randomBytes(t, 20<<20)
		inj.Script("CreateMultipartUpload", s3test.ResetAfter)
		if _, err := st.Put(ctx, n, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		if c := requests(inj, "CreateMultipartUpload"); c < 2 {
			t.Fatalf("%d CreateMultipartUpload; the fault did not hit", c)
		}
		if left := uploadsLeft(t, tg); left != 0 {
			t.Errorf("%d multipart uploads left after a lost CreateMultipartUpload reply", left)
		}
		if !bytes.Equal(stored(t, st, n), data) {
			t.Error("stored value differs")
		}
	})
}

// A lost CompleteMultipartUpload reply with the object stored whole is
// success; on a server whose HEAD ETag is not the multipart ETag and that
// keeps no checksum (the in-process one), the honest answer is
// ErrOutcomeUnknown. No upload is left either way.
func TestLostReplyOfCompleteMultipartUpload(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		// Can this server's object be recognised from a stream (whose
		// bytes are gone)? Only by an S3-style multipart ETag or a kept
		// CRC32C; the in-process server answers the MD5 of the whole.
		probe, err := tg.Storage.Put(context.Background(), storage.Name{Key: "probe"}, struct{ io.Reader }{bytes.NewReader(randomBytes(t, 12<<20))}, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, err := tg.Storage.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &tg.Config.DefaultBucket, Key: aws.String("probe"), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		streamKnowable := strings.Contains(probe.ETag, "-") || aws.ToString(h.ChecksumCRC32C) != ""
		for _, tc := range []struct {
			name   string
			opts   *storage.PutOptions
			stream bool
		}{
			{"file", nil, false},
			{"stream", nil, true},
			{"stream-if-none-match", &storage.PutOptions{IfNoneMatch: "*"}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				inj := newInjector()
				st := withTransport(t, tg, inj.Transport, nil)
				n := storage.Name{Key: "complete-" + tc.name}
				data := randomBytes(t, 20<<20)
				inj.Script("CompleteMultipartUpload", s3test.ResetAfter)
				var r io.Reader = bytes.NewReader(data)
				if tc.stream {
					// A pipe: a stream of unknown length goes in
					// parts, also when conditional.
					pr, pw := io.Pipe()
					go func() { pw.CloseWithError(copyAll(pw, data)) }()
					r = pr
				}
				_, err := st.Put(ctx, n, r, tc.opts)
				if requests(inj, "CompleteMultipartUpload") == 0 {
					t.Fatal("no CompleteMultipartUpload")
				}
				switch {
				case tc.stream && !streamKnowable && errors.Is(err, storage.ErrOutcomeUnknown) && !errors.Is(err, storage.ErrPreconditionFailed):
					// cannot recognise its own object: the honest answer
				case err != nil:
					t.Fatalf("Put whose Complete reply was lost: %v; want success", err)
				default:
					if !bytes.Equal(stored(t, st, n), data) {
						t.Error("stored value differs")
					}
				}
				if left := uploadsLeft(t, tg); left != 0 {
					t.Errorf("%d multipart uploads left", left)
				}
			})
		}
	})
}

func copyAll(w io.Writer, b []byte) error {
	_, err := io.Copy(w, bytes.NewReader(b))
	return err
}

// An abort that stalls is given up after its attempt timeout and sent
// again: the upload is removed, and the write returns.
func TestStalledAbortIsRetried(t *testing.T) {
	defer storage.SetCleanupTimeouts(20*time.Second, 300*time.Millisecond)()
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		inj := newInjector()
		var lb logBuffer
		st := withTransport(t, tg, inj.Transport, &storage.Options{Logger: lb.logger()})
		inj.Script("AbortMultipartUpload", s3test.Delay)
		data := randomBytes(t, 40<<20)
		r := &cancelAfter{r: bytes.NewReader(data), n: 30 << 20, cancel: cancel}
		_, err := st.Put(ctx, storage.Name{Key: "stalled"}, struct{ io.Reader }{r}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Put: %v; want context.Canceled", err)
		}
		if c := requests(inj, "AbortMultipartUpload"); c < 2 {
			t.Errorf("%d AbortMultipartUpload; want the stalled one sent again", c)
		}
		if left := uploadsLeft(t, tg); left != 0 {
			t.Errorf("%d multipart uploads left after a stalled abort", left)
		}
		if !strings.Contains(lb.String(), "aborted multipart upload") {
			t.Errorf("log does not show the abort:\n%s", lb.String())
		}
	})
}

// AbortUploads removes uploads a crashed process left, under the prefix
// only.
func TestAbortUploads(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		c := tg.Storage.Client()
		b := tg.Config.DefaultBucket
		for _, key := range []string{"tmp/a", "tmp/b", "keep/c"} {
			if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := tg.Storage.AbortUploads(ctx, "", "tmp/", 0)
		if err != nil || n != 2 {
			t.Fatalf("AbortUploads: %d, %v; want 2, nil", n, err)
		}
		if left := uploadsLeft(t, tg); left != 1 {
			t.Errorf("%d uploads left; want keep/c's", left)
		}
		if _, err := tg.Storage.AbortUploads(ctx, "", "", -time.Second); !errors.Is(err, storage.ErrInvalidConfig) {
			t.Errorf("negative age: %v; want ErrInvalidConfig", err)
		}
		tg.Storage.AbortUploads(ctx, "", "", 0)
	})
}

func crc32cB64(b []byte) string {
	var x [4]byte
	binary.BigEndian.PutUint32(x[:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return base64.StdEncoding.EncodeToString(x[:])
}

// Uploads store a full-object CRC32C where the server keeps checksums,
// and never a wrong one: single-part and multipart, from a file and from a
// stream.
func TestUploadChecksums(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		for _, size := range []int{1000, 21 << 20} {
			for _, stream := range []bool{false, true} {
				data := randomBytes(t, size)
				n := storage.Name{Key: fmt.Sprintf("sum-%d-%v", size, stream)}
				var r io.Reader = bytes.NewReader(data)
				if stream {
					r = struct{ io.Reader }{r}
				}
				if _, err := tg.Storage.Put(ctx, n, r, nil); err != nil {
					t.Fatal(err)
				}
				h, err := tg.Storage.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: &tg.Config.DefaultBucket, Key: &n.Key, ChecksumMode: types.ChecksumModeEnabled})
				if err != nil {
					t.Fatal(err)
				}
				if got := aws.ToString(h.ChecksumCRC32C); got != "" && got != crc32cB64(data) {
					t.Errorf("%s: stored CRC32C %s; want %s", n.Key, got, crc32cB64(data))
				}
				t.Logf("%s: CRC32C stored: %v", n.Key, aws.ToString(h.ChecksumCRC32C) != "")
				if !bytes.Equal(stored(t, tg.Storage, n), data) {
					t.Errorf("%s: stored value differs", n.Key)
				}
			}
		}
	})
}

// Streams, files and Size: lengths that disagree with Size store nothing.
func TestPutSizeMismatch(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		for _, tc := range []struct {
			len, size int
			cond      bool
		}{{100, 50, false}, {100, 200, false}, {9 << 20, 10 << 20, true}, {11 << 20, 10 << 20, true}, {30 << 20, 20 << 20, false}} {
			n := storage.Name{Key: fmt.Sprintf("size-%d-%d", tc.len, tc.size)}
			opts := &storage.PutOptions{Size: int64(tc.size)}
			if tc.cond {
				opts.IfNoneMatch = "*"
			}
			_, err := st.Put(ctx, n, struct{ io.Reader }{bytes.NewReader(randomBytes(t, tc.len))}, opts)
			if !errors.Is(err, storage.ErrInvalidHeader) {
				t.Errorf("%d bytes with Size %d: %v; want ErrInvalidHeader", tc.len, tc.size, err)
			}
			if info, err := st.Stat(ctx, n); err == nil && !tg.Caps.StoresCutBodies {
				t.Errorf("%d bytes with Size %d: stored, %d bytes", tc.len, tc.size, info.Size)
			}
		}
		if left := uploadsLeft(t, tg); left != 0 {
			t.Errorf("%d uploads left", left)
		}
		// The right Size streams a conditional write as one PutObject.
		data := randomBytes(t, 12<<20)
		n := storage.Name{Key: "sized"}
		if _, err := st.Put(ctx, n, struct{ io.Reader }{bytes.NewReader(data)}, &storage.PutOptions{Size: int64(len(data)), IfNoneMatch: "*"}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stored(t, st, n), data) {
			t.Error("stored value differs")
		}
	})
}

// storage.Writer streams into the same upload; CloseWithError stores
// nothing and leaves no parts.
func TestWriter(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		data := randomBytes(t, 20<<20)
		w := st.NewWriter(ctx, storage.Name{Key: "w"}, &storage.PutOptions{Headers: storage.Headers{"Content-Type": "application/x-test"}})
		for b := data; len(b) > 0; b = b[min(len(b), 1<<20):] {
			if _, err := w.Write(b[:min(len(b), 1<<20)]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if info := w.Info(); info.Size != int64(len(data)) || info.ETag == "" {
			t.Errorf("Info after Close: %+v", info)
		}
		if !bytes.Equal(stored(t, st, storage.Name{Key: "w"}), data) {
			t.Error("stored value differs")
		}
		w = st.NewWriter(ctx, storage.Name{Key: "abandoned"}, nil)
		w.Write(data)
		if err := w.CloseWithError(errors.New("changed my mind")); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := st.Exists(ctx, storage.Name{Key: "abandoned"}); ok {
			t.Error("an abandoned write was stored")
		}
		if left := uploadsLeft(t, tg); left != 0 {
			t.Errorf("%d uploads left", left)
		}
		w = st.NewWriter(ctx, storage.Name{Key: ""}, nil)
		if _, err := w.Write([]byte("x")); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("Write to an empty key: %v; want ErrInvalidName", err)
		}
		if err := w.Close(); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("Close of a write to an empty key: %v; want ErrInvalidName", err)
		}
	})
}

// Settings that would exhaust memory are refused by New and Validate.
func TestTransferBounds(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	client := srv.Storage().Client()
	for _, o := range []storage.Options{{Concurrency: 1_000_000_000}, {PartSize: 1 << 40}, {MultipartThreshold: 6 << 30}, {CopyPartSize: 6 << 30}} {
		if _, err := storage.New(client, &o); !errors.Is(err, storage.ErrInvalidConfig) {
			t.Errorf("New(%+v): %v; want ErrInvalidConfig", o, err)
		}
	}
	for _, y := range []string{"concurrency: 1000000000", "part_size: 1GiB"} {
		_, err := storage.ParseConfig([]byte(y))
		if !errors.Is(err, storage.ErrInvalidConfig) || !strings.Contains(err.Error(), strings.Split(y, ":")[0]) {
			t.Errorf("%s: %v; want ErrInvalidConfig naming the field", y, err)
		}
	}
	if _, err := storage.New(client, &storage.Options{Concurrency: storage.MaxConcurrency, PartSize: storage.MaxPartSize}); err != nil {
		t.Errorf("the bounds themselves: %v", err)
	}
}

// Nothing reaches stderr: the SDK's own logger is silenced by Open. (A GET
// with ChecksumMode from a server that keeps no checksum makes the SDK
// log a line.)
func TestOpenSilencesSDKLogger(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		if _, ok := tg.Storage.Client().Options().Logger.(logging.Nop); !ok {
			t.Errorf("the client's logger is %T; want logging.Nop", tg.Storage.Client().Options().Logger)
		}
	})
}

// Streams of unknown length over one part go in parts with the condition
// on CompleteMultipartUpload: refused where the server honours it, and no
// upload is left.
func TestMultipartConditionalWrites(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		n := storage.Name{Key: "mp-cond"}
		stream := func() io.Reader { return struct{ io.Reader }{bytes.NewReader(randomBytes(t, 12<<20))} }
		first, err := st.Put(ctx, n, stream(), &storage.PutOptions{IfNoneMatch: "*"})
		if err != nil {
			t.Fatalf("create in parts: %v", err)
		}
		if !tg.Caps.IgnoresMultipartIfNoneMatch {
			if _, err := st.Put(ctx, n, stream(), &storage.PutOptions{IfNoneMatch: "*"}); !errors.Is(err, storage.ErrPreconditionFailed) {
				t.Errorf("IfNoneMatch in parts on an existing key: %v; want ErrPreconditionFailed", err)
			}
		}
		second, err := st.Put(ctx, n, stream(), &storage.PutOptions{IfMatch: first.ETag})
		if err != nil {
			t.Fatalf("IfMatch in parts with the current ETag: %v", err)
		}
		if !tg.Caps.IgnoresMultipartIfMatch {
			if _, err := st.Put(ctx, n, stream(), &storage.PutOptions{IfMatch: first.ETag}); !errors.Is(err, storage.ErrPreconditionFailed) {
				t.Errorf("stale IfMatch in parts: %v; want ErrPreconditionFailed", err)
			}
			if info, _ := st.Stat(ctx, n); info.ETag != second.ETag && !tg.Caps.MultipartETagDiffers {
				t.Errorf("after a refused write the ETag is %s; want %s", info.ETag, second.ETag)
			}
		}
		if left := uploadsLeft(t, tg); left != 0 {
			t.Errorf("%d uploads left", left)
		}
	})
}

// An *os.File that cannot seek (a pipe, as stdin often is) is read as a
// stream.
func TestPutFromPipeFile(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		data := randomBytes(t, 1<<20)
		go func() { pw.Write(data); pw.Close() }()
		n := storage.Name{Key: "from-pipe"}
		if _, err := tg.Storage.Put(context.Background(), n, pr, nil); err != nil {
			t.Fatalf("Put from a pipe: %v", err)
		}
		if !bytes.Equal(stored(t, tg.Storage, n), data) {
			t.Error("stored value differs")
		}
	})
}

// Exactly once under random faults: writers append their tags to one
// object by compare-and-swap through an injector that resets, loses
// replies and answers 5xx on a fifth of PutObject and HeadObject requests.
// Every write reported done holds its tag exactly once; none is reported
// as a conflict while its own write landed (its tag would appear twice or
// be reported lost).
func TestExactlyOnceUnderFaults(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		tg.SkipIf(t, tg.Caps.NonAtomicConditionalWrites, "atomic conditional writes")
		ctx := context.Background()
		inj := s3test.NewInjector(&s3test.FaultOptions{
			Rate: 0.2, Seed: 7,
			Kinds:      []s3test.Kind{s3test.ResetBefore, s3test.ResetAfter, s3test.SlowDownBefore, s3test.SlowDownAfter, s3test.InternalErrorAfter},
			Operations: []string{"PutObject", "HeadObject"},
		})
		st := withTransport(t, tg, inj.Transport, nil)
		n := storage.Name{Key: "tags"}
		if _, err := tg.Storage.Put(ctx, n, strings.NewReader(""), nil); err != nil {
			t.Fatal(err)
		}
		const writers, each = 4, 10
		var (
			mu   sync.Mutex
			done = map[string]bool{} // tags whose write returned nil
		)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					tag := fmt.Sprintf("w%d-%d;", w, i)
					for attempt := 0; ; attempt++ {
						if attempt > 50 {
							t.Errorf("%s: no progress", tag)
							return
						}
						info, err := tg.Storage.Stat(ctx, n)
						if err != nil {
							t.Error(err)
							return
						}
						old := stored(t, tg.Storage, n)
						_, err = st.Put(ctx, n, strings.NewReader(string(old)+tag), &storage.PutOptions{IfMatch: info.ETag})
						if err == nil {
							mu.Lock()
							done[tag] = true
							mu.Unlock()
							break
						}
						if errors.Is(err, storage.ErrPreconditionFailed) {
							continue // a real conflict: read again
						}
						// Outcome unknown, or a failure: the tag may or
						// may not be there; look.
						if strings.Contains(string(stored(t, tg.Storage, n)), tag) {
							mu.Lock()
							done[tag] = true
							mu.Unlock()
							break
						}
					}
				}
			})
		}
		wg.Wait()
		final := string(stored(t, tg.Storage, n))
		for w := range writers {
			for i := range each {
				tag := fmt.Sprintf("w%d-%d;", w, i)
				if c := strings.Count(final, tag); c != 1 || !done[tag] {
					t.Errorf("%s: %d times in the final value, reported done %v; want once and done", tag, c, done[tag])
				}
			}
		}
		t.Logf("%s: %d faults injected in %d requests", tg.Name, inj.Stats().Faults, inj.Stats().Requests)
	})
}

// Uploads lists the uploads under a prefix (MinIO too, which matches the
// request's prefix only against whole keys), with their IDs and an age by
// the server's clock; AbortUpload aborts one, and again is no error.
func TestUploadsAndAbortUpload(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		c := tg.Storage.Client()
		b := tg.Config.DefaultBucket
		ids := map[string]string{}
		for _, key := range []string{"tmp/a", "tmp/b", "keep/c"} {
			out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			ids[key] = aws.ToString(out.UploadId)
		}
		t.Cleanup(func() { tg.Storage.AbortUploads(context.Background(), "", "", 0) })
		list := func() map[string]storage.Upload {
			t.Helper()
			got := map[string]storage.Upload{}
			ups, errf := tg.Storage.Uploads(ctx, "", "tmp/")
			for up := range ups {
				got[up.Name.Key] = up
			}
			if err := errf(); err != nil {
				t.Fatal(err)
			}
			return got
		}
		got := list()
		if len(got) != 2 || got["tmp/a"].ID != ids["tmp/a"] || got["tmp/b"].ID != ids["tmp/b"] {
			t.Fatalf("Uploads(tmp/) = %v; want tmp/a and tmp/b with their IDs", got)
		}
		if a := got["tmp/a"]; a.Name.Bucket != b || a.Initiated.IsZero() || a.Age > time.Hour || a.Age < -time.Minute {
			if tg.Name != "moto" { // moto reports a fixed start date in 2010
				t.Errorf("tmp/a: %+v; want the bucket, a start time and an age of moments", a)
			}
		}
		if err := tg.Storage.AbortUpload(ctx, got["tmp/a"]); err != nil {
			t.Fatal(err)
		}
		if err := tg.Storage.AbortUpload(ctx, got["tmp/a"]); err != nil {
			t.Errorf("aborting an aborted upload: %v; want nil", err)
		}
		if got := list(); len(got) != 1 || got["tmp/b"].ID != ids["tmp/b"] {
			t.Errorf("after aborting tmp/a: %v; want tmp/b alone", got)
		}
		if err := tg.Storage.AbortUpload(ctx, storage.Upload{Name: storage.Name{Key: "tmp/b"}}); !errors.Is(err, storage.ErrInvalidHeader) {
			t.Errorf("AbortUpload without an ID: %v; want ErrInvalidHeader", err)
		}
	})
}

// A conditional write lost before the server saw it, while another writer
// stores the very same bytes under the same condition, is not taken for
// ours: the stored object carries the other writer's write token, so the
// outcome is unknown, never success. Without the token two updates of a
// counter from 5 to 6 could both report success, one increment lost.
func TestLostWriteIsNotTakenForAnotherWritersSameBytes(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		n := storage.Name{Key: "counter"}
		old, err := tg.Storage.Put(ctx, n, strings.NewReader("5"), nil)
		if err != nil {
			t.Fatal(err)
		}
		// Our PutObject never reaches the server; the HEAD that checks
		// afterwards is held back while the other writer writes.
		inj := s3test.NewInjector(&s3test.FaultOptions{Delay: 2 * time.Second})
		ours := tg.WithFaults(t, inj).Storage
		inj.Script("PutObject", s3test.ResetBefore)
		inj.Script("HeadObject", s3test.Delay)
		other := make(chan error, 1)
		go func() {
			deadline := time.Now().Add(30 * time.Second)
			for !slices.ContainsFunc(inj.Faults(), func(f s3test.Fault) bool { return f.Kind == s3test.ResetBefore }) {
				if time.Now().After(deadline) {
					other <- errors.New("our PutObject was never sent")
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			_, err := tg.Storage.Put(ctx, n, strings.NewReader("6"), &storage.PutOptions{IfMatch: old.ETag})
			other <- err
		}()
		_, err = ours.Put(ctx, n, strings.NewReader("6"), &storage.PutOptions{IfMatch: old.ETag})
		if oerr := <-other; oerr != nil {
			t.Fatalf("the other writer: %v", oerr)
		}
		if err == nil {
			t.Fatal("a conditional write that never reached the server reported success, because another writer stored the same bytes")
		}
		if !errors.Is(err, storage.ErrOutcomeUnknown) && !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Errorf("lost write beside the same bytes: %v; want ErrOutcomeUnknown or ErrPreconditionFailed", err)
		}
		// The token is s3map's: Stat shows none of it.
		if info, err := tg.Storage.Stat(ctx, n); err != nil || len(info.Metadata) != 0 {
			t.Errorf("Stat after a conditional write: %v, metadata %v; want none shown", err, info.Metadata)
		}
	})
}

// An upload's memory is bounded by its part buffers: a stream that cannot
// seek goes through at most two of its part size (PartSize when set, else
// 6 MiB), whatever its length (here 7 parts, Concurrency 5), and a file or
// any reader that can seek through none (its parts are read in place).
func TestUploadPartBuffersAreBounded(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		const part = 5 << 20
		st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper { return next }, &storage.Options{PartSize: part, Concurrency: 5})
		// Default settings: a stream's parts are 6 MiB, not PartSize's
		// default 8 MiB, so its 2 buffers hold 12 MiB.
		defaults := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper { return next }, nil)
		data := randomBytes(t, 6*part+1)
		path := writeFile(t, t.TempDir(), "src", data)
		for _, c := range []struct {
			name     string
			upload   func(storage.Name) error
			maxBufs  int
			partSize int64
		}{
			{"stream", func(n storage.Name) error {
				_, err := st.Put(ctx, n, struct{ io.Reader }{bytes.NewReader(data)}, nil)
				return err
			}, 2, part},
			{"stream at defaults", func(n storage.Name) error {
				_, err := defaults.Put(ctx, n, struct{ io.Reader }{bytes.NewReader(data)}, nil)
				return err
			}, 2, 6 << 20},
			{"reader", func(n storage.Name) error {
				_, err := st.Put(ctx, n, bytes.NewReader(data), nil)
				return err
			}, 0, part},
			{"file", func(n storage.Name) error { return st.Write(ctx, path, n, nil) }, 0, part},
		} {
			t.Run(c.name, func(t *testing.T) {
				n := storage.Name{Key: "bounded-" + strings.ReplaceAll(c.name, " ", "-")}
				stop := storage.CountPartBuffers()
				err := c.upload(n)
				bufs, size := stop()
				if err != nil {
					t.Fatal(err)
				}
				if bufs > c.maxBufs || size != int64(bufs)*c.partSize {
					t.Errorf("%d part buffers of %d bytes in all; want at most %d of %d", bufs, size, c.maxBufs, c.partSize)
				}
				if c.maxBufs > 0 && bufs == 0 {
					t.Errorf("no part buffer: the stream did not go up in parts")
				}
				got, err := readAll(t, tg.Storage, n, nil)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("read back %d bytes, %v; want the %d written", len(got), err, len(data))
				}
			})
		}
	})
}
