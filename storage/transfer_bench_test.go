package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// BenchmarkUploadFile writes a 256 MiB file (Write) and a 256 MiB stream
// (Put of a reader that cannot seek) at default settings, beside the bar's
// reference: one raw PutObject of the file with an unsigned payload.
func BenchmarkUploadFile(b *testing.B) {
	const size = 256 << 20
	path := writeFile(b, b.TempDir(), "big.bin", randomBytes(b, size))
	for _, tg := range benchTargets(b) {
		cfg := tg.Config
		st, err := storage.Open(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tg.Name+"/file", func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if err := st.Write(context.Background(), path, storage.Name{Key: "big"}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tg.Name+"/raw-put", func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				_, err = st.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: &cfg.DefaultBucket, Key: aws.String("raw"), Body: f, ContentLength: aws.Int64(size)},
					s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tg.Name+"/stream", func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				_, err = st.Put(context.Background(), storage.Name{Key: "big"}, struct{ io.Reader }{f}, nil)
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUploadPeakRSS uploads a 256 MiB file, and the same bytes as a
// stream, in a fresh process each (this test binary, run as a helper) and
// reports that process's peak resident memory (VmHWM, Linux).
func BenchmarkUploadPeakRSS(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs Linux /proc for VmHWM")
	}
	const size = 256 << 20
	path := writeFile(b, b.TempDir(), "big.bin", randomBytes(b, size))
	for _, tg := range benchTargets(b) {
		cfg := tg.Config
		for _, mode := range []string{"tiny", "file", "stream"} {
			b.Run(tg.Name+"/"+mode, func(b *testing.B) {
				var peak float64
				for b.Loop() {
					cmd := exec.Command(os.Args[0], "-test.run=^TestUploadRSSHelper$", "-test.count=1")
					cmd.Env = append(os.Environ(),
						"S3MAP_RSS_HELPER="+mode,
						"S3MAP_RSS_FILE="+path,
						"S3MAP_RSS_ENDPOINT="+cfg.Endpoint,
						"S3MAP_RSS_BUCKET="+cfg.DefaultBucket,
						"S3MAP_RSS_KEYS="+cfg.AccessKeyID+":"+cfg.SecretAccessKey)
					out, err := cmd.CombinedOutput()
					if err != nil {
						b.Fatalf("helper: %v\n%s", err, out)
					}
					_, kb, ok := strings.Cut(string(out), "VmHWM-kB=")
					if !ok {
						b.Fatalf("helper printed no VmHWM:\n%s", out)
					}
					kb, _, _ = strings.Cut(kb, "\n")
					v, err := strconv.ParseFloat(strings.TrimSpace(kb), 64)
					if err != nil {
						b.Fatal(err)
					}
					peak = max(peak, v/1024)
				}
				b.ReportMetric(peak, "peak-RSS-MiB")
			})
		}
	}
}

// TestUploadRSSHelper is BenchmarkUploadPeakRSS's helper process; it does
// nothing unless run by it.
func TestUploadRSSHelper(t *testing.T) {
	mode := os.Getenv("S3MAP_RSS_HELPER")
	if mode == "" {
		t.Skip("run by BenchmarkUploadPeakRSS")
	}
	id, secret, _ := strings.Cut(os.Getenv("S3MAP_RSS_KEYS"), ":")
	cfg := storage.Config{Endpoint: os.Getenv("S3MAP_RSS_ENDPOINT"), DefaultBucket: os.Getenv("S3MAP_RSS_BUCKET"), AccessKeyID: id, SecretAccessKey: secret, Region: "us-east-1"}
	st, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := os.Getenv("S3MAP_RSS_FILE")
	ctx := context.Background()
	switch mode {
	case "file":
		err = st.Write(ctx, path, storage.Name{Key: "rss-" + filepath.Base(path)}, nil)
	case "tiny":
		_, err = st.Put(ctx, storage.Name{Key: "rss-tiny"}, strings.NewReader("x"), nil)
	case "stream":
		f, ferr := os.Open(path)
		if ferr != nil {
			t.Fatal(ferr)
		}
		defer f.Close()
		_, err = st.Put(ctx, storage.Name{Key: "rss-stream"}, struct{ io.Reader }{f}, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			fmt.Printf("VmHWM-kB=%s\n", strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"))
		}
	}
}

// benchTargets returns the in-process server and every server in
// S3MAP_TEST_ENDPOINTS, each with a fresh bucket removed when b ends, so a
// benchmark compares on real servers too.
func benchTargets(b *testing.B) []*s3test.Target {
	b.Helper()
	ctx := context.Background()
	srv := s3test.NewServer()
	b.Cleanup(srv.Close)
	targets := []*s3test.Target{{Name: s3test.InProcess, Config: srv.Config(), Storage: srv.Storage()}}
	eps, err := s3test.ParseEndpoints(os.Getenv(s3test.EnvEndpoints))
	if err != nil {
		b.Fatal(err)
	}
	for _, ep := range eps {
		cfg := ep.Config
		cfg.DefaultBucket = s3test.NewBucketName()
		st, err := storage.Open(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.CreateBucket(ctx, ""); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s3test.RemoveBucket(context.Background(), st, cfg.DefaultBucket) })
		targets = append(targets, &s3test.Target{Name: ep.Name, Config: cfg, Storage: st})
	}
	return targets
}
