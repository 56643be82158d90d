package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptrace"
	"os"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// The clients compared. Each workload has one function per client.
const (
	clientS3map = "s3map"
	clientSDK   = "aws-sdk"
	clientMinio = "minio-go"
)

// env is what a workload function runs against: one server, one bucket,
// the clients, and the sizes of this run.
type env struct {
	t      target
	bucket string
	sz     sizes
	dir    string // local scratch directory (files to upload, downloads)

	st  *storage.Storage     // s3map's storage layer
	bm  *bucketmap.BucketMap // s3map's map over the whole bucket
	sdk *s3.Client           // raw aws-sdk-go-v2, configured as s3map configures it
	mc  *minio.Client        // minio-go

	cache cache.Cache // s3map's kv/cache over bm, made by the cache workloads' Setup

	clearFull bool // the clear workload's prefix holds its keys now
}

// newEnv makes the clients named in which (all when which is empty).
func newEnv(ctx context.Context, t target, bucket string, sz sizes, dir string, which ...string) (*env, error) {
	e := &env{t: t, bucket: bucket, sz: sz, dir: dir}
	want := func(c string) bool {
		if len(which) == 0 {
			return true
		}
		for _, w := range which {
			if w == c {
				return true
			}
		}
		return false
	}
	var err error
	if want(clientS3map) {
		e.st, err = storage.OpenWith(ctx, storage.Config{
			AccessKeyID:     t.AccessKey,
			SecretAccessKey: t.SecretKey,
			Endpoint:        t.URL,
			Region:          "us-east-1",
			DefaultBucket:   bucket,
		}, &storage.Options{Logger: storageLogger()})
		if err != nil {
			return nil, err
		}
		if e.bm, err = e.mapAt(""); err != nil {
			return nil, err
		}
	}
	if want(clientSDK) {
		if e.sdk, err = newSDKClient(ctx, t); err != nil {
			return nil, err
		}
	}
	if want(clientMinio) {
		e.mc, err = minio.New(t.Host(), &minio.Options{
			Creds:        miniocreds.NewStaticV4(t.AccessKey, t.SecretKey, ""),
			Secure:       strings.HasPrefix(t.URL, "https://"),
			Region:       "us-east-1",
			BucketLookup: minio.BucketLookupPath,
		})
		if err != nil {
			return nil, err
		}
	}
	return e, nil
}

// mapAt returns s3map's map over the keys under prefix (it sends nothing).
func (e *env) mapAt(prefix string) (*bucketmap.BucketMap, error) {
	return bucketmap.New(e.st, storage.Name{Key: prefix}, nil)
}

// newSDKClient makes a raw aws-sdk-go-v2 client with the settings s3map
// uses for a custom endpoint: path style, checksums only when required,
// the SDK's buildable HTTP client, default retries.
func newSDKClient(ctx context.Context, t target) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithHTTPClient(awshttp.NewBuildableClient()),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(awscreds.NewStaticCredentialsProvider(t.AccessKey, t.SecretKey, "")),
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(t.URL)
		o.UsePathStyle = true
	}), nil
}

// countDials returns a context whose HTTP requests add every new TCP
// connection they open to n. It works through any client that passes the
// context to net/http (all three do), so s3map is measured with its own
// transport rather than one the benchmark substitutes.
func countDials(ctx context.Context, n *atomic.Int64) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				n.Add(1)
			}
		},
	})
}

// createBucket makes the benchmark's bucket with the raw SDK.
func createBucket(ctx context.Context, e *env) error {
	_, err := e.sdk.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(e.bucket)})
	return err
}

// removeBucket deletes every object in the bucket, then the bucket.
func removeBucket(ctx context.Context, e *env) error {
	if e.st == nil {
		return errors.New("removeBucket: no s3map client")
	}
	return s3test.RemoveBucket(ctx, e.st, e.bucket)
}

// ping sends one small request with the given client, so that the first
// connection of a run is not counted as new.
func ping(ctx context.Context, e *env, client string) error {
	var err error
	switch client {
	case clientS3map:
		_, err = e.bm.Has(ctx, "ping")
	case clientSDK:
		_, err = e.sdk.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(e.bucket)})
	case clientMinio:
		_, err = e.mc.BucketExists(ctx, e.bucket)
	default:
		err = errors.New("unknown client " + client)
	}
	return err
}

// logEnv, set to "debug", makes s3map's Storage log what it decides on its
// own (for example whether Read goes parallel) to stderr, at Debug.
const logEnv = "S3MAP_BENCH_LOG"

// storageLogger is the Logger of s3map's Storage in the bench: nil (silent)
// unless logEnv asks for debug.
func storageLogger() *slog.Logger {
	if os.Getenv(logEnv) != "debug" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
