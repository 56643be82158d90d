package s3test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
)

// Transport returns an http.RoundTripper that sends requests through next
// (http.DefaultTransport if nil) with the injector's faults, for a client
// that cannot go through a [Proxy]. A reset is an error wrapping
// syscall.ECONNRESET, so errors.Is(err, syscall.ECONNRESET) holds and the
// SDK's retryer retries it; a reset in the middle of a body is a body whose
// Read fails with that error.
func (inj *Injector) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &faultTransport{inj: inj, next: next}
}

type faultTransport struct {
	inj  *Injector
	next http.RoundTripper
}

// errReset is what a reset looks like to the client.
func errReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

func (t *faultTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	d := t.inj.decide(r.Method, Operation(r))
	switch d.Kind {
	case ResetBefore:
		t.inj.done(d)
		closeBody(r)
		return nil, errReset()
	case SlowDownBefore, InternalErrorBefore:
		t.inj.done(d)
		closeBody(r)
		return faultResponse(r, d.Kind), nil
	case Delay:
		t.inj.done(d)
		if !sleep(r.Context(), t.inj.delay) {
			closeBody(r)
			return nil, r.Context().Err()
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		if d.Kind.body() {
			t.inj.skipped()
		}
		return resp, err
	}
	switch d.Kind {
	case ResetAfter, SlowDownAfter, InternalErrorAfter:
		_, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		t.inj.done(d)
		if d.Kind == ResetAfter {
			return nil, errReset()
		}
		return faultResponse(r, d.Kind), nil
	case ResetMidBody, CutBody, ChangeByte:
		at, ok, err := t.inj.bodyFault(d, r.Method, resp)
		if err != nil {
			resp.Body.Close()
			return nil, err
		}
		if ok && d.Kind == ResetMidBody {
			resp.Body = &failAfter{ReadCloser: resp.Body, left: at}
		}
	}
	return resp, nil
}

func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

// faultResponse is the S3 error reply of a SlowDown or InternalError
// fault.
func faultResponse(r *http.Request, k Kind) *http.Response {
	status, body := errorReply(k)
	return &http.Response{
		Status:     strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode: status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":     {"application/xml"},
			"Content-Length":   {strconv.Itoa(len(body))},
			"X-Amz-Request-Id": {"s3test-fault"},
		},
		Body:          io.NopCloser(bytes.NewReader([]byte(body))),
		ContentLength: int64(len(body)),
		Request:       r,
	}
}

// failAfter reads left bytes of its stream, then fails with a reset.
type failAfter struct {
	io.ReadCloser
	left int64
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errReset()
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.ReadCloser.Read(p)
	f.left -= int64(n)
	if err == io.EOF {
		err = errReset()
	}
	return n, err
}
