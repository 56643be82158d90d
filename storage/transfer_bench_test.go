package storage_test

import (
	"context"
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

// BenchmarkTransferPeakRSS uploads a 256 MiB file (Write), the same bytes
// as a stream (Put of a reader that cannot seek), and downloads them
// (Read), each in a fresh process running testdata/rsshelper (a program
// doing only that transfer, built here), and reports that process's peak
// resident memory (VmHWM, Linux) and, at its end, its anonymous memory
// (RssAnon: what the transfer allocated, without the binary's mapped
// code). "tiny" is a one-byte Put: the floor of any program using the
// package.
func BenchmarkTransferPeakRSS(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs Linux /proc for VmHWM")
	}
	helper := filepath.Join(b.TempDir(), "rsshelper")
	if out, err := exec.Command("go", "build", "-o", helper, "./testdata/rsshelper").CombinedOutput(); err != nil {
		b.Skipf("cannot build the helper: %v\n%s", err, out)
	}
	const size = 256 << 20
	dir := b.TempDir()
	path := writeFile(b, dir, "big.bin", randomBytes(b, size))
	for _, tg := range benchTargets(b) {
		cfg := tg.Config
		if err := tg.Storage.Write(context.Background(), path, storage.Name{Key: "rss-read"}, nil); err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"tiny", "file", "stream", "read"} {
			b.Run(tg.Name+"/"+mode, func(b *testing.B) {
				file := path
				if mode == "read" {
					file = filepath.Join(dir, "read.out")
				}
				var peak, anon float64
				for b.Loop() {
					cmd := exec.Command(helper)
					cmd.Env = append(os.Environ(),
						"S3MAP_RSS_HELPER="+mode,
						"S3MAP_RSS_FILE="+file,
						"S3MAP_RSS_ENDPOINT="+cfg.Endpoint,
						"S3MAP_RSS_BUCKET="+cfg.DefaultBucket,
						"S3MAP_RSS_KEYS="+cfg.AccessKeyID+":"+cfg.SecretAccessKey)
					out, err := cmd.CombinedOutput()
					if err != nil {
						b.Fatalf("helper: %v\n%s", err, out)
					}
					peak = max(peak, helperValue(b, out, "VmHWM"))
					anon = max(anon, helperValue(b, out, "RssAnon"))
				}
				b.ReportMetric(peak, "peak-RSS-MiB")
				b.ReportMetric(anon, "end-anon-MiB")
			})
		}
	}
}

// helperValue reads "field-kB=N" from rsshelper's output, in MiB.
func helperValue(b *testing.B, out []byte, field string) float64 {
	_, kb, ok := strings.Cut(string(out), field+"-kB=")
	if !ok {
		b.Fatalf("helper printed no %s:\n%s", field, out)
	}
	kb, _, _ = strings.Cut(kb, "\n")
	v, err := strconv.ParseFloat(strings.TrimSpace(kb), 64)
	if err != nil {
		b.Fatal(err)
	}
	return v / 1024
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
