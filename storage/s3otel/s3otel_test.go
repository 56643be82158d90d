package s3otel_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3otel"
	"github.com/s3map/s3map/storage/s3test"
)

// rig is a Telemetry over an in-memory span recorder and a manual reader.
type rig struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tel    *s3otel.Telemetry
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	var err error
	if r.tel, err = s3otel.New(s3otel.WithTracerProvider(tp), s3otel.WithMeterProvider(mp)); err != nil {
		t.Fatal(err)
	}
	return r
}

// open connects to cfg through the rig.
func (r *rig) open(t *testing.T, cfg storage.Config) *storage.Storage {
	t.Helper()
	st, err := storage.OpenWith(context.Background(), cfg, r.tel.Options(nil))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sum adds the points of the Int64 sum named name whose attributes include
// every one of want.
func (r *rig) sum(t *testing.T, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			data, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Fatalf("%s is a %T, not an Int64 sum", name, m.Data)
			}
		points:
			for _, p := range data.DataPoints {
				for _, kv := range want {
					if v, ok := p.Attributes.Value(kv.Key); !ok || v != kv.Value {
						continue points
					}
				}
				total += p.Value
			}
		}
	}
	return total
}

// span returns the one ended span named name.
func (r *rig) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range r.spans.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %s, want 1 (spans: %v)", len(found), name, names(r.spans.Ended()))
	}
	return found[0]
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.String()
		}
	}
	return ""
}

// childOf fails unless child's parent is parent.
func childOf(t *testing.T, child, parent sdktrace.ReadOnlySpan) {
	t.Helper()
	if child.Parent().SpanID() != parent.SpanContext().SpanID() || child.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("span %s is not a child of %s", child.Name(), parent.Name())
	}
}

var (
	opGet    = attribute.String("s3map.operation", "Get")
	opPut    = attribute.String("s3map.operation", "Put")
	ok       = attribute.String("s3map.outcome", "ok")
	notFound = attribute.String("s3map.outcome", "not_found")
)

// Each operation is a span with its S3 requests as children; a missing
// object is the outcome not_found, not an error; bytes are counted; an
// operation another one calls (Stat inside Exists) is not a second span.
func TestSpansAndMetrics(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		r := newRig(t)
		st := r.open(t, tg.Config)
		if _, err := st.Put(ctx, storage.Name{Key: "k"}, strings.NewReader("hello"), nil); err != nil {
			t.Fatal(err)
		}
		rd, err := st.Get(ctx, storage.Name{Key: "k"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(rd); err != nil || string(b) != "hello" {
			t.Fatalf("read %q, %v", b, err)
		}
		rd.Close()
		if _, err := st.Get(ctx, storage.Name{Key: "missing"}, nil); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Get of a missing key: %v", err)
		}
		if found, _, err := st.Exists(ctx, storage.Name{Key: "k"}); err != nil || !found {
			t.Fatalf("Exists: %v, %v", found, err)
		}

		put, putObject := r.span(t, "s3map.Put"), r.span(t, "S3.PutObject")
		childOf(t, putObject, put)
		if got := attr(put, "aws.s3.key"); got != "k" {
			t.Errorf("Put span's key %q, want k", got)
		}
		var gets, getObjects []sdktrace.ReadOnlySpan
		for _, s := range r.spans.Ended() {
			switch s.Name() {
			case "s3map.Get":
				gets = append(gets, s)
			case "S3.GetObject":
				getObjects = append(getObjects, s)
			}
		}
		if len(gets) != 2 || len(getObjects) != 2 {
			t.Fatalf("%d Get spans and %d GetObject spans, want 2 and 2: %v", len(gets), len(getObjects), names(r.spans.Ended()))
		}
		for i := range gets {
			childOf(t, getObjects[i], gets[i])
			if attr(gets[i], "aws.s3.key") == "missing" {
				if gets[i].Status().Code == codes.Error || attr(gets[i], "s3map.outcome") != "not_found" {
					t.Errorf("Get of a missing key: status %v, outcome %q; want not an error, not_found", gets[i].Status(), attr(gets[i], "s3map.outcome"))
				}
			}
		}
		exists, head := r.span(t, "s3map.Exists"), r.span(t, "S3.HeadObject")
		childOf(t, head, exists)
		for _, s := range r.spans.Ended() {
			if s.Name() == "s3map.Stat" {
				t.Error("Exists made a Stat span of its own")
			}
		}

		for _, c := range []struct {
			name  string
			attrs []attribute.KeyValue
			want  int64
		}{
			{"s3map.operations", []attribute.KeyValue{opPut, ok}, 1},
			{"s3map.operations", []attribute.KeyValue{opGet, ok}, 1},
			{"s3map.operations", []attribute.KeyValue{opGet, notFound}, 1},
			{"s3map.operations", []attribute.KeyValue{attribute.String("s3map.operation", "Stat")}, 0},
			{"s3map.requests", []attribute.KeyValue{attribute.String("rpc.method", "GetObject"), notFound, attribute.Int("http.response.status_code", 404)}, 1},
			{"s3map.requests", []attribute.KeyValue{attribute.String("rpc.method", "PutObject"), ok}, 1},
			{"s3map.bytes.received", []attribute.KeyValue{opGet}, 5},
			{"s3map.bytes.sent", []attribute.KeyValue{opPut}, 5},
			{"s3map.retries", nil, 0},
		} {
			if got := r.sum(t, c.name, c.attrs...); got != c.want {
				t.Errorf("%s%v = %d, want %d", c.name, c.attrs, got, c.want)
			}
		}
	})
}

