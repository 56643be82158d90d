package s3test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/s3map/s3map/storage"
)

// DefaultBucket is the bucket NewServer creates and Config names as the
// default.
const DefaultBucket = "s3test"

// Credentials the in-process server accepts (it checks none).
const (
	AccessKeyID     = "s3test"
	SecretAccessKey = "s3test-secret"
)

// Server is an in-process, in-memory S3 server on 127.0.0.1, for tests and
// examples, as httptest.Server is for HTTP. It is built on gofakes3 with
// its s3mem backend, corrected where the library relies on S3 behaviour
// gofakes3 lacks (a CopyObject with REPLACE keeps only the metadata it
// names, and an overwrite drops the old object's metadata) and where
// DeleteObject ignores If-Match. Limits that remain: no UploadPartCopy, GET If-Match ignored,
// Cache-Control, Content-Language and Expires not stored.
type Server struct {
	// URL is the server's base URL, "http://127.0.0.1:port".
	URL string

	srv      *http.Server
	listener net.Listener
	once     sync.Once
	storage  *storage.Storage
	openErr  error
}

// NewServer starts a server with an empty bucket named DefaultBucket. It
// panics if it cannot listen on 127.0.0.1, as httptest.NewServer does.
func NewServer() *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("s3test: listening on 127.0.0.1: %v", err))
	}
	backend := &metaFix{Backend: s3mem.New()}
	if err := backend.CreateBucket(DefaultBucket); err != nil {
		panic(fmt.Sprintf("s3test: creating bucket %s: %v", DefaultBucket, err))
	}
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	s := &Server{URL: "http://" + ln.Addr().String(), listener: ln}
	s.srv = &http.Server{Handler: backend.wrap(faker.Server())}
	go s.srv.Serve(ln)
	return s
}

// Config returns a config that reaches the server: its URL, any
// credentials, region us-east-1, path style, plain HTTP, and
// DefaultBucket as the default bucket.
func (s *Server) Config() storage.Config {
	tls := false
	return storage.Config{
		AccessKeyID:     AccessKeyID,
		SecretAccessKey: SecretAccessKey,
		Endpoint:        s.URL,
		Region:          "us-east-1",
		DefaultBucket:   DefaultBucket,
		TLS:             &tls,
	}
}

// Storage returns a Storage connected to the server with Config. It
// panics if the connection cannot be set up (as when the environment names
// an AWS profile that does not exist).
func (s *Server) Storage() *storage.Storage {
	s.once.Do(func() {
		s.storage, s.openErr = storage.Open(context.Background(), s.Config())
	})
	if s.openErr != nil {
		panic(fmt.Sprintf("s3test: %v", s.openErr))
	}
	return s.storage
}

// Close stops the server and drops its data.
func (s *Server) Close() {
	s.srv.Close()
}

// metaFix corrects two ways gofakes3 keeps user metadata that S3 drops:
// its s3mem backend merges the old object's metadata into every overwrite,
// and a CopyObject with MetadataDirective REPLACE merges in the source's.
// S3 keeps only the metadata the request names.
//
// A write cannot stop s3mem from merging, so it names every old
// x-amz-meta-* key the request does not give, with the value tombstone;
// reads strip those entries again.
type metaFix struct {
	gofakes3.Backend

	writes sync.Mutex // one write at a time, so the old metadata read stays true

	copies sync.Mutex // held around each copy request
	// named holds the x-amz-meta-* headers of the REPLACE copy being
	// served, canonical form; nil for a COPY.
	named map[string]bool
}

// tombstone marks metadata dropped by a write. It cannot be sent in a
// header, so no real value equals it.
const tombstone = "\x00s3test-dropped"

// wrap serves copy requests one at a time, noting the metadata they name.
func (b *metaFix) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && r.Header.Get("If-Match") != "" {
			b.conditionalDelete(w, r, next)
			return
		}
		isCopy := r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" && r.URL.Query().Get("uploadId") == ""
		if !isCopy {
			next.ServeHTTP(w, r)
			return
		}
		b.copies.Lock()
		defer b.copies.Unlock()
		b.named = nil
		if strings.EqualFold(r.Header.Get("X-Amz-Metadata-Directive"), "REPLACE") {
			b.named = map[string]bool{}
			for k := range r.Header {
				if strings.HasPrefix(k, "X-Amz-Meta-") {
					b.named[k] = true
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// conditionalDelete honours If-Match on DeleteObject, which gofakes3
// ignores: 404 for a missing key, 412 for another ETag.
func (b *metaFix) conditionalDelete(w http.ResponseWriter, r *http.Request, next http.Handler) {
	b.writes.Lock()
	defer b.writes.Unlock()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	obj, err := b.Backend.HeadObject(bucket, key)
	if err != nil {
		writeError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	if strings.Trim(r.Header.Get("If-Match"), `"`) != hex.EncodeToString(obj.Hash) {
		writeError(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	next.ServeHTTP(w, r)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, message)
}

// dropOld adds a tombstone to meta for each user metadata key of the
// object now at bucket/key that meta does not hold.
func (b *metaFix) dropOld(bucket, key string, meta map[string]string) {
	old, err := b.Backend.HeadObject(bucket, key)
	if err != nil {
		return
	}
	for k := range old.Metadata {
		if _, ok := meta[k]; !ok && strings.HasPrefix(k, "X-Amz-Meta-") {
			meta[k] = tombstone
		}
	}
}

// strip removes tombstones from an object read.
func strip(o *gofakes3.Object, err error) (*gofakes3.Object, error) {
	if o != nil {
		for k, v := range o.Metadata {
			if v == tombstone {
				delete(o.Metadata, k)
			}
		}
	}
	return o, err
}

// PutObject stores the object with exactly the metadata given.
func (b *metaFix) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	b.writes.Lock()
	defer b.writes.Unlock()
	b.dropOld(bucket, key, meta)
	return b.Backend.PutObject(bucket, key, meta, input, size, conditions)
}

// CopyObject drops the merged-in user metadata of a REPLACE copy. It runs
// inside wrap's lock, on the request's goroutine.
func (b *metaFix) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	if b.named != nil {
		for k := range meta {
			if strings.HasPrefix(k, "X-Amz-Meta-") && !b.named[k] {
				delete(meta, k)
			}
		}
	}
	b.writes.Lock()
	defer b.writes.Unlock()
	b.dropOld(dstBucket, dstKey, meta)
	return b.Backend.CopyObject(srcBucket, srcKey, dstBucket, dstKey, meta)
}

// GetObject strips tombstones.
func (b *metaFix) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return strip(b.Backend.GetObject(bucket, key, rng))
}

// HeadObject strips tombstones.
func (b *metaFix) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	return strip(b.Backend.HeadObject(bucket, key))
}
