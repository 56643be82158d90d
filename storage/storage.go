package storage

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// Storage is a connection to S3 or an S3-compatible server. It is safe for
// concurrent use.
type Storage struct {
	// client sends storage's own requests: a lean copy of public (see
	// leanClient). public is the client Client returns.
	client, public *s3.Client
	presign        *s3.PresignClient
	opts           Options
	// streamPartSize is the part size of a stream that cannot seek:
	// Options.PartSize when the caller set it, else defaultStreamPartSize.
	streamPartSize int64

	knownBuckets sync.Map // bucket name → true, found by BucketExists
	// checksums: whether the server keeps CRC32C checksums, learnt from
	// its replies (checksumsUnknown, ...).
	checksums atomic.Int32
}

// Options tune a Storage. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// DefaultBucket is used by names with an empty Bucket. Without one,
	// such names fail with ErrNoBucket.
	DefaultBucket string
	// PartSize is the part size of multipart uploads and of ranged
	// parallel downloads. Default 8 MiB, and 6 MiB for the upload of a
	// stream that cannot seek (its 2 part buffers then hold 12 MiB; a
	// stream of unknown length may then be up to 58 GiB); from 5 MiB to
	// MaxPartSize. An upload of a known size raises it for that upload
	// when the body would need more than S3's 10,000 parts.
	PartSize int64
	// Concurrency is how many parts of one object move at once. Default
	// 5; at most MaxConcurrency. Uploads from a file or any reader that
	// can seek read their parts in place and hold no part in memory; a
	// stream that cannot seek holds at most 2 parts (see PartSize).
	Concurrency int
	// MultipartThreshold: unconditional uploads of more bytes go up in
	// parts. Default 16 MiB; at most 5 GiB. Conditional uploads go as one
	// PutObject up to 5 GiB whatever this says (see Put).
	MultipartThreshold int64
	// CopyThreshold: copies (and metadata updates) of objects larger than
	// this go through UploadPartCopy. Default 5 GiB, S3's limit for a
	// single CopyObject.
	CopyThreshold int64
	// CopyPartSize is the part size of multipart copies. Default 512 MiB;
	// at most 5 GiB.
	CopyPartSize int64
	// ParallelReadThreshold: Read fetches objects of at least this many
	// bytes in parallel byte ranges (PartSize each, Concurrency at once);
	// smaller ones in one stream. By default (0) Read adapts: an object of
	// at least 4 parts starts in one stream, and goes parallel only if its
	// first part came slower than 128 MiB/s. On loopback or next to the
	// server one stream is fastest, while over a real network's round
	// trip and per-connection caps parallel ranges gain several times.
	ParallelReadThreshold int64
	// Logger receives what the library decides on its own: resolving a
	// conditional write whose reply was lost (and the verdict), retrying,
	// aborting multipart uploads, an abort that failed, and (at Debug)
	// whether Read's first part came slowly enough for parallel ranges.
	// Nil means silent.
	// Nothing is ever written to the global log or to stderr.
	Logger *slog.Logger
	// APIOptions are SDK middleware added to every request of the
	// Storage, for example a tracer's or a request signer's:
	//
	//	func(st *middleware.Stack) error { return st.Initialize.Add(m, middleware.After) }
	//
	// (middleware is github.com/aws/smithy-go/middleware). They apply to
	// the client Open builds and to one given to New (New then works on a
	// copy of that client: see Client).
	APIOptions []func(*middleware.Stack) error
	// Observer, if not nil, is told when each operation begins and ends,
	// and of retries, writes resolved after a lost reply and corrupt
	// bodies: see Observer, and package storage/s3otel for OpenTelemetry
	// traces and metrics.
	Observer Observer
}

