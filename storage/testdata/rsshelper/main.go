// Command rsshelper does one transfer with package storage and prints the
// process's peak resident memory (VmHWM, Linux). BenchmarkTransferPeakRSS
// builds it and runs it in a fresh process per transfer, so the number is
// that of a program doing only this transfer: the package's test binary,
// with every test and the in-process server linked in, maps more code and
// would count it.
//
// Environment: S3MAP_RSS_HELPER (tiny, file, stream or read),
// S3MAP_RSS_FILE (the local file), S3MAP_RSS_ENDPOINT, S3MAP_RSS_BUCKET,
// S3MAP_RSS_KEYS ("id:secret").
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/s3map/s3map/storage"
)

func main() {
	if err := run(); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func run() error {
	id, secret, _ := strings.Cut(os.Getenv("S3MAP_RSS_KEYS"), ":")
	cfg := storage.Config{Endpoint: os.Getenv("S3MAP_RSS_ENDPOINT"), DefaultBucket: os.Getenv("S3MAP_RSS_BUCKET"), AccessKeyID: id, SecretAccessKey: secret, Region: "us-east-1"}
	ctx := context.Background()
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		return err
	}
	path := os.Getenv("S3MAP_RSS_FILE")
	switch mode := os.Getenv("S3MAP_RSS_HELPER"); mode {
	case "tiny":
		_, err = st.Put(ctx, storage.Name{Key: "rss-tiny"}, strings.NewReader("x"), nil)
	case "file":
		err = st.Write(ctx, path, storage.Name{Key: "rss-file"}, nil)
	case "stream":
		f, ferr := os.Open(path)
		if ferr != nil {
			return ferr
		}
		defer f.Close()
		_, err = st.Put(ctx, storage.Name{Key: "rss-stream"}, struct{ io.Reader }{f}, nil)
	case "read":
		_, err = st.Read(ctx, storage.Name{Key: "rss-read"}, path)
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		return err
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for line := range bytes.Lines(status) {
		for _, field := range []string{"VmHWM", "RssAnon", "RssFile"} {
			if v, ok := bytes.CutPrefix(line, []byte(field+":")); ok {
				fmt.Printf("%s-kB=%s\n", field, strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"))
			}
		}
	}
	return nil
}
