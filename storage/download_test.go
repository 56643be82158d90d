package storage_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// An object writer: how an object of each kind gets into the bucket.
type objectKind struct {
	name  string
	size  int
	write func(ctx context.Context, t *testing.T, tg *s3test.Target, key string, data []byte)
}

// sdkPut writes with a raw PutObject, as another client would, with the
// given checksum ("" for none).
func sdkPut(alg types.ChecksumAlgorithm) func(context.Context, *testing.T, *s3test.Target, string, []byte) {
	return func(ctx context.Context, t *testing.T, tg *s3test.Target, key string, data []byte) {
		t.Helper()
		_, err := tg.Storage.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: &tg.Config.DefaultBucket, Key: &key, Body: bytes.NewReader(data), ChecksumAlgorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sdkMultipartFull writes in two parts with a FULL_OBJECT CRC32C, as the
// upload path does for large objects.
func sdkMultipartFull(ctx context.Context, t *testing.T, tg *s3test.Target, key string, data []byte) {
	t.Helper()
	c, bk := tg.Storage.Client(), tg.Config.DefaultBucket
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bk, Key: &key, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumType: types.ChecksumTypeFullObject})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, p := range [][]byte{data[:5<<20], data[5<<20:]} {
		pn := int32(i + 1)
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bk, Key: &key, UploadId: cr.UploadId, PartNumber: &pn, Body: bytes.NewReader(p), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: &pn, ETag: up.ETag, ChecksumCRC32C: up.ChecksumCRC32C})
	}
	sum := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))))
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bk, Key: &key, UploadId: cr.UploadId, ChecksumCRC32C: &sum, ChecksumType: types.ChecksumTypeFullObject, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
}

// Objects every CI server lets us verify: each keeps a full-object
// checksum or has an MD5 ETag (see verify.go).
var verifiableKinds = []objectKind{
	{"Put", 6<<20 + 3, func(ctx context.Context, t *testing.T, tg *s3test.Target, key string, data []byte) {
		t.Helper()
		if _, err := tg.Storage.Put(ctx, storage.Name{Key: key}, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
	}},
	{"sdk-no-checksum", 6<<20 + 3, sdkPut("")},
	{"sdk-CRC32C", 6<<20 + 3, sdkPut(types.ChecksumAlgorithmCrc32c)},
	{"sdk-CRC32", 6<<20 + 3, sdkPut(types.ChecksumAlgorithmCrc32)},
	{"sdk-CRC64NVME", 6<<20 + 3, sdkPut(types.ChecksumAlgorithmCrc64nvme)},
	{"sdk-SHA1", 6<<20 + 3, sdkPut(types.ChecksumAlgorithmSha1)},
	{"sdk-SHA256", 6<<20 + 3, sdkPut(types.ChecksumAlgorithmSha256)},
	{"multipart-full-CRC32C", 10<<20 + 7, sdkMultipartFull},
}

// A fault damages the 2xx replies to GETs that match.
type fault struct {
	kind  string // "change" one byte, "cut" short with a matching Content-Length, "reset" the connection
	at    int64  // the byte of the body where it strikes
	match func(*http.Request) bool
	times atomic.Int64 // how many replies it damages; <0 for all
	hit   atomic.Int64 // replies damaged
	// before, if set, runs before a reset is reported.
	before func()
}

func (f *fault) transport(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		if err != nil || resp.StatusCode/100 != 2 || r.Method != http.MethodGet || (f.match != nil && !f.match(r)) {
			return resp, err
		}
		if f.times.Load() >= 0 && f.times.Add(-1) < 0 {
			return resp, err
		}
		f.hit.Add(1)
		body := resp.Body
		switch f.kind {
		case "change":
			resp.Body = &struct {
				io.Reader
				io.Closer
			}{&flipReader{r: body, at: f.at}, body}
		case "cut":
			if resp.ContentLength > f.at {
				resp.ContentLength = f.at
				resp.Header.Set("Content-Length", strconv.FormatInt(f.at, 10))
				resp.Body = &struct {
					io.Reader
					io.Closer
				}{io.LimitReader(body, f.at), body}
			}
		case "reset":
			resp.Body = &struct {
				io.Reader
				io.Closer
			}{&resetReader{r: body, left: f.at, before: f.before}, body}
		}
		return resp, nil
	})
}

