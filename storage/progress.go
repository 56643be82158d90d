package storage

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Unit is what a Progress counts.
type Unit int

const (
	// Bytes: an object's bytes moved (Write, Read, Put, Get, SetFrom,
	// NewWriter, Copy).
	Bytes Unit = iota
	// Keys: keys handled by a batch delete (DeleteMany, and so Clear).
	Keys
)

// String returns "bytes" or "keys".
func (u Unit) String() string {
	if u == Keys {
		return "keys"
	}
	return "bytes"
}

// Progress is one report of a long operation, given to the function set by
// WithProgress.
type Progress struct {
	// Op is the operation: "Write", "Put", "NewWriter", "Read", "Get",
	// "Copy", "DeleteMany" (bucketmap's SetFrom is a Put, Clear a
	// DeleteMany).
	Op string
	// Name is the object (for DeleteMany, the bucket only).
	Name Name
	// Done is how many Units are done so far. It never goes backwards and
	// never exceeds Total when Total is known.
	Done int64
	// Total is the size of the whole work, or -1 when unknown (a stream
	// without PutOptions.Size, the keys of DeleteMany).
	Total int64
	// Unit is what Done and Total count.
	Unit Unit
	// Final is true on the last report of the operation, made when it
	// ends, whether it succeeded or not. After a success with a known
	// Total, Done equals Total.
	Final bool
}

type progressKey struct{}

// progressConf is what WithProgress puts in the context.
type progressConf struct {
	fn    func(Progress)
	every time.Duration
}

// WithProgress returns a context under which every long operation of a
// Storage (Write, Read, Put, Get and its Reader, NewWriter, Copy,
// DeleteMany) reports its progress to fn: at most once per interval
// while it runs, and once more when it ends (Progress.Final). An interval
// of 0 reports every step. fn is never called concurrently for one
// operation, but several operations under the same context may call it at
// once; it should return quickly (it runs on the transfer's goroutines).
//
// Steps: a download reports bytes as they arrive; an upload or a copy
// reports each part once it is stored (so in steps of PartSize or
// CopyPartSize; an object sent in one request reports only at the end); a
// batch delete reports keys after each request of up to 1000 keys. A part
// sent again or a body resumed after a broken connection does not count
// twice.
func WithProgress(ctx context.Context, fn func(Progress), interval time.Duration) context.Context {
	if fn == nil {
		return context.WithValue(ctx, progressKey{}, (*progressConf)(nil))
	}
	return context.WithValue(ctx, progressKey{}, &progressConf{fn: fn, every: max(interval, 0)})
}

// progress is one operation's reporter. The zero of *progress (nil) is a
// no-op, so call sites need no checks.
type progress struct {
	conf  *progressConf
	base  Progress
	done  atomic.Int64
	next  atomic.Int64 // the earliest time (UnixNano) of the next report
	mu    sync.Mutex   // serialises calls to fn
	ended bool         // the final report was made (under mu)
}

// newProgress returns the reporter of op on n under ctx, or nil when ctx
// asks for none.
func newProgress(ctx context.Context, op string, n Name, total int64, unit Unit) *progress {
	c, _ := ctx.Value(progressKey{}).(*progressConf)
	if c == nil {
		return nil
	}
	p := &progress{conf: c, base: Progress{Op: op, Name: n, Total: total, Unit: unit}}
	p.next.Store(time.Now().Add(c.every).UnixNano())
	return p
}

// setTotal sets the total once it becomes known.
func (p *progress) setTotal(total int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.base.Total = total
	p.mu.Unlock()
}

// add counts n more units done, and reports if the interval has passed.
func (p *progress) add(n int64) {
	if p == nil || n <= 0 {
		return
	}
	p.done.Add(n)
	if p.conf.every > 0 {
		// Of the steps that find the interval passed at once, one
		// reports. With no interval, every step reports.
		now := time.Now().UnixNano()
		next := p.next.Load()
		if now < next || !p.next.CompareAndSwap(next, now+int64(p.conf.every)) {
			return
		}
	}
	p.report(false)
}

// end makes the final report (once).
func (p *progress) end() {
	if p != nil {
		p.report(true)
	}
}

func (p *progress) report(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.ended = final
	r := p.base
	r.Done = p.done.Load()
	if r.Total >= 0 && r.Done > r.Total {
		r.Done = r.Total
	}
	r.Final = final
	p.conf.fn(r)
}
