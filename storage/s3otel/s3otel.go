// Package s3otel gives a storage.Storage OpenTelemetry traces and metrics.
// It is the only s3map package that imports OpenTelemetry: storage,
// bucketmap and kv stay free of it, and so do the programs that do not
// import this package.
//
// New builds a Telemetry from a TracerProvider and a MeterProvider (the
// global ones by default); its Options method returns the storage.Options
// to connect with:
//
//	tel, err := s3otel.New(s3otel.WithTracerProvider(tp), s3otel.WithMeterProvider(mp))
//	st, err := storage.OpenWith(ctx, cfg, tel.Options(nil))
//	m := bucketmap.New(st, "prefix/")
//
// # Traces
//
// Each operation of the Storage is a span named "s3map.Op" (s3map.Get,
// s3map.Put, s3map.List...), child of the span in the caller's context;
// each S3 request it sends is a client span "S3.Operation" (S3.GetObject,
// S3.PutObject...) beneath it, as the SDK's otelaws instrumentation names
// them. A BucketMap's Get, Set, Delete, Keys... are the storage operations
// they make (Get, Put, Delete, List), with the key in the span's
// aws.s3.key attribute; kv.Update is a Get then a Put per attempt: start
// a span of your own around it to group them (see the Example). Retries,
// writes resolved after a lost reply and corrupt bodies are span events.
// A span's status is Error when its outcome is a failure; a missing
// object (not_found), an unchanged one (not_modified) and a condition that
// did not hold (precondition_failed) are answers, not errors.
//
// # Metrics
//
// All instruments are named s3map.*:
//
//   - s3map.operations{s3map.operation, s3map.outcome}: operations ended,
//     with s3map.operation.duration (seconds) beside it;
//   - s3map.requests{rpc.method, s3map.outcome, http.response.status_code}:
//     S3 requests (each with its retries), and s3map.request.duration;
//   - s3map.bytes.received and s3map.bytes.sent{s3map.operation}: object
//     bytes read and stored;
//   - s3map.retries{rpc.method}: requests sent again, by the SDK or the
//     library;
//   - s3map.writes.resolved{s3map.verdict}: writes whose reply was lost,
//     checked afterwards (ours, not applied, conflict, unknown);
//   - s3map.corrupt_bodies{rpc.method}: bodies that failed verification;
//   - with ObserveCache, s3map.cache.hits, .misses, .revalidations,
//     .bytes_saved, .entries and .bytes{s3map.cache}.
//
// Outcomes are those of storage.Outcome.
package s3otel

