package s3test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
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
// gofakes3 lacks; the package documentation lists the corrections and the
// limits that remain.
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
	s.srv = &http.Server{
		Handler: backend.wrap(faker.Server()),
		// net/http logs handler mistakes (gofakes3 writes a header twice
		// when a client closes a body early) to the global log unless
		// given a logger: the server prints nothing.
		ErrorLog: log.New(io.Discard, "", 0),
	}
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

	completes sync.Mutex // held around each CompleteMultipartUpload request
	// completing is the CompleteMultipartUpload being served, or nil;
	// guarded by writes.
	completing *completing

	copies sync.Mutex // held around each copy request
	// named holds the x-amz-meta-* headers of the REPLACE copy being
	// served, canonical form; nil for a COPY.
	named map[string]bool
}

// tombstone marks metadata dropped by a write. It cannot be sent in a
// header, so no real value equals it.
const tombstone = "\x00s3test-dropped"

// wrap corrects, around gofakes3's handler, what it cannot correct in the
// backend: copy requests are served one at a time, noting the metadata
// they name; DeleteObject, GET and HEAD honour If-Match; and
// CompleteMultipartUpload honours its conditions and answers the ETag
// HEAD and GET report later.
func (b *metaFix) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.Method == http.MethodDelete && r.Header.Get("If-Match") != "" && !q.Has("uploadId"):
			b.conditionalDelete(w, r, next)
			return
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.Header.Get("If-Match") != "":
			iw := &ifMatchWriter{ResponseWriter: w, ifMatch: r.Header.Get("If-Match")}
			next.ServeHTTP(iw, r)
			if !iw.decided { // a HEAD reply without WriteHeader: 200
				iw.WriteHeader(http.StatusOK)
			}
			return
		case r.Method == http.MethodPost && q.Has("uploadId"):
			b.complete(w, r, next)
			return
		}
		isCopy := r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" && !q.Has("uploadId")
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
	bucket, key := bucketKey(r)
	obj, err := b.Backend.HeadObject(bucket, key)
	if err != nil {
		writeError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	if !etagMatches(r.Header.Get("If-Match"), hex.EncodeToString(obj.Hash)) {
		writeError(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	next.ServeHTTP(w, r)
}

// bucketKey splits a path-style request's path.
func bucketKey(r *http.Request) (bucket, key string) {
	bucket, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return bucket, key
}

// etagMatches reports whether an If-Match header value (one ETag or "*")
// matches the ETag etag, quoted or not.
func etagMatches(ifMatch, etag string) bool {
	ifMatch = strings.TrimSpace(ifMatch)
	return ifMatch == "*" || strings.Trim(ifMatch, `"`) == strings.Trim(etag, `"`)
}

// ifMatchWriter turns a GET or HEAD reply for an object whose ETag does
// not match If-Match into 412 PreconditionFailed, as S3 answers (gofakes3
// ignores If-Match on reads). It decides on the ETag of the object gofakes3
// actually serves, so no lock is needed. A missing key stays 404.
type ifMatchWriter struct {
	http.ResponseWriter
	ifMatch string
	decided bool
	refused bool
}

func (w *ifMatchWriter) WriteHeader(code int) {
	if w.decided {
		return
	}
	w.decided = true
	if (code < 300 || code == http.StatusNotModified) && !etagMatches(w.ifMatch, w.Header().Get("ETag")) {
		w.refused = true
		h := w.Header()
		for k := range h {
			delete(h, k)
		}
		writeError(w.ResponseWriter, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *ifMatchWriter) Write(p []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.refused {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// completing is the CompleteMultipartUpload being served (one at a time):
// gofakes3 stores the object through the backend's PutObject without the
// request's conditions, so PutObject takes them from here, and notes the
// stored object's MD5 for the reply.
type completing struct {
	bucket, key string
	conditions  *gofakes3.PutConditions // nil: none
	hash        []byte                  // set by PutObject once stored
}

// complete serves a CompleteMultipartUpload: it honours If-Match (404 for
// a missing key, 412 for another ETag) and If-None-Match "*" (412 if the
// key exists), which gofakes3 ignores, and answers as ETag the MD5 of the
// whole object, the ETag HEAD, GET and listings report for it (gofakes3
// answers S3's MD5-of-parts form, which it then never reports again).
func (b *metaFix) complete(w http.ResponseWriter, r *http.Request, next http.Handler) {
	b.completes.Lock()
	defer b.completes.Unlock()
	c := &completing{}
	c.bucket, c.key = bucketKey(r)
	if v := r.Header.Get("If-Match"); v != "" {
		c.conditions = &gofakes3.PutConditions{IfMatch: &v}
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		if c.conditions == nil {
			c.conditions = &gofakes3.PutConditions{}
		}
		c.conditions.IfNoneMatch = &v
	}
	b.writes.Lock()
	b.completing = c
	b.writes.Unlock()
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	b.writes.Lock()
	b.completing = nil
	b.writes.Unlock()

	body := rec.body.Bytes()
	if rec.status == http.StatusOK && c.hash != nil {
		body = etagElement.ReplaceAll(body, []byte("<ETag>&#34;"+hex.EncodeToString(c.hash)+"&#34;</ETag>"))
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.status)
	w.Write(body)
}

var etagElement = regexp.MustCompile(`<ETag>[^<]*</ETag>`)

// recorder keeps a small reply (CompleteMultipartUpload's XML) to be
// rewritten before it is sent.
type recorder struct {
	header  http.Header
	status  int
	written bool
	body    bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.written {
		r.status, r.written = code, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.written = true
	return r.body.Write(p)
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

// PutObject stores the object with exactly the metadata given. With
// If-Match on a missing key it answers 404 NoSuchKey, as S3 does (s3mem
// answers 412). Called by a CompleteMultipartUpload being served (gofakes3
// passes the assembled object as a *bytes.Reader, a PUT's body never is
// one), it applies that request's conditions and notes the stored MD5.
func (b *metaFix) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	b.writes.Lock()
	defer b.writes.Unlock()
	c := b.completing
	if _, assembled := input.(*bytes.Reader); !assembled || c == nil || c.bucket != bucket || c.key != key {
		c = nil
	} else if conditions == nil {
		conditions = c.conditions
	}
	if conditions != nil && conditions.IfMatch != nil {
		if _, err := b.Backend.HeadObject(bucket, key); gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
			return gofakes3.PutObjectResult{}, gofakes3.KeyNotFound(key)
		}
	}
	b.dropOld(bucket, key, meta)
	res, err := b.Backend.PutObject(bucket, key, meta, input, size, conditions)
	if err == nil && c != nil {
		if obj, herr := b.Backend.HeadObject(bucket, key); herr == nil {
			c.hash = obj.Hash
		}
	}
	return res, err
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
