package s3test_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// clientVia is a client of the target's server, without retries, whose
// requests go through the injector: by its proxy or by its transport.
func clientVia(t *testing.T, tg *s3test.Target, inj *s3test.Injector, proxy bool) *s3.Client {
	t.Helper()
	if !proxy {
		return s3.New(tg.Storage.Client().Options(), func(o *s3.Options) {
			o.HTTPClient = &http.Client{Transport: inj.Transport(nil)}
			o.Retryer = aws.NopRetryer{}
		})
	}
	p, err := inj.Proxy(tg.Config.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return s3.New(tg.Storage.Client().Options(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(p.URL)
		o.Retryer = aws.NopRetryer{}
	})
}

func exists(t *testing.T, tg *s3test.Target, key string) bool {
	t.Helper()
	ok, _, err := tg.Storage.Exists(context.Background(), storage.Name{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Every kind of fault, as the client sees it and as the server is left,
// through the proxy and through the transport, on every server.
func TestFaultKinds(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		data := make([]byte, 64<<10)
		rand.Read(data)
		if _, err := tg.Storage.Put(ctx, storage.Name{Key: "obj"}, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		for _, via := range []string{"proxy", "transport"} {
			for _, kind := range s3test.Kinds {
				t.Run(via+"/"+kind.String(), func(t *testing.T) {
					inj := s3test.NewInjector(&s3test.FaultOptions{Delay: time.Millisecond})
					c := clientVia(t, tg, inj, via == "proxy")
					bucket := aws.String(tg.Config.DefaultBucket)
					op := "PutObject"
					if slices.Contains([]s3test.Kind{s3test.ResetMidBody, s3test.CutBody, s3test.ChangeByte}, kind) {
						op = "GetObject"
					}
					inj.Script(op, kind)
					key := via + "-" + kind.String()
					var err error
					var got []byte
					if op == "PutObject" {
						_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: &key, Body: strings.NewReader("v")})
					} else {
						var out *s3.GetObjectOutput
						out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("obj")})
						if err != nil {
							t.Fatal(err)
						}
						got, err = io.ReadAll(out.Body)
						out.Body.Close()
						if kind == s3test.CutBody && aws.ToInt64(out.ContentLength) != int64(len(got)) {
							t.Errorf("cut body: Content-Length %d, %d bytes read", aws.ToInt64(out.ContentLength), len(got))
						}
					}
					want := fmt.Sprintf("%s %s", op, kind)
					if f := inj.Faults(); len(f) != 1 || f[0].String() != want || !f[0].Scripted {
						t.Errorf("faults %v; want [%s]", f, want)
					}
					if inj.Pending() != 0 {
						t.Errorf("%d scripted faults pending; want 0", inj.Pending())
					}
					switch kind {
					case s3test.ResetBefore, s3test.ResetAfter:
						if !isReset(err) {
							t.Errorf("%s: %v; want a connection reset", kind, err)
						}
					case s3test.SlowDownBefore, s3test.SlowDownAfter:
						if errorCode(err) != "SlowDown" || statusOf(err) != 503 {
							t.Errorf("%s: %v; want 503 SlowDown", kind, err)
						}
					case s3test.InternalErrorBefore, s3test.InternalErrorAfter:
						if errorCode(err) != "InternalError" || statusOf(err) != 500 {
							t.Errorf("%s: %v; want 500 InternalError", kind, err)
						}
					case s3test.Delay:
						if err != nil {
							t.Errorf("%s: %v", kind, err)
						}
					case s3test.ResetMidBody:
						if err == nil || len(got) >= len(data) || !bytes.Equal(got, data[:len(got)]) {
							t.Errorf("%s: read %d of %d bytes (a prefix: %v), err %v; want a prefix and an error", kind, len(got), len(data), bytes.Equal(got, data[:min(len(got), len(data))]), err)
						}
					case s3test.CutBody:
						if err != nil || len(got) >= len(data) || !bytes.Equal(got, data[:len(got)]) {
							t.Errorf("%s: read %d of %d bytes, err %v; want a clean, shorter prefix", kind, len(got), len(data), err)
						}
					case s3test.ChangeByte:
						diff := 0
						for i := range min(len(got), len(data)) {
							if got[i] != data[i] {
								diff++
							}
						}
						if err != nil || len(got) != len(data) || diff != 1 {
							t.Errorf("%s: read %d of %d bytes, %d differ, err %v; want all, one changed", kind, len(got), len(data), diff, err)
						}
					}
					if op == "PutObject" {
						stored := exists(t, tg, key)
						before := kind == s3test.ResetBefore || kind == s3test.SlowDownBefore || kind == s3test.InternalErrorBefore
						if stored == before {
							t.Errorf("%s: object stored %v; want %v", kind, stored, !before)
						}
					}
				})
			}
		}
	})
}