import (
	"context"
	"errors"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/storage"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/s3map/s3map/storage/s3otel"

// Option configures New.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets the TracerProvider; the default is the global
// one (otel.GetTracerProvider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets the MeterProvider; the default is the global one
// (otel.GetMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// Telemetry traces and measures the Storages connected with its Options.
// It implements storage.Observer. One Telemetry may serve several
// Storages; it is safe for concurrent use.
type Telemetry struct {
	tracer trace.Tracer
	meter  metric.Meter

	ops, requests, bytesIn, bytesOut, retries, resolved, corrupt metric.Int64Counter
	opDuration, requestDuration                                  metric.Float64Histogram

	cacheHits, cacheMisses, cacheRevalidations, cacheBytesSaved metric.Int64ObservableCounter
	cacheEntries, cacheBytes                                    metric.Int64ObservableUpDownCounter
}

var _ storage.Observer = (*Telemetry)(nil)

// New makes the instruments and the tracer.
func New(opts ...Option) (*Telemetry, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	t := &Telemetry{tracer: c.tp.Tracer(ScopeName), meter: c.mp.Meter(ScopeName)}
	m := t.meter
	var errs []error
	counter := func(p *metric.Int64Counter, name, unit, desc string) {
		var err error
		*p, err = m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
	}
	histogram := func(p *metric.Float64Histogram, name, desc string) {
		var err error
		*p, err = m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
		errs = append(errs, err)
	}
	observable := func(p *metric.Int64ObservableCounter, name, unit, desc string) {
		var err error
		*p, err = m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
	}
	gauge := func(p *metric.Int64ObservableUpDownCounter, name, unit, desc string) {
		var err error
		*p, err = m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
	}
	counter(&t.ops, "s3map.operations", "{operation}", "Storage operations ended, by operation and outcome.")
	histogram(&t.opDuration, "s3map.operation.duration", "Duration of Storage operations.")
	counter(&t.requests, "s3map.requests", "{request}", "S3 requests, each with its retries, by S3 operation and outcome.")
	histogram(&t.requestDuration, "s3map.request.duration", "Duration of S3 requests, retries included.")
	counter(&t.bytesIn, "s3map.bytes.received", "By", "Object bytes read.")
	counter(&t.bytesOut, "s3map.bytes.sent", "By", "Object bytes stored.")
	counter(&t.retries, "s3map.retries", "{retry}", "Requests sent again, by the SDK or the library.")
	counter(&t.resolved, "s3map.writes.resolved", "{write}", "Writes whose reply was lost, checked afterwards, by verdict.")
	counter(&t.corrupt, "s3map.corrupt_bodies", "{body}", "Bodies that failed verification.")
	observable(&t.cacheHits, "s3map.cache.hits", "{get}", "Cache reads answered from a fresh entry.")
	observable(&t.cacheMisses, "s3map.cache.misses", "{get}", "Cache reads that read the store behind.")
	observable(&t.cacheRevalidations, "s3map.cache.revalidations", "{get}", "Expired cache entries checked with the store behind.")
	observable(&t.cacheBytesSaved, "s3map.cache.bytes_saved", "By", "Value bytes revalidations did not transfer.")
	gauge(&t.cacheEntries, "s3map.cache.entries", "{entry}", "Entries in the cache.")
	gauge(&t.cacheBytes, "s3map.cache.bytes", "By", "Weight of the cache's entries.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// Options returns a copy of base (nil for none) with the Telemetry as its
// Observer and its request middleware added to APIOptions: pass it to
// storage.OpenWith or storage.New.
func (t *Telemetry) Options(base *storage.Options) *storage.Options {
	var o storage.Options
	if base != nil {
		o = *base
	}
	o.Observer = t
	o.APIOptions = append(o.APIOptions[:len(o.APIOptions):len(o.APIOptions)], t.Middleware)
	return &o
}

// Attribute keys.
const (
	keyOperation  = attribute.Key("s3map.operation")
	keyOutcome    = attribute.Key("s3map.outcome")
	keyVerdict    = attribute.Key("s3map.verdict")
	keyCache      = attribute.Key("s3map.cache")
	keyBucket     = attribute.Key("aws.s3.bucket")
	keyKey        = attribute.Key("aws.s3.key")
	keyRPCSystem  = attribute.Key("rpc.system")
	keyRPCService = attribute.Key("rpc.service")
	keyRPCMethod  = attribute.Key("rpc.method")
	keyStatus     = attribute.Key("http.response.status_code")
)

// opKey holds an operation's start in the context Begin returns.
type opKey struct{}

// Begin starts the operation's span (see storage.Observer).
func (t *Telemetry) Begin(ctx context.Context, op storage.Op) context.Context {
	attrs := []attribute.KeyValue{keyOperation.String(op.Name)}
	if op.Object.Bucket != "" {
		attrs = append(attrs, keyBucket.String(op.Object.Bucket))
	}
	if op.Object.Key != "" {
		attrs = append(attrs, keyKey.String(op.Object.Key))
	}
	ctx, _ = t.tracer.Start(ctx, "s3map."+op.Name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, opKey{}, time.Now())
}

// End ends the operation's span and counts it (see storage.Observer).
func (t *Telemetry) End(ctx context.Context, op storage.Op, r storage.Result) {
	opAttr := keyOperation.String(op.Name)
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(keyOutcome.String(r.Outcome))
	setStatus(span, r.Outcome, r.Err)
	span.End()

	set := metric.WithAttributeSet(attribute.NewSet(opAttr, keyOutcome.String(r.Outcome)))
	t.ops.Add(ctx, 1, set)
	if start, ok := ctx.Value(opKey{}).(time.Time); ok {
		t.opDuration.Record(ctx, time.Since(start).Seconds(), set)
	}
	if r.BytesIn > 0 {
		t.bytesIn.Add(ctx, r.BytesIn, metric.WithAttributes(opAttr))
	}
	if r.BytesOut > 0 {
		t.bytesOut.Add(ctx, r.BytesOut, metric.WithAttributes(opAttr))
	}
}

// Event adds e to the current span (the request's or the operation's) and
// counts it (see storage.Observer).
func (t *Telemetry) Event(ctx context.Context, e storage.Event) {
	attrs := []attribute.KeyValue{keyRPCMethod.String(e.Request)}
	switch e.Kind {
	case storage.EventRetry:
		attrs = append(attrs, attribute.Int("s3map.attempt", e.Attempt))
		t.retries.Add(ctx, 1, metric.WithAttributes(keyRPCMethod.String(e.Request)))
	case storage.EventResolved:
		attrs = append(attrs, keyVerdict.String(e.Verdict))
		t.resolved.Add(ctx, 1, metric.WithAttributes(keyVerdict.String(e.Verdict)))
	case storage.EventCorrupt:
		t.corrupt.Add(ctx, 1, metric.WithAttributes(keyRPCMethod.String(e.Request)))
	}
	if e.Err != nil {
		attrs = append(attrs, attribute.String("error.message", e.Err.Error()))
	}
	trace.SpanFromContext(ctx).AddEvent("s3map."+e.Kind, trace.WithAttributes(attrs...))
}

// answer reports outcomes that are answers, not failures.
func answer(outcome string) bool {
	switch outcome {
	case "ok", "not_found", "not_modified", "precondition_failed":
		return true
	}
	return false
}

func setStatus(span trace.Span, outcome string, err error) {
	if !answer(outcome) && err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
}

// Middleware is the SDK middleware that traces and counts each S3
// request: a client span "S3.Operation" in the operation's span, and the
// s3map.requests and s3map.request.duration instruments. Options adds it;
// add it yourself to a client that is not a Storage's
// (s3.Options.APIOptions).
func (t *Telemetry) Middleware(st *middleware.Stack) error {
	if _, ok := st.Finalize.Get("Retry"); !ok {
		return nil // a presigning stack: nothing is sent
	}
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("s3map:otel",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			method := middleware.GetOperationName(ctx)
			service := awsmiddleware.GetServiceID(ctx)
			ctx, span := t.tracer.Start(ctx, service+"."+method, trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(keyRPCSystem.String("aws-api"), keyRPCService.String(service), keyRPCMethod.String(method)))
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			outcome := storage.Outcome(err)
			attrs := []attribute.KeyValue{keyRPCMethod.String(method), keyOutcome.String(outcome)}
			if code := statusCode(md, err); code != 0 {
				attrs = append(attrs, keyStatus.Int(code))
			}
			span.SetAttributes(attrs[1:]...)
			setStatus(span, outcome, err)
			span.End()
			set := metric.WithAttributeSet(attribute.NewSet(attrs...))
			t.requests.Add(ctx, 1, set)
			t.requestDuration.Record(ctx, time.Since(start).Seconds(), set)
			return out, md, err
		}), middleware.Before)
}

// statusCode is the HTTP status of a request's last reply, or 0.
func statusCode(md middleware.Metadata, err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && r != nil {
		return r.StatusCode
	}
	return 0
}

// CacheStats is what ObserveCache reads: a kv/cache Cache.
type CacheStats interface {
	Stats() cache.Stats
}

// ObserveCache reports c's Stats as the s3map.cache.* instruments, with
// the attribute s3map.cache=name, each time the metrics are collected.
// Unregister the Registration when the cache is gone.
func (t *Telemetry) ObserveCache(name string, c CacheStats) (metric.Registration, error) {
	set := metric.WithAttributeSet(attribute.NewSet(keyCache.String(name)))
	return t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := c.Stats()
		o.ObserveInt64(t.cacheHits, int64(s.Hits), set)
		o.ObserveInt64(t.cacheMisses, int64(s.Misses), set)
		o.ObserveInt64(t.cacheRevalidations, int64(s.Revalidations), set)
		o.ObserveInt64(t.cacheBytesSaved, int64(s.BytesSaved), set)
		o.ObserveInt64(t.cacheEntries, int64(s.Entries), set)
		o.ObserveInt64(t.cacheBytes, int64(s.Bytes), set)
		return nil
	}, t.cacheHits, t.cacheMisses, t.cacheRevalidations, t.cacheBytesSaved, t.cacheEntries, t.cacheBytes)
}

// ObserveUpdate traces and counts a kv.Update: pass it as
// kv.UpdateOptions.Observe. The update is a span "s3map.Update" with the
// map's key (s3map.key: the store's key, not an object key) and the
// attempts made (s3map.attempts), the reads and writes of its attempts are its
// children, and it counts in s3map.operations and
// s3map.operation.duration as operation Update. Outcomes are
// storage.Outcome's, plus "conflict" for an update that gave up on
// conflicts (over a store other than storage).
func (t *Telemetry) ObserveUpdate(ctx context.Context, key string) (context.Context, func(attempts int, err error)) {
	op := storage.Op{Name: "Update"}
	ctx = t.Begin(ctx, op)
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("s3map.key", key))
	return ctx, func(attempts int, err error) {
		outcome := storage.Outcome(err)
		switch {
		case outcome != "error":
		case errors.Is(err, kv.ErrOutcomeUnknown):
			outcome = "outcome_unknown"
		case errors.Is(err, kv.ErrConflict):
			outcome = "conflict"
		}
		trace.SpanFromContext(ctx).SetAttributes(attribute.Int("s3map.attempts", attempts))
		t.End(ctx, op, storage.Result{Outcome: outcome, Err: err})
	}
}