// A request the SDK sends again counts one retry, as an event on the
// request's span; the request counts once, with its final outcome.
func TestRetryCounted(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		if _, err := tg.Storage.Put(ctx, storage.Name{Key: "k"}, strings.NewReader("hello"), nil); err != nil {
			t.Fatal(err)
		}
		inj := s3test.NewInjector(nil)
		r := newRig(t)
		st := r.open(t, tg.WithFaults(t, inj).Config)
		inj.Script("GetObject", s3test.SlowDownBefore)
		rd, err := st.Get(ctx, storage.Name{Key: "k"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, rd)
		rd.Close()
		if got := inj.Stats().ByOperation["GetObject"]; got != 2 {
			t.Fatalf("%d GetObject requests, want 2 (one 503, one retry)", got)
		}
		getObject := "rpc.method"
		if got := r.sum(t, "s3map.retries", attribute.String(getObject, "GetObject")); got != 1 {
			t.Errorf("s3map.retries{GetObject} = %d, want 1", got)
		}
		if got := r.sum(t, "s3map.requests", attribute.String(getObject, "GetObject"), ok); got != 1 {
			t.Errorf("s3map.requests{GetObject, ok} = %d, want 1", got)
		}
		req := r.span(t, "S3.GetObject")
		childOf(t, req, r.span(t, "s3map.Get"))
		var retries int
		for _, e := range req.Events() {
			if e.Name == "s3map.retry" {
				retries++
			}
		}
		if retries != 1 {
			t.Errorf("%d retry events on the GetObject span, want 1", retries)
		}
	})
}

// A conditional write whose reply is lost is checked afterwards: the
// verdict is counted and the Put is ok.
func TestAmbiguousWriteResolved(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		inj := s3test.NewInjector(nil)
		r := newRig(t)
		st := r.open(t, tg.WithFaults(t, inj).Config)
		inj.Script("PutObject", s3test.ResetAfter)
		if _, err := st.Put(ctx, storage.Name{Key: "k"}, strings.NewReader("hello"), &storage.PutOptions{IfNoneMatch: "*"}); err != nil {
			t.Fatal(err)
		}
		if got := r.sum(t, "s3map.writes.resolved", attribute.String("s3map.verdict", "ours")); got != 1 {
			t.Errorf("s3map.writes.resolved{ours} = %d, want 1", got)
		}
		if got := r.sum(t, "s3map.operations", opPut, ok); got != 1 {
			t.Errorf("s3map.operations{Put, ok} = %d, want 1", got)
		}
		put := r.span(t, "s3map.Put")
		var verdicts []string
		for _, e := range put.Events() {
			if e.Name == "s3map.resolved" {
				for _, kv := range e.Attributes {
					if kv.Key == "s3map.verdict" {
						verdicts = append(verdicts, kv.Value.AsString())
					}
				}
			}
		}
		if len(verdicts) != 1 || verdicts[0] != "ours" {
			t.Errorf("resolved events on the Put span: %v, want [ours]", verdicts)
		}
	})
}

