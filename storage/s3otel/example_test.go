package s3otel_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3otel"
	"github.com/s3map/s3map/storage/s3test"
)

// Traces and metrics of a BucketMap's Set, Get and a kv.Update, on the
// in-process server, with the OpenTelemetry SDK's in-memory exporter and
// a manual reader. With ObserveUpdate the Update is a span of its own,
// the parent of its attempt's Get and Put.
func Example() {
	ctx := context.Background()
	srv := s3test.NewServer()
	defer srv.Close()

	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	tel, err := s3otel.New(s3otel.WithTracerProvider(tp), s3otel.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	st, err := storage.OpenWith(ctx, srv.Config(), tel.Options(nil))
	if err != nil {
		panic(err)
	}
	m, err := bucketmap.New(st, storage.Name{Key: "counters/"}, nil)
	if err != nil {
		panic(err)
	}

	if err := m.Set(ctx, "visits", []byte("1")); err != nil {
		panic(err)
	}
	if _, err := m.Get(ctx, "visits"); err != nil {
		panic(err)
	}
	err = kv.UpdateWithOptions(ctx, m, "visits", func(old []byte, _ bool) ([]byte, error) {
		n, _ := strconv.Atoi(string(old))
		return []byte(strconv.Itoa(n + 1)), nil
	}, &kv.UpdateOptions{Observe: tel.ObserveUpdate})
	if err != nil {
		panic(err)
	}

	// Each span with its parent's name.
	byID := map[string]string{}
	for _, s := range spans.GetSpans() {
		byID[s.SpanContext.SpanID().String()] = s.Name
	}
	var lines []string
	for _, s := range spans.GetSpans() {
		parent := byID[s.Parent.SpanID().String()]
		if parent == "" {
			parent = "-"
		}
		lines = append(lines, fmt.Sprintf("%s < %s", s.Name, parent))
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	var points []string
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			sum, ok := mt.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			for _, p := range sum.DataPoints {
				var attrs []string
				for _, kv := range p.Attributes.ToSlice() {
					if kv.Key != "http.response.status_code" {
						attrs = append(attrs, kv.Value.String())
					}
				}
				points = append(points, fmt.Sprintf("%s%v = %d", mt.Name, attrs, p.Value))
			}
		}
	}
	slices.Sort(points)
	for _, p := range points {
		fmt.Println(p)
	}
	// Output:
	// S3.GetObject < s3map.Get
	// S3.GetObject < s3map.Get
	// S3.PutObject < s3map.Put
	// S3.PutObject < s3map.Put
	// s3map.Get < -
	// s3map.Get < s3map.Update
	// s3map.Put < -
	// s3map.Put < s3map.Update
	// s3map.Update < -
	// s3map.bytes.received[Get] = 2
	// s3map.bytes.sent[Put] = 2
	// s3map.operations[Get ok] = 2
	// s3map.operations[Put ok] = 2
	// s3map.operations[Update ok] = 1
	// s3map.requests[GetObject ok] = 2
	// s3map.requests[PutObject ok] = 2
}