// Bounds of the transfer settings, so that no setting can exhaust memory
// or ask S3 for what it refuses.
const (
	// MaxConcurrency is the most parts of one object moving at once.
	MaxConcurrency = 64
	// MaxPartSize is the largest PartSize: 512 MiB × 10,000 parts is S3's
	// largest object (5 TiB), and a stream's upload holds 2 parts.
	MaxPartSize = 512 << 20
)

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
	case o.PartSize > MaxPartSize:
		return fmt.Errorf("%w: Options.PartSize %d is over the largest, %d (512 MiB)", ErrInvalidConfig, o.PartSize, MaxPartSize)
	case o.CopyPartSize > maxPartSizeS3:
		return fmt.Errorf("%w: Options.CopyPartSize %d is over S3's largest part of 5 GiB", ErrInvalidConfig, o.CopyPartSize)
	case o.Concurrency < 0, o.MultipartThreshold < 0, o.CopyThreshold < 0, o.ParallelReadThreshold < 0:
		return fmt.Errorf("%w: negative Options.Concurrency, MultipartThreshold, CopyThreshold or ParallelReadThreshold", ErrInvalidConfig)
	case o.Concurrency > MaxConcurrency:
		return fmt.Errorf("%w: Options.Concurrency %d is over the most, %d", ErrInvalidConfig, o.Concurrency, MaxConcurrency)
	case o.MultipartThreshold > maxSinglePut:
		return fmt.Errorf("%w: Options.MultipartThreshold %d is over S3's largest PutObject of 5 GiB", ErrInvalidConfig, o.MultipartThreshold)
	}
	return nil
}

// New wraps an S3 client the caller already has. For an S3-compatible
// server, the client should use path-style addressing and checksums "when
// required" (Open sets both). Uploads send their own Content-MD5 and
// CRC32C checksums whatever the client's setting. Storage's own requests
// go through a copy of the client that leaves out SDK steps it does not
// need (the SDK's response checksum validation: Storage verifies bodies
// itself); Client returns the client with nothing left out.
func New(client *s3.Client, opts *Options) (*Storage, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil *s3.Client", ErrInvalidConfig)
	}
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Storage{opts: o, streamPartSize: o.PartSize}
	if opts == nil || opts.PartSize == 0 {
		s.streamPartSize = defaultStreamPartSize
	}
	apiOptions := o.APIOptions
	if o.Observer != nil {
		apiOptions = append(apiOptions[:len(apiOptions):len(apiOptions)], s.countRetries)
	}
	s.client = leanClient(client, apiOptions)
	if len(apiOptions) > 0 {
		client = s3.New(client.Options(), func(so *s3.Options) {
			so.APIOptions = append(so.APIOptions[:len(so.APIOptions):len(so.APIOptions)], apiOptions...)
		})
	}
	s.public, s.presign = client, s3.NewPresignClient(client)
	return s, nil
}

// Open connects with cfg: the endpoint, region and credentials it names,
// else the AWS chain's. It is OpenWith without options.
func Open(ctx context.Context, cfg Config) (*Storage, error) {
	return OpenWith(ctx, cfg, nil)
}

// OpenWith connects as Open does, with opts for what a Config does not
// say (an Observer, APIOptions, a Logger, thresholds). cfg's settings
// (DefaultBucket, PartSize, Concurrency) win over opts' where cfg sets
// them. A nil opts is Open.
func OpenWith(ctx context.Context, cfg Config, opts *Options) (*Storage, error) {
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
	var o Options
	if opts != nil {
		o = *opts
	}
	if cfg.DefaultBucket != "" {
		o.DefaultBucket = cfg.DefaultBucket
	}
	if cfg.PartSize != 0 {
		o.PartSize = int64(cfg.PartSize)
	}
	if cfg.Concurrency != 0 {
		o.Concurrency = cfg.Concurrency
	}
	return New(client, &o)
}

// idleConnsPerHost is how many idle connections to one endpoint the client
// keeps for reuse. The SDK's default, 10, makes more concurrent callers
// than that (or one transfer at a Concurrency over 10) open new
// connections all the time; 100 covers MaxConcurrency parts and dozens of
// callers at once.
const idleConnsPerHost = 100

// awsConfig loads the SDK config for cfg. Errors never hold secrets: the
// SDK's loaders do not print them, and ours name fields only.
func (c Config) awsConfig(ctx context.Context) (aws.Config, error) {
	load := []func(*config.LoadOptions) error{
		// A buildable client honours AWS_CA_BUNDLE; a plain http.Client
		// makes loading fail when it is set. Its idle pool is widened
		// (see idleConnsPerHost).
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = idleConnsPerHost
			t.MaxIdleConnsPerHost = idleConnsPerHost
		})),
		// The SDK's default logger writes to stderr (for example
		// "Response has no supported checksum" on a GET with
		// ChecksumMode from a server that keeps none): s3map prints
		// nothing.
		config.WithLogger(logging.Nop{}),
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
// With Options.APIOptions or an Observer, it is a copy of the client given
// to New, with the middleware added. (Storage's own requests go through a
// leaner copy of it: see leanClient.)
func (s *Storage) Client() *s3.Client { return s.public }

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
