package s3test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Kind is a kind of fault an [Injector] injects into one request.
type Kind int

// The kinds of fault. "Before" kinds never reach the server; "After" kinds
// reach it, and the server does the work, but the client never sees its
// reply. Body kinds (ResetMidBody, CutBody, ChangeByte) apply only to a
// 2xx reply with a body.
const (
	// ResetBefore resets the connection before the request is forwarded.
	ResetBefore Kind = iota + 1
	// ResetAfter forwards the request, reads the server's whole reply,
	// then resets the connection: the work is done, the reply lost.
	ResetAfter
	// ResetMidBody sends the reply's status, headers and part of its body,
	// then resets the connection.
	ResetMidBody
	// SlowDownBefore answers 503 SlowDown without forwarding.
	SlowDownBefore
	// SlowDownAfter forwards, then answers 503 SlowDown instead of the
	// server's reply.
	SlowDownAfter
	// InternalErrorBefore answers 500 InternalError without forwarding.
	InternalErrorBefore
	// InternalErrorAfter forwards, then answers 500 InternalError instead
	// of the server's reply.
	InternalErrorAfter
	// Delay waits FaultOptions.Delay, then forwards.
	Delay
	// CutBody cuts the reply's body short and sends a Content-Length that
	// matches the shortened body, so the client sees a clean, short reply.
	CutBody
	// ChangeByte changes one byte of the reply's body.
	ChangeByte
)

// Kinds lists every kind, in order.
var Kinds = []Kind{ResetBefore, ResetAfter, ResetMidBody, SlowDownBefore, SlowDownAfter, InternalErrorBefore, InternalErrorAfter, Delay, CutBody, ChangeByte}

var kindNames = [...]string{"", "ResetBefore", "ResetAfter", "ResetMidBody", "SlowDownBefore", "SlowDownAfter", "InternalErrorBefore", "InternalErrorAfter", "Delay", "CutBody", "ChangeByte"}

// String returns the kind's name, as "ResetAfter".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// body reports whether the kind changes a reply's body.
func (k Kind) body() bool { return k == ResetMidBody || k == CutBody || k == ChangeByte }

// FaultOptions configure an [Injector]. The zero value injects no fault
// until one is scripted.
type FaultOptions struct {
	// Rate is the fraction of requests, 0 to 1, that get a fault chosen at
	// random. Scripted faults come first and are not counted in it.
	Rate float64
	// Seed seeds the random choices: the same seed and the same sequence
	// of requests give the same faults.
	Seed uint64
	// Kinds limits the kinds chosen at random; nil means all of Kinds.
	// Body kinds are chosen only for operations whose reply has a body.
	Kinds []Kind
	// Operations limits random faults to these operations (names as
	// Operation returns them); nil means all.
	Operations []string
	// Delay is how long a Delay fault waits; 0 means 50ms.
	Delay time.Duration
}

// Fault is one fault an [Injector] injected.
type Fault struct {
	// Request is the request's number, from 1, in the order the
	// injector saw requests.
	Request   int
	Operation string
	Kind      Kind
	// Scripted is true for a fault given by Script, false for one chosen
	// by the rate.
	Scripted bool
}

// String returns "PutObject ResetAfter".
func (f Fault) String() string { return f.Operation + " " + f.Kind.String() }

// Stats counts what an [Injector] saw and did.
type Stats struct {
	Requests    int            // requests seen
	Faults      int            // faults injected
	Skipped     int            // body faults chosen for a reply without a 2xx body, not injected
	ByOperation map[string]int // requests seen, per operation
	ByKind      map[Kind]int   // faults injected, per kind
}

// Injector injects faults into S3 requests and replies, chosen at random
// by a seeded rate or scripted for the next requests of an operation. Put
// it in front of a server as a reverse proxy ([Injector.Proxy],
// [Target.WithFaults]) or into a client as an http.RoundTripper
// ([Injector.Transport]); one injector may serve several of them. Its
// methods may be called from several goroutines.
type Injector struct {
	delay time.Duration

	mu      sync.Mutex
	rate    float64
	rng     *rand.Rand
	kinds   []Kind
	ops     map[string]bool // nil: all
	scripts map[string][]Kind
	log     []Fault
	stats   Stats
}