// Operation names the requests of the SDK's operations as S3 does.
func TestOperation(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		inj := s3test.NewInjector(nil)
		c := clientVia(t, tg, inj, false)
		b := aws.String(tg.Config.DefaultBucket)
		k := aws.String("op/k")
		other := aws.String(s3test.NewBucketName())
		// Errors are not the point: each call sends one request.
		c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: other})
		c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b})
		c.ListBuckets(ctx, &s3.ListBucketsInput{})
		c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("v")})
		c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k})
		if out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k}); err == nil {
			out.Body.Close()
		}
		c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("op/c"), CopySource: aws.String(*b + "/op/k")})
		c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k})
		if err != nil {
			t.Fatal(err)
		}
		part, _ := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
		c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: b, Key: k, UploadId: up.UploadId, PartNumber: aws.Int32(2), CopySource: aws.String(*b + "/op/c")})
		c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: k, UploadId: up.UploadId})
		c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b})
		var parts []types.CompletedPart
		if part != nil {
			parts = append(parts, types.CompletedPart{ETag: part.ETag, PartNumber: aws.Int32(1)})
		}
		c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		if up2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("op/abort")}); err == nil {
			c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: aws.String("op/abort"), UploadId: up2.UploadId})
		}
		c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("op/c")}}}})
		c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k})
		c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: other})

		want := map[string]int{
			"CreateBucket": 1, "HeadBucket": 1, "ListBuckets": 1, "PutObject": 1, "HeadObject": 1,
			"GetObject": 1, "CopyObject": 1, "ListObjectsV2": 1, "CreateMultipartUpload": 2,
			"UploadPart": 1, "UploadPartCopy": 1, "ListParts": 1, "ListMultipartUploads": 1,
			"CompleteMultipartUpload": 1, "AbortMultipartUpload": 1, "DeleteObjects": 1,
			"DeleteObject": 1, "DeleteBucket": 1,
		}
		got := inj.Stats().ByOperation
		for op, n := range want {
			if got[op] != n {
				t.Errorf("%s: %d requests named so; want %d", op, got[op], n)
			}
		}
		for op := range got {
			if _, ok := want[op]; !ok {
				t.Errorf("%d requests named %q", got[op], op)
			}
		}
	})
}

// Operation on virtual-hosted requests, which the CI servers do not take.
func TestOperationVirtualHosted(t *testing.T) {
	for _, c := range []struct{ method, url, op string }{
		{"GET", "https://b.s3.us-east-1.amazonaws.com/", "ListObjects"},
		{"GET", "https://b.s3.us-east-1.amazonaws.com/?list-type=2", "ListObjectsV2"},
		{"GET", "https://b.s3.us-east-1.amazonaws.com/a/b", "GetObject"},
		{"GET", "https://s3.us-east-1.amazonaws.com/b/a/b", "GetObject"},
		{"POST", "https://b.s3.amazonaws.com/k?uploads", "CreateMultipartUpload"},
		{"GET", "http://127.0.0.1:9000/", "ListBuckets"},
		{"PATCH", "http://127.0.0.1:9000/b/k", "Unknown"},
	} {
		r := httptest.NewRequest(c.method, c.url, nil)
		if got := s3test.Operation(r); got != c.op {
			t.Errorf("Operation(%s %s) = %s; want %s", c.method, c.url, got, c.op)
		}
	}
}

// fakeS3 answers every request 200 with a small body, for tests of the
// injector's choices that need no server.
type fakeS3 struct{}

func (fakeS3) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("0123456789")), ContentLength: 10, Request: r}, nil
}

