package storage

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// abortTimeout bounds the clean-up of a failed multipart upload.
const abortTimeout = 30 * time.Second

// Storage is a connection to S3 or an S3-compatible server. It is safe for
// concurrent use.
type Storage struct {
	client  *s3.Client
	presign *s3.PresignClient
	tm      *transfermanager.Client
	opts    Options

	knownBuckets sync.Map // bucket name → true, found by BucketExists
}

// Options tune a Storage. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// DefaultBucket is used by names with an empty Bucket. Without one,
	// such names fail with ErrNoBucket.
	DefaultBucket string
	// PartSize is the part size of multipart uploads and of ranged
	// parallel downloads. Default 8 MiB; at least 5 MiB.
	PartSize int64
	// Concurrency is how many parts of one object move at once. Default 5.
	// Put's memory is bounded by Concurrency × PartSize.
	Concurrency int
	// MultipartThreshold: uploads of more bytes go up in parts. Default
	// 16 MiB.
	MultipartThreshold int64
	// CopyThreshold: copies (and metadata updates) of objects larger than
	// this go through UploadPartCopy. Default 5 GiB, S3's limit for a
	// single CopyObject.
	CopyThreshold int64
	// CopyPartSize is the part size of multipart copies. Default 512 MiB.
	CopyPartSize int64
	// ParallelReadThreshold: Read fetches objects of at least this many
	// bytes in parallel byte ranges (PartSize each, Concurrency at once);
	// smaller ones in one stream. Default 256 MiB: on loopback one stream
	// is fastest at every size, while over a real network's round trip
	// and per-connection caps parallel ranges gain on large objects.
	ParallelReadThreshold int64
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.PartSize == 0 {
		r.PartSize = 8 << 20
	}
	if r.Concurrency == 0 {
		r.Concurrency = 5
	}
	if r.MultipartThreshold == 0 {
		r.MultipartThreshold = 16 << 20
	}
	if r.CopyThreshold == 0 {
		r.CopyThreshold = 5 << 30
	}
	if r.CopyPartSize == 0 {
		r.CopyPartSize = 512 << 20
	}
	if r.ParallelReadThreshold == 0 {
		r.ParallelReadThreshold = 256 << 20
	}
	return r
}

func (o Options) validate() error {
	switch {
	case o.DefaultBucket != "" && CheckBucket(o.DefaultBucket) != nil:
		return fmt.Errorf("storage: Options.DefaultBucket: %w", CheckBucket(o.DefaultBucket))
	case o.PartSize < minPartSize:
		return fmt.Errorf("%w: Options.PartSize %d is under S3's minimum part of 5 MiB", ErrInvalidConfig, o.PartSize)
	case o.CopyPartSize < minPartSize:
		return fmt.Errorf("%w: Options.CopyPartSize %d is under S3's minimum part of 5 MiB", ErrInvalidConfig, o.CopyPartSize)
	case o.Concurrency < 0, o.MultipartThreshold < 0, o.CopyThreshold < 0, o.ParallelReadThreshold < 0:
		return fmt.Errorf("%w: negative Options.Concurrency, MultipartThreshold, CopyThreshold or ParallelReadThreshold", ErrInvalidConfig)
	}
	return nil
}

// New wraps an S3 client the caller already has. For an S3-compatible
// server, the client should use path-style addressing and checksums "when
// required" (Open sets both); the transfers follow the client's checksum
// setting.
func New(client *s3.Client, opts *Options) (*Storage, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil *s3.Client", ErrInvalidConfig)
	}
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	co := client.Options()
	tm := transfermanager.New(client, func(t *transfermanager.Options) {
		t.PartSizeBytes = o.PartSize
		t.Concurrency = o.Concurrency
		t.MultipartUploadThreshold = o.MultipartThreshold
		// Abort a failed upload on a fresh context: the caller's may be
		// the cancelled one, and parts must not be left behind.
		t.FailTimeout = abortTimeout
		// The transfer manager has its own checksum setting, which
		// would override the client's: keep them one.
		t.RequestChecksumCalculation = co.RequestChecksumCalculation
	})
	return &Storage{client: client, presign: s3.NewPresignClient(client), tm: tm, opts: o}, nil
}

// Open connects with cfg: the endpoint, region and credentials it names,
// else the AWS chain's.
func Open(ctx context.Context, cfg Config) (*Storage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	awsCfg, err := cfg.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	client, err := cfg.newClient(awsCfg)
	if err != nil {
		return nil, err
	}
	return New(client, &Options{DefaultBucket: cfg.DefaultBucket, PartSize: int64(cfg.PartSize), Concurrency: cfg.Concurrency})
}

// awsConfig loads the SDK config for cfg. Errors never hold secrets: the
// SDK's loaders do not print them, and ours name fields only.
func (c Config) awsConfig(ctx context.Context) (aws.Config, error) {
	load := []func(*config.LoadOptions) error{
		// A buildable client honours AWS_CA_BUNDLE; a plain http.Client
		// makes loading fail when it is set.
		config.WithHTTPClient(awshttp.NewBuildableClient()),
	}
	if c.Region != "" {
		load = append(load, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(c.Profile))
	}
	if c.AccessKeyID != "" {
		load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	if c.RetryMaxAttempts > 0 {
		load = append(load, config.WithRetryMaxAttempts(c.RetryMaxAttempts))
	}
	if c.RetryMode != "" {
		load = append(load, config.WithRetryMode(aws.RetryMode(c.RetryMode)))
	}
	whenRequired := c.Checksums == "when_required" || (c.Checksums == "" && c.Endpoint != "")
	if whenRequired {
		load = append(load,
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	} else {
		load = append(load,
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenSupported),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenSupported))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("storage: loading AWS config: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	return awsCfg, nil
}

func (c Config) newClient(awsCfg aws.Config) (*s3.Client, error) {
	var endpoint string
	if c.Endpoint != "" {
		var err error
		if endpoint, err = c.endpointURL(); err != nil {
			return nil, err
		}
	}
	pathStyle := c.Endpoint != ""
	if c.PathStyle != nil {
		pathStyle = *c.PathStyle
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
	}), nil
}

// Client returns the underlying S3 client, for what Storage does not do.
func (s *Storage) Client() *s3.Client { return s.client }

// DefaultBucket returns the bucket used for names with an empty Bucket.
func (s *Storage) DefaultBucket() string { return s.opts.DefaultBucket }

// resolve fills in the default bucket and checks the name. With needKey,
// the key must be a valid object key.
func (s *Storage) resolve(op string, n Name, needKey bool) (Name, error) {
	if n.Bucket == "" {
		if s.opts.DefaultBucket == "" {
			return n, &Error{Op: op, Name: n, Err: ErrNoBucket, kinds: []error{ErrNoBucket}}
		}
		n.Bucket = s.opts.DefaultBucket
	}
	if err := CheckBucket(n.Bucket); err != nil {
		return n, &Error{Op: op, Name: n, Err: err, kinds: []error{ErrInvalidName}}
	}
	if needKey {
		if err := CheckKey(n.Key); err != nil {
			return n, &Error{Op: op, Name: n, Err: err, kinds: []error{ErrInvalidName}}
		}
	}
	return n, nil
}