// NewInjector returns an injector; nil options mean no random faults.
// It panics on a kind or an operation name that does not exist, as a
// mistake in the test.
func NewInjector(opts *FaultOptions) *Injector {
	var o FaultOptions
	if opts != nil {
		o = *opts
	}
	if o.Rate < 0 || o.Rate > 1 {
		panic(fmt.Sprintf("s3test: fault rate %v is not between 0 and 1", o.Rate))
	}
	inj := &Injector{
		delay:   o.Delay,
		rate:    o.Rate,
		rng:     rand.New(rand.NewPCG(o.Seed, 0x5333746573740a)),
		kinds:   slices.Clone(o.Kinds),
		scripts: map[string][]Kind{},
		stats:   Stats{ByOperation: map[string]int{}, ByKind: map[Kind]int{}},
	}
	if inj.delay <= 0 {
		inj.delay = 50 * time.Millisecond
	}
	if inj.kinds == nil {
		inj.kinds = Kinds
	}
	for _, k := range inj.kinds {
		checkKind(k)
	}
	if o.Operations != nil {
		inj.ops = map[string]bool{}
		for _, op := range o.Operations {
			checkOperation(op)
			inj.ops[op] = true
		}
	}
	return inj
}

func checkKind(k Kind) {
	if k < ResetBefore || k > ChangeByte {
		panic(fmt.Sprintf("s3test: no fault kind %v", k))
	}
}

func checkOperation(op string) {
	if !operations[op] {
		panic(fmt.Sprintf("s3test: no S3 operation %q (names as Operation returns them, such as PutObject)", op))
	}
}

// Script makes the next requests of the operation op (as [Operation]
// names it) get the given faults, one request each, in order, before any
// fault chosen by the rate. A body fault scripted for a reply without a
// 2xx body is used up without effect and counted in Stats.Skipped. Script
// panics on an operation name or a kind that does not exist.
func (inj *Injector) Script(op string, kinds ...Kind) {
	checkOperation(op)
	for _, k := range kinds {
		checkKind(k)
	}
	inj.mu.Lock()
	defer inj.mu.Unlock()
	inj.scripts[op] = append(inj.scripts[op], kinds...)
}

// Pending returns how many scripted faults have not been used yet.
func (inj *Injector) Pending() int {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	n := 0
	for _, ks := range inj.scripts {
		n += len(ks)
	}
	return n
}

// SetRate changes the rate of random faults, as to stop them (0) before a
// test checks what the server holds.
func (inj *Injector) SetRate(rate float64) {
	if rate < 0 || rate > 1 {
		panic(fmt.Sprintf("s3test: fault rate %v is not between 0 and 1", rate))
	}
	inj.mu.Lock()
	defer inj.mu.Unlock()
	inj.rate = rate
}

// Faults returns the faults injected so far, in order.
func (inj *Injector) Faults() []Fault {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	return slices.Clone(inj.log)
}

// Stats returns the counters so far.
func (inj *Injector) Stats() Stats {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	s := inj.stats
	s.ByOperation = make(map[string]int, len(s.ByOperation))
	for k, v := range inj.stats.ByOperation {
		s.ByOperation[k] = v
	}
	s.ByKind = make(map[Kind]int, len(s.ByKind))
	for k, v := range inj.stats.ByKind {
		s.ByKind[k] = v
	}
	return s
}

// decision is the fault chosen for one request; kind 0 is none.
type decision struct {
	Fault
	at float64 // where in the body a body fault acts, 0 to 1
}