type flipReader struct {
	r   io.Reader
	off int64
	at  int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 0x01
	}
	f.off += int64(n)
	return n, err
}

type resetReader struct {
	r      io.Reader
	left   int64
	before func()
}

func (r *resetReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		if r.before != nil {
			r.before()
			r.before = nil
		}
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}

func isRanged(r *http.Request) bool { return r.Header.Get("Range") != "" }
func isWhole(r *http.Request) bool  { return r.Header.Get("Range") == "" }

// newFault makes a fault damaging times replies (-1: all).
func newFault(kind string, at int64, times int64, match func(*http.Request) bool) *fault {
	f := &fault{kind: kind, at: at, match: match}
	f.times.Store(times)
	return f
}

// parallel are options that make Read fetch anything over one part in
// parallel ranges.
func parallel() *storage.Options {
	return &storage.Options{PartSize: 5 << 20, Concurrency: 3, ParallelReadThreshold: 1}
}

func readAll(t *testing.T, st *storage.Storage, n storage.Name, opts *storage.GetOptions) ([]byte, error) {
	t.Helper()
	r, err := st.Get(context.Background(), n, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// Valid objects of every kind read back whole and in ranges through Get
// and Read, sequential and parallel: verification never fails a good body,
// whatever checksums each server returns (the in-process server returns
// the whole object's checksum on partial ranges).
func TestVerifiedReadsOfValidObjects(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		par := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper { return next }, parallel())
		for _, k := range verifiableKinds {
			t.Run(k.name, func(t *testing.T) {
				data := randomBytes(t, k.size)
				n := storage.Name{Key: "valid/" + k.name}
				k.write(ctx, t, tg, n.Key, data)
				got, err := readAll(t, tg.Storage, n, nil)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("Get: %d bytes, %v; want the %d written", len(got), err, len(data))
				}
				for _, rng := range []storage.GetOptions{{Offset: 10, Length: 1000}, {Length: int64(len(data))}, {Offset: int64(len(data)) - 5}} {
					got, err := readAll(t, tg.Storage, n, &rng)
					end := min(int64(len(data)), rng.Offset+rng.Length)
					if rng.Length == 0 {
						end = int64(len(data))
					}
					if err != nil || !bytes.Equal(got, data[rng.Offset:end]) {
						t.Errorf("Get %+v: %d bytes, %v", rng, len(got), err)
					}
				}
				for name, st := range map[string]*storage.Storage{"sequential": tg.Storage, "parallel": par} {
					dst := filepath.Join(t.TempDir(), "out")
					if _, err := st.Read(ctx, n, dst); err != nil {
						t.Fatalf("Read %s: %v", name, err)
					}
					if b, _ := os.ReadFile(dst); !bytes.Equal(b, data) {
						t.Errorf("Read %s: file differs from the object", name)
					}
				}
			})
		}
	})
}

