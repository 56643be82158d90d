package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
)

// BenchmarkSmall runs the small operations of each client against the
// first server of $S3MAP_BENCH_ENDPOINTS (skipped without it), one at a
// time, for profiles and allocation counts:
//
//	S3MAP_BENCH_ENDPOINTS=versitygw=http://k:s@127.0.0.1:7070 \
//	  go test -run '^$' -bench Small -benchmem -cpuprofile cpu.out
func BenchmarkSmall(b *testing.B) {
	eps := os.Getenv("S3MAP_BENCH_ENDPOINTS")
	if eps == "" {
		b.Skip("S3MAP_BENCH_ENDPOINTS is not set")
	}
	ts, err := parseEndpoints(eps)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	bucket := fmt.Sprintf("s3map-small-%d", os.Getpid())
	e, err := newEnv(ctx, ts[0], bucket, presets["tiny"], b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	if err := createBucket(ctx, e); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := removeBucket(ctx, e); err != nil {
			b.Error(err)
		}
	}()
	val := bytes.Repeat([]byte("v"), 1<<10)
	if err := populate(ctx, e, []string{"small/k"}, val); err != nil {
		b.Fatal(err)
	}
	ops := []struct {
		name string
		ops  [3]opFunc
	}{
		{"Get", [3]opFunc{s3mapGet, sdkGet, minioGet}},
		{"Has", [3]opFunc{s3mapHas, sdkHas, minioHas}},
		{"Set", [3]opFunc{s3mapSet(val), sdkSet(val), minioSet(val)}},
	}
	for _, op := range ops {
		for i, client := range []string{clientS3map, clientSDK, clientMinio} {
			b.Run(op.name+"/"+client, func(b *testing.B) {
				key := "small/k"
				if op.name == "Set" {
					key = "small-set/k"
				}
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					if err := op.ops[i](ctx, e, key); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((cpuTime()-cpu)*1e9/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