// decide counts a request and chooses its fault. The random draws are
// the same for every request, so a seeded run repeats.
func (inj *Injector) decide(method, op string) decision {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	inj.stats.Requests++
	inj.stats.ByOperation[op]++
	d := decision{Fault: Fault{Request: inj.stats.Requests, Operation: op}}
	roll, pick, at := inj.rng.Float64(), inj.rng.Float64(), inj.rng.Float64()
	d.at = at
	if ks := inj.scripts[op]; len(ks) > 0 {
		d.Kind, d.Scripted = ks[0], true
		if len(ks) == 1 {
			delete(inj.scripts, op)
		} else {
			inj.scripts[op] = ks[1:]
		}
		return d
	}
	if roll >= inj.rate || (inj.ops != nil && !inj.ops[op]) {
		return d
	}
	kinds := inj.kinds
	if !hasBody(method, op) {
		kinds = slices.DeleteFunc(slices.Clone(kinds), Kind.body)
	}
	if len(kinds) > 0 {
		d.Kind = kinds[int(pick*float64(len(kinds)))]
	}
	return d
}

// done records that the fault of d was injected.
func (inj *Injector) done(d decision) {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	inj.log = append(inj.log, d.Fault)
	inj.stats.Faults++
	inj.stats.ByKind[d.Kind]++
}

// skipped records that the fault of d did not apply.
func (inj *Injector) skipped() {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	inj.stats.Skipped++
}

// errorReply is the S3 error a SlowDown or InternalError fault answers.
func errorReply(k Kind) (status int, body string) {
	code, msg := "InternalError", "We encountered an internal error. Please try again."
	status = 500
	if k == SlowDownBefore || k == SlowDownAfter {
		code, msg, status = "SlowDown", "Please reduce your request rate.", 503
	}
	return status, `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Error><Code>` + code + `</Code><Message>` + msg + `</Message><RequestId>s3test-fault</RequestId></Error>`
}

// cutAt is where a body of n bytes is cut (CutBody, ResetMidBody) or
// changed (ChangeByte): 0 to n-1.
func cutAt(at float64, n int64) int64 {
	return min(int64(at*float64(n)), n-1)
}

// bodyFault prepares the body fault of d on a reply: it reports where in
// the body the fault acts, or ok false where the reply has no 2xx body to
// act on (the fault is then counted as skipped). It cuts (CutBody, with a
// matching Content-Length) or changes (ChangeByte) resp's body itself and
// leaves ResetMidBody to the caller.
func (inj *Injector) bodyFault(d decision, method string, resp *http.Response) (at int64, ok bool, err error) {
	if !bodyFaultApplies(method, resp) {
		inj.skipped()
		return 0, false, nil
	}
	if err := knowLength(resp); err != nil {
		return 0, false, err
	}
	if resp.ContentLength == 0 {
		inj.skipped()
		return 0, false, nil
	}
	inj.done(d)
	at = cutAt(d.at, resp.ContentLength)
	switch d.Kind {
	case CutBody:
		resp.ContentLength = at
		resp.Header.Set("Content-Length", strconv.FormatInt(at, 10))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, at), resp.Body}
	case ChangeByte:
		resp.Body = &changeByte{ReadCloser: resp.Body, at: at}
	}
	return at, true, nil
}

// bodyFaultApplies reports whether a body fault can act on the reply: a
// 2xx reply with a body.
func bodyFaultApplies(method string, resp *http.Response) bool {
	return method != http.MethodHead && resp.StatusCode >= 200 && resp.StatusCode < 300 &&
		resp.StatusCode != http.StatusNoContent
}

// knowLength reads a reply of unknown length whole, so that a body fault
// knows where to act. S3 sends the length of object bodies; only small
// XML replies may come without one.
func knowLength(resp *http.Response) error {
	if resp.ContentLength >= 0 {
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return nil
}

// changeByte changes the byte at offset at of the stream it reads.
type changeByte struct {
	io.ReadCloser
	at  int64
	off int64
}

func (c *changeByte) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if i := c.at - c.off; i >= 0 && i < int64(n) {
		p[i] ^= 0x01
	}
	c.off += int64(n)
	return n, err
}