// A body with one byte changed, or cut short with a matching
// Content-Length, is ErrCorrupt from Get and Read, never data; Read
// leaves the target as it was and no temporary file.
func TestDamagedBodiesAreCorrupt(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		for _, k := range verifiableKinds {
			data := randomBytes(t, k.size)
			n := storage.Name{Key: "damaged/" + k.name}
			k.write(ctx, t, tg, n.Key, data)
			for _, kind := range []string{"change", "cut"} {
				for _, c := range []struct {
					name  string
					match func(*http.Request) bool
					at    int64
					opts  *storage.Options
				}{
					{"sequential", isWhole, int64(k.size) / 3, nil},
					{"parallel-first", isWhole, int64(k.size) / 3, parallel()},
					{"parallel-range", isRanged, 1000, parallel()},
				} {
					t.Run(fmt.Sprintf("%s/%s/%s", k.name, kind, c.name), func(t *testing.T) {
						f := newFault(kind, c.at, -1, c.match)
						st := withTransport(t, tg, f.transport, c.opts)
						if c.name == "sequential" {
							got, err := readAll(t, st, n, nil)
							if !errors.Is(err, storage.ErrCorrupt) {
								t.Errorf("Get of a damaged body: %d bytes, %v; want ErrCorrupt", len(got), err)
							}
						}
						dir := t.TempDir()
						target := writeFile(t, dir, "target", []byte("before"))
						_, err := st.Read(ctx, n, target)
						if !errors.Is(err, storage.ErrCorrupt) {
							t.Errorf("Read of a damaged body: %v; want ErrCorrupt", err)
						}
						if f.hit.Load() == 0 {
							t.Fatal("the fault never struck")
						}
						if b, _ := os.ReadFile(target); string(b) != "before" {
							t.Errorf("target holds %d bytes after a failed Read; want it unchanged", len(b))
						}
						if diff := cmp.Diff([]string{"target"}, dirNames(t, dir)); diff != "" {
							t.Errorf("files beside the target (-want +got):\n%s", diff)
						}
					})
				}
			}
		}
	})
}

// A connection reset in the middle of a body is resumed with a ranged GET
// from the byte reached, pinned with If-Match to the first ETag; the bytes
// come back whole, through Get and Read (sequential and parallel).
func TestResetMidBodyResumes(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		data := randomBytes(t, 11<<20)
		n := storage.Name{Key: "reset"}
		info, err := tg.Storage.Put(ctx, n, bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name  string
			match func(*http.Request) bool
			opts  *storage.Options
			get   bool
		}{
			{"Get", isWhole, nil, true},
			{"Read", isWhole, nil, false},
			{"Read-parallel-first", isWhole, parallel(), false},
			{"Read-parallel-range", isRanged, parallel(), false},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := newFault("reset", 300<<10, 1, c.match)
				var mu sync.Mutex
				var resumes []string
				st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
					next = f.transport(next)
					return roundTripFunc(func(r *http.Request) (*http.Response, error) {
						if f.hit.Load() > 0 && isRanged(r) {
							mu.Lock()
							resumes = append(resumes, r.Header.Get("Range")+" If-Match "+r.Header.Get("If-Match"))
							mu.Unlock()
						}
						return next.RoundTrip(r)
					})
				}, c.opts)
				var got []byte
				if c.get {
					got, err = readAll(t, st, n, nil)
				} else {
					dst := filepath.Join(t.TempDir(), "out")
					if _, err = st.Read(ctx, n, dst); err == nil {
						got, _ = os.ReadFile(dst)
					}
				}
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("after a reset: %d bytes, %v; want the %d written", len(got), err, len(data))
				}
				mu.Lock()
				defer mu.Unlock()
				want := fmt.Sprintf("bytes=%d-", 300<<10)
				found := false
				for _, r := range resumes {
					if !strings.HasSuffix(r, "If-Match "+info.ETag) {
						t.Errorf("request after the reset not pinned to ETag %s: %s", info.ETag, r)
					}
					found = found || strings.HasPrefix(r, want)
				}
				if c.match(&http.Request{Header: http.Header{}}) && !found { // the whole GET was reset at 300 KiB
					t.Errorf("no resume from byte %d among %q", 300<<10, resumes)
				}
			})
		}
	})
}

// Resets that make no progress are retried within the client's attempt
// budget, then reported (not as ErrCorrupt, not as data).
func TestResetBudget(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		n := storage.Name{Key: "budget"}
		if _, err := tg.Storage.Put(ctx, n, bytes.NewReader(randomBytes(t, 1<<20)), nil); err != nil {
			t.Fatal(err)
		}
		first := newFault("reset", 100<<10, 1, isWhole)
		again := newFault("reset", 0, -1, isRanged)
		st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper { return first.transport(again.transport(next)) }, nil)
		_, err := readAll(t, st, n, nil)
		if err == nil || errors.Is(err, storage.ErrCorrupt) || !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("Get with a connection that keeps breaking: %v; want the reset", err)
		}
		if got, want := again.hit.Load(), int64(2); got != want { // 3 attempts: the first GET and two resumes
			t.Errorf("%d resumes; want %d", got, want)
		}
	})
}