// run sends n requests of mixed operations through inj, one at a time.
func run(t *testing.T, inj *s3test.Injector, n int) {
	t.Helper()
	rt := inj.Transport(fakeS3{})
	methods := []string{"GET", "PUT", "HEAD", "DELETE"}
	for i := range n {
		r := httptest.NewRequest(methods[i%len(methods)], fmt.Sprintf("http://127.0.0.1:1/b/k%d", i), nil)
		resp, err := rt.RoundTrip(r)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}

// A seeded rate repeats, mixes kinds, and keeps to the operations and
// kinds it is limited to.
func TestFaultRate(t *testing.T) {
	opts := &s3test.FaultOptions{Rate: 0.3, Seed: 7, Delay: time.Microsecond}
	a, b, c := s3test.NewInjector(opts), s3test.NewInjector(opts), s3test.NewInjector(&s3test.FaultOptions{Rate: 0.3, Seed: 8, Delay: time.Microsecond})
	run(t, a, 400)
	run(t, b, 400)
	run(t, c, 400)
	fa, fb, fc := a.Faults(), b.Faults(), c.Faults()
	if !slices.Equal(fa, fb) {
		t.Errorf("two runs with seed 7 injected different faults:\n%v\n%v", fa, fb)
	}
	if slices.Equal(fa, fc) {
		t.Errorf("seeds 7 and 8 injected the same faults")
	}
	st := a.Stats()
	if st.Requests != 400 || st.Faults != len(fa) || st.Faults < 80 || st.Faults > 160 {
		t.Errorf("stats %+v, %d faults logged; want 400 requests, about 120 faults", st, len(fa))
	}
	if len(st.ByKind) != len(s3test.Kinds) {
		t.Errorf("kinds injected: %v; want all %d", st.ByKind, len(s3test.Kinds))
	}
	for _, f := range fa {
		if f.Scripted || (f.Operation != "GetObject" && (f.Kind == s3test.CutBody || f.Kind == s3test.ChangeByte || f.Kind == s3test.ResetMidBody)) {
			t.Errorf("fault %+v: a body fault on a reply without a body, or scripted", f)
		}
	}

	limited := s3test.NewInjector(&s3test.FaultOptions{Rate: 1, Operations: []string{"PutObject"}, Kinds: []s3test.Kind{s3test.ResetAfter, s3test.CutBody}})
	run(t, limited, 40)
	for _, f := range limited.Faults() {
		if f.Operation != "PutObject" || f.Kind != s3test.ResetAfter {
			t.Errorf("fault %v outside the limits", f)
		}
	}
	if n := len(limited.Faults()); n != 10 {
		t.Errorf("%d faults at rate 1 on 10 PutObjects; want 10", n)
	}
	limited.SetRate(0)
	run(t, limited, 40)
	if n := len(limited.Faults()); n != 10 {
		t.Errorf("%d faults after SetRate(0); want still 10", n)
	}
}

// Script refuses names and kinds that do not exist.
func TestScriptRefusesTypos(t *testing.T) {
	inj := s3test.NewInjector(nil)
	for name, f := range map[string]func(){
		"operation": func() { inj.Script("PutObjet", s3test.ResetAfter) },
		"kind":      func() { inj.Script("PutObject", s3test.Kind(99)) },
		"option":    func() { s3test.NewInjector(&s3test.FaultOptions{Operations: []string{"putobject"}}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s typo accepted", name)
				}
			}()
			f()
		}()
	}
}

// pattern is an endless stream of bytes that allocates nothing.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.n + int64(i))
	}
	p.n += int64(len(b))
	return len(b), nil
}

// The proxy streams 40 MB bodies both ways: it allocates far less than
// a body's size, with and without a body fault.
func TestProxyStreams(t *testing.T) {
	const size = 40 << 20
	received := make(chan int64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			n, _ := io.Copy(io.Discard, r.Body)
			received <- n
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(size))
		io.CopyN(w, &pattern{}, size)
	}))
	defer srv.Close()
	inj := s3test.NewInjector(nil)
	p, err := inj.Proxy(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	get := func() {
		resp, err := client.Get(p.URL + "/b/big")
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != size || err != nil {
			t.Fatalf("GET through the proxy: %d bytes, %v", n, err)
		}
	}
	put := func() {
		req, _ := http.NewRequest(http.MethodPut, p.URL+"/b/big", io.LimitReader(&pattern{}, size))
		req.ContentLength = size
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if n := <-received; n != size {
			t.Fatalf("PUT through the proxy: the server received %d bytes", n)
		}
	}
	const limit = size / 8
	for _, c := range []struct {
		name   string
		script bool
		f      func()
	}{{"GET", false, get}, {"GET with a changed byte", true, get}, {"PUT", false, put}} {
		if c.script {
			inj.Script("GetObject", s3test.ChangeByte)
		}
		a := allocated(c.f)
		t.Logf("a 40 MB %s through the proxy allocated %d bytes", c.name, a)
		if a > limit {
			t.Errorf("a 40 MB %s through the proxy allocated %d bytes; want under %d", c.name, a, limit)
		}
	}
	if f := inj.Faults(); len(f) != 1 {
		t.Errorf("faults %v; want one ChangeByte", f)
	}
}

