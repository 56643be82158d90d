package storage

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/smithy-go/middleware"
)

// Observer watches the library's operations, for metrics and traces.
// Package storage/s3otel builds one from OpenTelemetry; set it in
// Options.Observer. Its methods are called from many goroutines at once and
// must be quick; they must not call the Storage.
//
// Each public operation of a Storage (Get, Put, Write, Read, Stat, Exists,
// Delete, DeleteIf, Copy, UpdateMetadata, List, DeleteMany, NewWriter,
// CreateBucket, DeleteBucket, BucketExists, Buckets, PresignGet,
// PresignPut, AbortUploads) is one Begin and one End; an operation that
// another one calls (Exists calls Stat) is not observed a second time. A
// Get ends when its Reader reaches the end of the body, fails, or is
// closed; a List when its loop is over.
type Observer interface {
	// Begin is called as an operation starts. The operation runs, and
	// sends its S3 requests, with the context Begin returns: a tracer
	// puts its span there, so that the requests' spans are its children.
	Begin(ctx context.Context, op Op) context.Context
	// End is called once for each Begin, with the context Begin returned.
	End(ctx context.Context, op Op, r Result)
	// Event reports something notable inside the operation that runs in
	// ctx (a context Begin returned, or one derived from it).
	Event(ctx context.Context, e Event)
}

// Op names an observed operation.
type Op struct {
	// Name is the operation: "Get", "Put", "Write", "List", ... as in
	// Error.Op.
	Name string
	// Object is what it works on: a bucket and key, a bucket and a prefix
	// (List, AbortUploads), a bucket alone, or nothing (Buckets). The
	// default bucket is filled in.
	Object Name
}

// Result is how an observed operation ended.
type Result struct {
	// Outcome is the kind of the error: see Outcome.
	Outcome string
	// Err is the operation's error, nil on success.
	Err error
	// BytesIn counts object bytes received (Get, Read); BytesOut object
	// bytes stored (Put, Write, NewWriter, once they succeed).
	BytesIn, BytesOut int64
}

// Kinds of Event.
const (
	// EventRetry: a request is being sent again. Request names the S3
	// operation and Attempt the attempt about to be made (2 for the
	// first retry). Both the SDK's retries and the library's own (a
	// conditional write sent again once a check showed it did not land,
	// a read resumed after a broken connection) are reported.
	EventRetry = "retry"
	// EventResolved: a write whose reply was lost (or ambiguous) was
	// checked afterwards; Verdict says what was found: "ours" (it
	// landed), "not applied", "conflict" or "unknown" (the operation
	// then fails with ErrOutcomeUnknown).
	EventResolved = "resolved"
	// EventCorrupt: a body failed verification (the operation fails
	// with ErrCorrupt).
	EventCorrupt = "corrupt"
)

// Event is something notable inside an observed operation.
type Event struct {
	Kind    string // EventRetry, EventResolved, EventCorrupt
	Request string // the S3 operation concerned, when there is one: "PutObject"
	Attempt int    // EventRetry: the attempt about to be made
	Verdict string // EventResolved: what the check found
	Err     error  // the failure that led to it, when there is one
}

// Outcome names the kind of an operation's error, for metrics: "ok" for
// nil, then "not_found", "precondition_failed", "not_modified",
// "forbidden", "outcome_unknown", "corrupt", "invalid" (a name, header,
// setting or metadata refused before sending), "bucket_exists",
// "bucket_not_empty", "canceled" (the context was done) and "error" for
// anything else. It reads storage's errors and the SDK's.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var se *Error
	is := func(k error) bool { return errors.Is(err, k) }
	if !errors.As(err, &se) {
		// An SDK error, as the request middleware sees it.
		kinds := classify(err)
		is = func(k error) bool { return slices.Contains(kinds, k) }
	}
	for _, k := range []struct {
		kind error
		name string
	}{
		{ErrOutcomeUnknown, "outcome_unknown"},
		{ErrCorrupt, "corrupt"},
		{ErrNotFound, "not_found"},
		{ErrPreconditionFailed, "precondition_failed"},
		{ErrNotModified, "not_modified"},
		{ErrForbidden, "forbidden"},
		{ErrBucketExists, "bucket_exists"},
		{ErrBucketNotEmpty, "bucket_not_empty"},
		{ErrInvalidName, "invalid"},
		{ErrInvalidHeader, "invalid"},
		{ErrInvalidConfig, "invalid"},
		{ErrMetadataTooLarge, "invalid"},
		{ErrNoBucket, "invalid"},
	} {
		if is(k.kind) {
			return k.name
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "canceled"
	}
	return "error"
}

// observingKey marks a context inside an observed operation of a Storage
// (the value), so that the operations it calls are not observed again.
type observingKey struct{}

// observation is an operation being observed; the zero value observes
// nothing.
type observation struct {
	o   Observer
	ctx context.Context
	op  Op
}

// begin starts observing op on n. Use the context it returns, and call end
// once.
func (s *Storage) begin(ctx context.Context, op string, n Name) (context.Context, observation) {
	o := s.opts.Observer
	if o == nil || ctx.Value(observingKey{}) == s {
		return ctx, observation{}
	}
	if n.Bucket == "" {
		n.Bucket = s.opts.DefaultBucket
	}
	ob := observation{o: o, op: Op{Name: op, Object: n}}
	ob.ctx = context.WithValue(o.Begin(ctx, ob.op), observingKey{}, s)
	return ob.ctx, ob
}

// end reports the end of the operation.
func (ob observation) end(err error, in, out int64) {
	if ob.o != nil {
		ob.o.End(ob.ctx, ob.op, Result{Outcome: Outcome(err), Err: err, BytesIn: in, BytesOut: out})
	}
}

// event reports e to the Observer, if any.
func (s *Storage) event(ctx context.Context, e Event) {
	if s.opts.Observer != nil {
		s.opts.Observer.Event(ctx, e)
	}
}

// attemptsKey holds, on a request's middleware stack, the *int count of
// its attempts.
type attemptsKey struct{}

// countRetries reports each attempt after the first of a request as an
// EventRetry: a Finalize middleware after the SDK's retry loop sees every
// attempt.
func (s *Storage) countRetries(st *middleware.Stack) error {
	if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("s3map:attempts",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(middleware.WithStackValue(ctx, attemptsKey{}, new(int)), in)
		}), middleware.Before); err != nil {
		return err
	}
	if _, ok := st.Finalize.Get("Retry"); !ok {
		return nil // a presigning stack: nothing is sent
	}
	return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("s3map:retries",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if n, ok := middleware.GetStackValue(ctx, attemptsKey{}).(*int); ok {
				*n++
				if *n > 1 {
					s.event(ctx, Event{Kind: EventRetry, Request: middleware.GetOperationName(ctx), Attempt: *n})
				}
			}
			return next.HandleFinalize(ctx, in)
		}), "Retry", middleware.After)
}