// If the object changes between a reset and the resume, the read fails
// with ErrPreconditionFailed rather than splice two versions (If-Match on
// the resumed GET, and the reply's ETag checked too, for servers that
// ignore the condition).
func TestResumeAfterChangeFails(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		n := storage.Name{Key: "changing"}
		if _, err := tg.Storage.Put(ctx, n, bytes.NewReader(randomBytes(t, 1<<20)), nil); err != nil {
			t.Fatal(err)
		}
		f := newFault("reset", 100<<10, 1, isWhole)
		f.before = func() {
			if _, err := tg.Storage.Put(ctx, n, bytes.NewReader(randomBytes(t, 1<<20)), nil); err != nil {
				t.Error(err)
			}
		}
		st := withTransport(t, tg, f.transport, nil)
		got, err := readAll(t, st, n, nil)
		if !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Fatalf("Get across a change: %d bytes, %v; want ErrPreconditionFailed", len(got), err)
		}
	})
}

// Read sends no HEAD: one GET for an object under the parallel threshold;
// above it, ranged GETs all pinned to the ETag of the first reply.
func TestReadRequests(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		data := randomBytes(t, 12<<20)
		n := storage.Name{Key: "requests"}
		info, err := tg.Storage.Put(ctx, n, bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name       string
			opts       *storage.Options
			wantRanged int
		}{
			{"sequential", nil, 0},
			{"parallel", parallel(), 2}, // 3 parts: the first GET takes one, each worker one
		} {
			t.Run(c.name, func(t *testing.T) {
				var mu sync.Mutex
				var reqs []string
				st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
					return roundTripFunc(func(r *http.Request) (*http.Response, error) {
						mu.Lock()
						reqs = append(reqs, r.Method+" "+r.Header.Get("Range")+" "+r.Header.Get("If-Match"))
						mu.Unlock()
						return next.RoundTrip(r)
					})
				}, c.opts)
				dst := filepath.Join(t.TempDir(), "out")
				if _, err := st.Read(ctx, n, dst); err != nil {
					t.Fatal(err)
				}
				if b, _ := os.ReadFile(dst); !bytes.Equal(b, data) {
					t.Fatal("file differs from the object")
				}
				if reqs[0] != "GET  " {
					t.Errorf("first request %q; want a whole-object GET", reqs[0])
				}
				ranged := 0
				for _, r := range reqs[1:] {
					if !strings.HasPrefix(r, "GET bytes=") || !strings.HasSuffix(r, " "+info.ETag) {
						t.Errorf("request %q; want a ranged GET pinned to %s", r, info.ETag)
					}
					ranged++
				}
				if ranged != c.wantRanged {
					t.Errorf("%d ranged GETs (%q); want %d", ranged, reqs, c.wantRanged)
				}
			})
		}
	})
}

// Read onto a directory fails before anything is sent, naming the
// problem, and leaves nothing behind.
func TestReadOntoDirectory(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		var sent atomic.Int64
		st := withTransport(t, tg, countRequests(&sent, http.MethodGet, ""), nil)
		parent := t.TempDir()
		dir := filepath.Join(parent, "dir")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, target := range []string{dir, dir + string(filepath.Separator), filepath.Join(parent, "new") + string(filepath.Separator)} {
			_, err := st.Read(context.Background(), storage.Name{Key: "k"}, target)
			if err == nil || !strings.Contains(err.Error(), "directory") && !strings.Contains(err.Error(), "not a file name") {
				t.Errorf("Read onto %q: %v; want an error saying it is a directory", target, err)
			}
		}
		if sent.Load() != 0 {
			t.Errorf("%d GETs sent; want none", sent.Load())
		}
		if diff := cmp.Diff([]string{"dir"}, dirNames(t, parent)); diff != "" {
			t.Errorf("files beside the target (-want +got):\n%s", diff)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("files in the directory: %q", names)
		}
	})
}