// Close ends every connection and goroutine of the proxy, resets and
// bodies cut mid-way included.
func TestProxyCloseLeaksNothing(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()
	if _, err := st.Put(ctx, storage.Name{Key: "k"}, strings.NewReader(strings.Repeat("x", 1<<20)), nil); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()

	inj := s3test.NewInjector(nil)
	p, err := inj.Proxy(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	inj.Script("GetObject", s3test.ResetMidBody, s3test.ResetBefore, s3test.ResetAfter, s3test.CutBody, s3test.Delay)
	for range 7 {
		resp, err := client.Get(p.URL + "/" + s3test.DefaultBucket + "/k")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	// One request left hanging in the proxy while it closes.
	inj.Script("GetObject", s3test.Delay)
	go client.Get(p.URL + "/" + s3test.DefaultBucket + "/k")
	for inj.Stats().Requests < 8 {
		runtime.Gosched()
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	tr.CloseIdleConnections()
	if _, err := client.Get(p.URL + "/"); err == nil {
		t.Error("the proxy answered after Close")
	}
	// Goroutines end soon after their connections close; wait for that,
	// not for a time.
	for i := 0; runtime.NumGoroutine() > before && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close; %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// A Target with faults: storage's default retryer recovers from a lost
// PutObject reply, and the target without faults sees the object.
func TestWithFaults(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		inj := s3test.NewInjector(nil)
		ftg := tg.WithFaults(t, inj)
		if ftg.Config.DefaultBucket != tg.Config.DefaultBucket || ftg.Config.Endpoint == tg.Config.Endpoint || ftg.Caps != tg.Caps {
			t.Fatalf("faulty target %+v; want the same bucket and caps, another endpoint", ftg.Config)
		}
		inj.Script("PutObject", s3test.ResetAfter)
		if _, err := ftg.Storage.Put(ctx, storage.Name{Key: "k"}, strings.NewReader("v"), nil); err != nil {
			t.Fatalf("Put with a lost reply: %v", err)
		}
		if st := inj.Stats(); st.ByOperation["PutObject"] != 2 || st.Faults != 1 {
			t.Errorf("stats %+v; want 2 PutObjects, 1 fault", st)
		}
		if !exists(t, tg, "k") {
			t.Error("the object is not stored")
		}
	})
}

// Storage's default retryer at 7 % faults of the kinds it retries, from
// 8 goroutines: count the operations that fail because the retry quota
// ran out ("retry quota exceeded"), which the standard retryer's token
// bucket would cause.
func TestRetryQuotaAtSevenPercent(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		if tg.Name != s3test.InProcess {
			t.Skip("the retry quota is the client's; one server shows it, and the retries' backoff takes seconds")
		}
		ctx := context.Background()
		inj := s3test.NewInjector(&s3test.FaultOptions{Rate: 0.07, Seed: 1, Delay: time.Millisecond, Kinds: []s3test.Kind{
			s3test.ResetBefore, s3test.ResetAfter, s3test.SlowDownBefore, s3test.SlowDownAfter,
			s3test.InternalErrorBefore, s3test.InternalErrorAfter, s3test.Delay,
		}})
		ftg := tg.WithFaults(t, inj)
		const workers, each = 8, 40
		errs := make(chan error, workers*each*2)
		done := make(chan bool)
		for w := range workers {
			go func() {
				defer func() { done <- true }()
				for i := range each {
					n := storage.Name{Key: fmt.Sprintf("w%d/%d", w, i)}
					if _, err := ftg.Storage.Put(ctx, n, strings.NewReader("v"), nil); err != nil {
						errs <- err
					}
					if r, err := ftg.Storage.Get(ctx, n, nil); err != nil {
						errs <- err
					} else {
						io.Copy(io.Discard, r)
						r.Close()
					}
				}
			}()
		}
		for range workers {
			<-done
		}
		close(errs)
		quota, other := 0, 0
		for err := range errs {
			if strings.Contains(err.Error(), "retry quota exceeded") {
				quota++
			} else {
				other++
			}
		}
		st := inj.Stats()
		t.Logf("%d requests, %d faults; operations failed: %d on the retry quota, %d otherwise", st.Requests, st.Faults, quota, other)
		if quota > 0 {
			t.Errorf("%d of %d operations failed on the retry quota at 7 %% faults", quota, workers*each*2)
		}
	})
}
