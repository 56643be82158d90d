package s3test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Proxy is a reverse proxy on 127.0.0.1 that forwards requests to an S3
// endpoint through an [Injector]. Any client reaches the endpoint through
// it at URL: storage.Open with Config.Endpoint set to URL (and TLS off),
// the aws CLI with --endpoint-url, boto3, curl. Bodies stream through in
// both directions; only a reply whose length its server did not send, and
// that gets a body fault, is read whole first.
//
// The proxy forwards the client's Host header, which the request's
// signature covers, so servers that route requests by their Host (AWS
// itself) need [Injector.Transport] instead. Resets are real TCP resets
// (SO_LINGER 0, then close).
type Proxy struct {
	// URL is the proxy's base URL, "http://127.0.0.1:port".
	URL string

	inj      *Injector
	target   *url.URL
	srv      *http.Server
	upstream *http.Transport

	mu     sync.Mutex
	closed bool
	active sync.WaitGroup // requests being served
}

// Proxy starts a reverse proxy on 127.0.0.1 in front of the endpoint, an
// "http://host:port" or "https://host:port" base URL (as
// storage.Config.Endpoint or Server.URL). Close it when done.
func (inj *Injector) Proxy(endpoint string) (*Proxy, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, errors.New("s3test: proxy endpoint must be an http:// or https:// URL with a host and no credentials")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("s3test: proxy listening on 127.0.0.1: %w", err)
	}
	p := &Proxy{
		URL:    "http://" + ln.Addr().String(),
		inj:    inj,
		target: &url.URL{Scheme: u.Scheme, Host: u.Host},
		upstream: &http.Transport{
			DisableCompression:  true,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	p.srv = &http.Server{Handler: p, ErrorLog: discardLog}
	go p.srv.Serve(ln)
	return p, nil
}

// Close stops the proxy: it closes its listener and every connection,
// waits for the requests being served to end, and closes its connections
// to the endpoint.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.srv.Close()
	p.active.Wait()
	p.upstream.CloseIdleConnections()
	return err
}

var discardLog = log.New(io.Discard, "", 0)

// hopHeaders are not forwarded (RFC 9110, 7.6.1), nor is Expect: the
// proxy's own server answers 100 Continue.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect"}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.reset(w)
		return
	}
	p.active.Add(1)
	p.mu.Unlock()
	defer p.active.Done()

	d := p.inj.decide(r.Method, Operation(r))
	switch d.Kind {
	case ResetBefore:
		p.inj.done(d)
		// Read the request first, so that the client sees the reset when
		// it reads the reply (ECONNRESET), not in the middle of its write.
		io.Copy(io.Discard, r.Body)
		p.reset(w)
		return
	case SlowDownBefore, InternalErrorBefore:
		p.inj.done(d)
		writeFault(w, d.Kind)
		return
	case Delay:
		p.inj.done(d)
		if !sleep(r.Context(), p.inj.delay) {
			return
		}
	}

	resp, err := p.forward(r)
	if err != nil {
		if d.Kind.body() {
			p.inj.skipped()
		}
		writeError(w, http.StatusBadGateway, "BadGateway", "s3test proxy: "+err.Error())
		return
	}
	defer resp.Body.Close()

	switch d.Kind {
	case ResetAfter, SlowDownAfter, InternalErrorAfter:
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			p.reset(w) // the server's reply failed: the client sees a reset
			return
		}
		p.inj.done(d)
		if d.Kind == ResetAfter {
			p.reset(w)
		} else {
			writeFault(w, d.Kind)
		}
		return
	case ResetMidBody, CutBody, ChangeByte:
		at, ok, err := p.inj.bodyFault(d, r.Method, resp)
		if err != nil {
			p.reset(w) // the server's reply failed: the client sees a reset
			return
		}
		if ok && d.Kind == ResetMidBody {
			p.resetMidBody(w, resp, at)
			return
		}
	}
	copyHeader(w.Header(), resp.Header)
	if resp.ContentLength >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// forward sends r to the endpoint, streaming its body, with its Host
// header (signed) and its path exactly as the client escaped it.
func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	u := *r.URL
	u.Scheme, u.Host = p.target.Scheme, p.target.Host
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	out.URL = &u
	out.Host = r.Host
	out.Header = r.Header.Clone()
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	if r.ContentLength != 0 {
		out.Body = r.Body
		out.ContentLength = r.ContentLength
	}
	return p.upstream.RoundTrip(out)
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
	for _, h := range hopHeaders {
		dst.Del(h)
	}
}

// reset drops the client's connection with a TCP reset.
func (p *Proxy) reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	resetConn(conn)
}

func resetConn(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// resetMidBody sends the reply's status and headers, with the full
// Content-Length, and the first n bytes of its body, then resets.
func (p *Proxy) resetMidBody(w http.ResponseWriter, resp *http.Response, n int64) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer resetConn(conn)
	if buf == nil {
		buf = bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn))
	}
	bw := buf.Writer
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	h := resp.Header.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	h.Write(bw)
	bw.WriteString("\r\n")
	io.CopyN(bw, resp.Body, n)
	bw.Flush()
}

// writeFault answers the S3 error of a SlowDown or InternalError fault.
func writeFault(w http.ResponseWriter, k Kind) {
	status, body := errorReply(k)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("x-amz-request-id", "s3test-fault")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