// A parallel download that fails midway leaves the target as it was and
// no temporary file.
func TestReadFailureKeepsTarget(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		data := randomBytes(t, 20<<20)
		if _, err := tg.Storage.Put(ctx, storage.Name{Key: "r"}, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		var gets atomic.Int64
		failing := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.Method == http.MethodGet && isRanged(r) && gets.Add(1) >= 2 {
					return nil, errors.New("injected failure")
				}
				return next.RoundTrip(r)
			})
		}, parallel())
		dir := t.TempDir()
		target := writeFile(t, dir, "target", []byte("before"))
		if _, err := failing.Read(ctx, storage.Name{Key: "r"}, target); err == nil {
			t.Fatal("Read with a failing part succeeded")
		}
		if b, _ := os.ReadFile(target); string(b) != "before" {
			t.Errorf("target holds %d bytes after a failed Read; want it unchanged", len(b))
		}
		if diff := cmp.Diff([]string{"target"}, dirNames(t, dir)); diff != "" {
			t.Errorf("files beside the target after a failed Read (-want +got):\n%s", diff)
		}
	})
}

// By default Read starts one stream and adds parallel ranges only when its
// first part came slowly (a capped link): never on a fast one. It logs
// the choice at Debug, since Read's speed depends on it.
func TestReadGoesParallelOnlyWhenTheFirstPartIsSlow(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		data := randomBytes(t, 4*5<<20) // 4 parts of 5 MiB
		if _, err := tg.Storage.Put(ctx, storage.Name{Key: "big"}, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		for _, slow := range []bool{false, true} {
			restore := storage.SetSlowStream(slow)
			var (
				mu     sync.Mutex
				ranged int
				log    logBuffer
			)
			debug := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
			st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if r.Method == http.MethodGet && r.Header.Get("Range") != "" {
						mu.Lock()
						ranged++
						mu.Unlock()
					}
					return next.RoundTrip(r)
				})
			}, &storage.Options{PartSize: 5 << 20, Concurrency: 3, Logger: debug})
			path := filepath.Join(t.TempDir(), "big")
			_, err := st.Read(ctx, storage.Name{Key: "big"}, path)
			restore()
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Fatalf("slow=%v: the file differs from the object", slow)
			}
			if slow && ranged == 0 {
				t.Errorf("first part slow: no ranged GET, want parallel ranges")
			}
			if !slow && ranged != 0 {
				t.Errorf("first part fast: %d ranged GETs, want one stream", ranged)
			}
			if want := fmt.Sprintf("bytes=%d", 5<<20); !strings.Contains(log.String(), "Read judged the link by its first part") ||
				!strings.Contains(log.String(), want) || !strings.Contains(log.String(), fmt.Sprintf("parallel=%v", slow)) {
				t.Errorf("slow=%v: the log does not tell the choice (want %s, parallel=%v):\n%s", slow, want, slow, log.String())
			}
		}
	})
}

// A parallel download hashes a digest that does not combine (SHA256 here,
// which every server keeps; MD5 ETags go the same way) over the file's
// written prefix as it grows, not in a pass over the file after the
// download: the last part's GET is held until every part before it is
// hashed, which never happens if hashing waits for the download.
func TestParallelDigestFollowsTheDownload(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		const part = 5 << 20
		data := randomBytes(t, 4*part)
		n := storage.Name{Key: "ordered"}
		sdkPut(types.ChecksumAlgorithmSha256)(ctx, t, tg, n.Key, data)
		lastOff := int64(3 * part)
		prefixHashed := make(chan struct{})
		var once sync.Once
		var waited atomic.Bool
		var stalled atomic.Bool
		defer storage.SetParallelHooks(func(off int64) {
			if off != lastOff {
				return
			}
			waited.Store(true)
			select {
			case <-prefixHashed:
			case <-time.After(30 * time.Second): // a deadlock guard, not a speed bound
				stalled.Store(true)
			}
		}, func(n int64) {
			if n >= lastOff {
				once.Do(func() { close(prefixHashed) })
			}
		})()
		st := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper { return next }, parallel())
		dst := filepath.Join(t.TempDir(), "out")
		if _, err := st.Read(ctx, n, dst); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(dst); !bytes.Equal(b, data) {
			t.Fatal("file differs from the object")
		}
		if !waited.Load() {
			t.Fatal("the last part was never fetched in a ranged GET")
		}
		if stalled.Load() {
			t.Error("the digest did not cover the parts before the last one until the last was downloaded")
		}
	})
}

