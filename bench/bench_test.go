package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// The child process finds its runner by workload name and runner label, so
// both must be unique, and every workload needs s3map and a peer.
func TestWorkloadTable(t *testing.T) {
	for name, sz := range presets {
		seen := map[string]bool{}
		for _, w := range workloads(sz) {
			if seen[w.Name] {
				t.Errorf("%s: workload %q twice", name, w.Name)
			}
			seen[w.Name] = true
			labels := map[string]bool{}
			var mine, peers int
			for _, r := range w.Runners {
				if labels[r.Label()] {
					t.Errorf("%s: %q: runner %q twice", name, w.Name, r.Label())
				}
				labels[r.Label()] = true
				switch r.Role {
				case roleS3map:
					mine++
				case rolePeer:
					peers++
				}
				if r.Run == nil {
					t.Errorf("%s: %q: runner %q has no Run", name, w.Name, r.Label())
				}
			}
			if mine == 0 || (peers == 0 && w.Synth == nil) {
				t.Errorf("%s: %q: %d s3map runners, %d peers", name, w.Name, mine, peers)
			}
			if w.Ops <= 0 {
				t.Errorf("%s: %q: Ops %d", name, w.Name, w.Ops)
			}
		}
	}
}

func TestParseEndpoints(t *testing.T) {
	got, err := parseEndpoints("versitygw=http://test:secret@127.0.0.1:7070, minio=http://a:b@127.0.0.1:9000")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "versitygw" || got[0].URL != "http://127.0.0.1:7070" ||
		got[0].AccessKey != "test" || got[0].SecretKey != "secret" || got[1].Host() != "127.0.0.1:9000" {
		t.Errorf("parseEndpoints = %+v", got)
	}
	for _, bad := range []string{"", "x", "=http://a:b@h:1", "m=ftp://a:b@h:1", "m=http://h:1"} {
		if _, err := parseEndpoints(bad); err == nil {
			t.Errorf("parseEndpoints(%q): no error", bad)
		}
	}
}

func TestMedian(t *testing.T) {
	m := median([]result{{Seconds: 3, Mem: 10}, {Seconds: 1, Mem: 30}, {Seconds: 2, Mem: 20}})
	if m.Seconds != 2 || m.Mem != 20 {
		t.Errorf("median of three = %+v", m)
	}
	m = median([]result{{Seconds: 1, Dials: 1}, {Seconds: 3, Dials: 2}})
	if m.Seconds != 2 || m.Dials != 2 {
		t.Errorf("median of two = %+v", m)
	}
}

// The WAN-like proxy delivers every byte, in order, both ways, and passes a
// half-close on (the reply still arrives after the client's CloseWrite).
func TestWANProxyDelivers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // echo server: reads everything, then sends it back reversed
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		c.Write(b)
	}()
	p, err := startWANProxy(ln.Addr().String(), 2*time.Millisecond, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := make([]byte, 3<<20+17)
	for i := range sent {
		sent[i] = byte(rand.IntN(256))
	}
	go func() {
		c.Write(sent)
		c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(sent)-1; i < j; i, j = i+1, j-1 {
		sent[i], sent[j] = sent[j], sent[i]
	}
	if !bytes.Equal(got, sent) {
		t.Fatalf("got %d bytes back, want the %d sent, reversed", len(got), len(sent))
	}
}