// A body that fails verification is counted, and its Get's outcome is
// corrupt, an error.
func TestCorruptCounted(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		if _, err := tg.Storage.Put(ctx, storage.Name{Key: "k"}, strings.NewReader("hello, world"), nil); err != nil {
			t.Fatal(err)
		}
		inj := s3test.NewInjector(nil)
		r := newRig(t)
		st := r.open(t, tg.WithFaults(t, inj).Config)
		inj.Script("GetObject", s3test.ChangeByte)
		rd, err := st.Get(ctx, storage.Name{Key: "k"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(rd)
		rd.Close()
		if !errors.Is(err, storage.ErrCorrupt) {
			t.Fatalf("read a changed body: %v, want ErrCorrupt", err)
		}
		if got := r.sum(t, "s3map.corrupt_bodies"); got != 1 {
			t.Errorf("s3map.corrupt_bodies = %d, want 1", got)
		}
		if got := r.sum(t, "s3map.operations", opGet, attribute.String("s3map.outcome", "corrupt")); got != 1 {
			t.Errorf("s3map.operations{Get, corrupt} = %d, want 1", got)
		}
		if get := r.span(t, "s3map.Get"); get.Status().Code != codes.Error {
			t.Errorf("a corrupt Get's span status is %v, want Error", get.Status())
		}
	})
}

// Presigning sends nothing: a span for the operation, no request.
func TestPresignIsNoRequest(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		r := newRig(t)
		st := r.open(t, tg.Config)
		if _, err := st.PresignGet(context.Background(), storage.Name{Key: "k"}, time.Minute); err != nil {
			t.Fatal(err)
		}
		r.span(t, "s3map.PresignGet")
		if got := names(r.spans.Ended()); len(got) != 1 {
			t.Errorf("spans %v, want only s3map.PresignGet", got)
		}
		if got := r.sum(t, "s3map.requests"); got != 0 {
			t.Errorf("s3map.requests = %d after a presign, want 0", got)
		}
	})
}

type fixedStats cache.Stats

func (f *fixedStats) Stats() cache.Stats { return cache.Stats(*f) }

// A cache's Stats are read at each collection, as observable instruments
// with the cache's name; after Unregister, no longer.
func TestObserveCache(t *testing.T) {
	r := newRig(t)
	stats := &fixedStats{Hits: 3, Misses: 2, Revalidations: 1, BytesSaved: 100, Entries: 4, Bytes: 40}
	reg, err := r.tel.ObserveCache("values", stats)
	if err != nil {
		t.Fatal(err)
	}
	name := attribute.String("s3map.cache", "values")
	for metric, want := range map[string]int64{
		"s3map.cache.hits": 3, "s3map.cache.misses": 2, "s3map.cache.revalidations": 1,
		"s3map.cache.bytes_saved": 100, "s3map.cache.entries": 4, "s3map.cache.bytes": 40,
	} {
		if got := r.sum(t, metric, name); got != want {
			t.Errorf("%s = %d, want %d", metric, got, want)
		}
	}
	stats.Hits = 5
	if got := r.sum(t, "s3map.cache.hits", name); got != 5 {
		t.Errorf("s3map.cache.hits after 2 more = %d, want 5", got)
	}
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	if got := r.sum(t, "s3map.cache.hits", name); got != 0 {
		t.Errorf("s3map.cache.hits after Unregister = %d, want 0", got)
	}
}

// kv.Update with ObserveUpdate is one span, "s3map.Update", whose children
// are the reads and writes of its attempts; it counts as an operation with
// its outcome, and records the attempts it made.
func TestUpdateSpan(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		r := newRig(t)
		m, err := bucketmap.New(r.open(t, tg.Config), storage.Name{Key: "otel/"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if err := m.Set(ctx, "count", []byte("1")); err != nil {
			t.Fatal(err)
		}
		r.spans.Reset()
		err = kv.UpdateWithOptions(ctx, m, "count", func(old []byte, _ bool) ([]byte, error) {
			return append(old, '1'), nil
		}, &kv.UpdateOptions{Observe: r.tel.ObserveUpdate})
		if err != nil {
			t.Fatal(err)
		}
		update := r.span(t, "s3map.Update")
		childOf(t, r.span(t, "s3map.Get"), update)
		childOf(t, r.span(t, "s3map.Put"), update)
		if got := attr(update, "s3map.key"); got != "count" {
			t.Errorf("Update span's key = %q, want count", got)
		}
		if got := attr(update, "s3map.attempts"); got != "1" {
			t.Errorf("Update span's attempts = %q, want 1", got)
		}
		if n := r.sum(t, "s3map.operations", attribute.String("s3map.operation", "Update"), ok); n != 1 {
			t.Errorf("s3map.operations{Update, ok} = %d, want 1", n)
		}
	})
}