// One part in the middle of a parallel download damaged (one byte changed,
// or cut short with a matching Content-Length), for objects whose digest
// does not combine from the parts (SHA256, and the MD5 ETag of an object
// written without a checksum): Read is ErrCorrupt and the target is as it
// was, with no file beside it.
func TestParallelDamagedMiddlePartIsCorrupt(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		const part = 5 << 20
		middle := fmt.Sprintf("bytes=%d-", 2*part)
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmSha256, ""} {
			data := randomBytes(t, 4*part+3)
			n := storage.Name{Key: "middle-" + string(alg)}
			sdkPut(alg)(ctx, t, tg, n.Key, data)
			for _, kind := range []string{"change", "cut"} {
				t.Run(fmt.Sprintf("%s/%s", cmpOr(string(alg), "no-checksum"), kind), func(t *testing.T) {
					f := newFault(kind, part/2, -1, func(r *http.Request) bool { return strings.HasPrefix(r.Header.Get("Range"), middle) })
					st := withTransport(t, tg, f.transport, parallel())
					dir := t.TempDir()
					target := writeFile(t, dir, "target", []byte("before"))
					_, err := st.Read(ctx, n, target)
					if f.hit.Load() == 0 {
						t.Fatal("the fault never struck")
					}
					if !errors.Is(err, storage.ErrCorrupt) {
						t.Errorf("Read with a damaged middle part: %v; want ErrCorrupt", err)
					}
					if b, _ := os.ReadFile(target); string(b) != "before" {
						t.Errorf("target holds %d bytes after a failed Read; want it unchanged", len(b))
					}
					if diff := cmp.Diff([]string{"target"}, dirNames(t, dir)); diff != "" {
						t.Errorf("files beside the target (-want +got):\n%s", diff)
					}
				})
			}
		}
	})
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// Read asks the kernel to write the file back as it downloads (every
// 8 MiB written, and the end of every range a stream fetches), so that its
// final fsync has little left to wait for: the ranges asked for cover the
// file exactly, in one stream and in parallel parts of 5 MiB.
func TestReadAsksForEarlyWriteback(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		const every, size = 8 << 20, 20 << 20
		data := randomBytes(t, size)
		if _, err := tg.Storage.Put(ctx, storage.Name{Key: "wb"}, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		parallel := withTransport(t, tg, func(next http.RoundTripper) http.RoundTripper { return next }, &storage.Options{PartSize: 5 << 20, Concurrency: 3})
		for _, c := range []struct {
			name string
			st   *storage.Storage
			slow bool
		}{{"one stream", tg.Storage, false}, {"parallel parts", parallel, true}} {
			t.Run(c.name, func(t *testing.T) {
				defer storage.SetSlowStream(c.slow)()
				var (
					mu     sync.Mutex
					ranges [][2]int64
				)
				defer storage.SetWriteback(every, func(off, n int64) {
					mu.Lock()
					ranges = append(ranges, [2]int64{off, n})
					mu.Unlock()
				})()
				path := filepath.Join(t.TempDir(), "wb")
				if _, err := c.st.Read(ctx, storage.Name{Key: "wb"}, path); err != nil {
					t.Fatal(err)
				}
				if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
					t.Fatal("the file differs from the object")
				}
				slices.SortFunc(ranges, func(a, b [2]int64) int { return int(a[0] - b[0]) })
				next := int64(0)
				for _, r := range ranges {
					// A read of up to 256 KiB may carry a range past every.
					if r[0] != next || r[1] <= 0 || r[1] > every+256<<10 {
						t.Fatalf("writeback ranges %v: want ranges of about %d bytes at most that cover the file without a gap or overlap", ranges, every)
					}
					next += r[1]
				}
				if next != size {
					t.Errorf("writeback asked for %d of %d bytes (%v); want all", next, size, ranges)
				}
			})
		}
	})
}
