package main

import (
	"net"
	"sync"
	"time"
)

// wanProxy is a TCP proxy on 127.0.0.1 that makes loopback look like a
// long-distance link: every byte arrives delay later (half the round trip
// each way), and each connection carries at most rate bytes per second in
// each direction (a token bucket per connection and direction), as a
// single TCP stream to a far-away S3 is capped. Parallel connections each
// get the full rate, so parallel ranges gain as they do against AWS.
type wanProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration // one way
	rate   float64       // bytes per second, per connection and direction

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startWANProxy listens on 127.0.0.1 and forwards to target (host:port).
func startWANProxy(target string, rtt time.Duration, rate int64) (*wanProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &wanProxy{ln: ln, target: target, delay: rtt / 2, rate: float64(rate), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *wanProxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, cuts every connection and waits for the copies.
func (p *wanProxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil // connections accepted from now on are refused
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *wanProxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		if p.conns == nil {
			return false
		}
		p.conns[c] = struct{}{}
	} else if p.conns != nil {
		delete(p.conns, c)
	}
	return true
}

func (p *wanProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

func (p *wanProxy) handle(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, true) || !p.track(server, true) {
		client.Close()
		server.Close()
		return
	}
	defer func() {
		p.track(client, false)
		p.track(server, false)
		client.Close()
		server.Close()
	}()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(server, client) }()
	go func() { defer wg.Done(); p.pipe(client, server) }()
	wg.Wait()
}

// chunk is bytes read from one side, due on the other side at due.
type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst with the delay and the rate cap. A reader stamps
// each chunk with its arrival time; a writer holds it until then and paces
// it through the token bucket. The queue between them is bounded, so a slow
// reader on the far side pushes back on the sender as TCP would.
func (p *wanProxy) pipe(dst, src net.Conn) {
	queue := make(chan chunk, 256)
	go func() {
		defer close(queue)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{data: buf[:n], due: time.Now().Add(p.delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	// A burst of 20 ms at the rate: enough that a late wake-up of this
	// goroutine (on a busy machine) does not lower the average rate.
	bucket := tokenBucket{rate: p.rate, burst: max(64<<10, p.rate/50)}
	failed := false
	for c := range queue {
		if failed {
			continue // drain, so the reader ends
		}
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		bucket.take(len(c.data))
		if _, err := dst.Write(c.data); err != nil {
			failed = true
			src.Close()
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok && !failed {
		_ = tc.CloseWrite() // pass the half-close on
	} else {
		dst.Close()
	}
}

// tokenBucket paces bytes to rate per second, with bursts up to burst
// bytes. It keeps a schedule rather than sleeping n/rate each time, so a
// sleep that overshoots is made up by the next ones.
type tokenBucket struct {
	rate  float64 // bytes per second; 0 means no cap
	burst float64
	next  time.Time // when the bytes taken so far have all gone at rate
}

// take waits until n more bytes may go.
func (b *tokenBucket) take(n int) {
	if b.rate <= 0 {
		return
	}
	now := time.Now()
	if earliest := now.Add(-time.Duration(b.burst / b.rate * float64(time.Second))); b.next.Before(earliest) {
		b.next = earliest // idle time earns at most one burst
	}
	b.next = b.next.Add(time.Duration(float64(n) / b.rate * float64(time.Second)))
	if d := b.next.Sub(now); d > 0 {
		time.Sleep(d)
	}
}
