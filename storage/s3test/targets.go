package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3map/s3map/storage"
)

// EnvEndpoints names the environment variable listing real servers to test
// against, as comma-separated "name=url" entries with credentials in the
// URL: "minio=http://minioadmin:minioadmin@127.0.0.1:9000".
const EnvEndpoints = "S3MAP_TEST_ENDPOINTS"

// Endpoint is a real S3 server named in EnvEndpoints.
type Endpoint struct {
	Name   string
	Config storage.Config // no DefaultBucket
}

// ParseEndpoints parses EnvEndpoints' form. Every URL must be http or
// https, with a host and "user:password" credentials; names must be unique.
// Its errors name the entry by its name or position and never quote a
// URL, so they never show a password.
func ParseEndpoints(s string) ([]Endpoint, error) {
	var eps []Endpoint
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, raw, ok := strings.Cut(entry, "=")
		if !ok || name == "" || strings.ContainsAny(name, ":/@") {
			return nil, fmt.Errorf("s3test: %s entry %d is not name=url", EnvEndpoints, i+1)
		}
		u, err := url.Parse(raw)
		if err != nil {
			// url.Parse's errors quote the URL, password included.
			return nil, fmt.Errorf("s3test: %s entry %q: not a URL; want http(s)://user:password@host:port", EnvEndpoints, name)
		}
		pass, hasPass := u.User.Password()
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User.Username() == "" || !hasPass {
			return nil, fmt.Errorf("s3test: %s entry %q: want http(s)://user:password@host:port", EnvEndpoints, name)
		}
		if slices.ContainsFunc(eps, func(e Endpoint) bool { return e.Name == name }) {
			return nil, fmt.Errorf("s3test: %s names %q twice", EnvEndpoints, name)
		}
		tls := u.Scheme == "https"
		eps = append(eps, Endpoint{Name: name, Config: storage.Config{
			AccessKeyID:     u.User.Username(),
			SecretAccessKey: pass,
			Endpoint:        u.Scheme + "://" + u.Host,
			Region:          "us-east-1",
			TLS:             &tls,
		}})
	}
	return eps, nil
}

// Caps says where a server departs from S3. The zero value means "behaves
// like S3": each field names a departure, and a test that depends on the
// behaviour skips, saying why, where the field is set (see
// [Target.SkipIf]). The facts come from the project's CI servers and are
// listed per server in docs/servers.md.
type Caps struct {
	// NoUploadPartCopy: no multipart server-side copy (UploadPartCopy).
	// The in-process server answers 411.
	NoUploadPartCopy bool
	// IgnoresGetIfMatch: GET and HEAD ignore If-Match and answer 200 for
	// another ETag instead of 412.
	IgnoresGetIfMatch bool
	// DropsStandardHeaders: Cache-Control, Content-Language and Expires
	// are not stored (the in-process server).
	DropsStandardHeaders bool
	// NoDotSegmentKeys: keys holding "//", "/./" or "/../" are not stored
	// as they are. MinIO refuses them (400 XMinioInvalidResourceName);
	// versitygw normalises them, so "alice/../bob/x" writes "bob/x".
	NoDotSegmentKeys bool
	// IgnoresMultipartIfNoneMatch: CompleteMultipartUpload ignores
	// If-None-Match "*" and overwrites an existing key.
	IgnoresMultipartIfNoneMatch bool
	// IgnoresMultipartIfMatch: CompleteMultipartUpload ignores If-Match
	// and overwrites another ETag (moto 5.2.1: a stale 40 MB
	// compare-and-swap overwrote another writer's value).
	IgnoresMultipartIfMatch bool
	// RepeatsDelimiterPrefixes: paged listings with a Delimiter repeat
	// common prefixes across pages (storage.Storage.List skips the
	// repeats).
	RepeatsDelimiterPrefixes bool
	// MultipartETagDiffers: the ETag CompleteMultipartUpload answers is
	// not the one HEAD and GET report later.
	MultipartETagDiffers bool
	// IgnoresDeleteIfMatch: DeleteObject ignores If-Match and deletes
	// whatever ETag the object has (MinIO).
	IgnoresDeleteIfMatch bool
	// DeletesMissingWithIfMatch: DeleteObject with If-Match on a missing
	// key answers 204 instead of 404 (versitygw; MinIO, which ignores the
	// header).
	DeletesMissingWithIfMatch bool
	// NonAtomicConditionalWrites: concurrent PUTs with If-Match can both
	// succeed on one ETag. moto 5.2.1 lost 1 of 400 increments under
	// 8 concurrent writers (kvtest's Counter), so it is taken to check the
	// condition and write without a lock between.
	NonAtomicConditionalWrites bool
	// NoKeyBesideSubkeys: a key "a" and a key "a/b" cannot both exist.
	// Servers that keep objects as files cannot: versitygw answers 409
	// ObjectParentIsFile, and MinIO stores the second write but no longer
	// lists one of the two.
	NoKeyBesideSubkeys bool
	// StoresCutBodies: a PutObject whose body the client cut short
	// (connection closed before Content-Length bytes) is sometimes stored,
	// truncated (versitygw 1.8.0: 9 MiB of a declared 10 MiB). Bodies sent
	// with Content-MD5 or a checksum header are refused instead.
	StoresCutBodies bool
}

// capsOf returns the known departures of a server from S3 by its name; a
// name not known is taken to be a full S3.
func capsOf(name string) Caps {
	switch strings.ToLower(name) {
	case InProcess:
		return Caps{
			NoUploadPartCopy:         true,
			DropsStandardHeaders:     true,
			RepeatsDelimiterPrefixes: true,
		}
	case "minio":
		return Caps{
			NoDotSegmentKeys:          true,
			IgnoresDeleteIfMatch:      true,
			DeletesMissingWithIfMatch: true,
			NoKeyBesideSubkeys:        true,
		}
	case "moto":
		return Caps{
			IgnoresMultipartIfMatch:    true,
			NonAtomicConditionalWrites: true,
		}
	case "versitygw":
		return Caps{
			NoDotSegmentKeys:          true,
			DeletesMissingWithIfMatch: true,
			NoKeyBesideSubkeys:        true,
			StoresCutBodies:           true,
		}
	}
	return Caps{}
}

// InProcess is the Target name of the in-process server.
const InProcess = "inprocess"

// Target is one server a test runs against, with a fresh bucket of its own.
type Target struct {
	Name string
	// Config reaches the server, with the test's bucket as DefaultBucket.
	Config storage.Config
	// Storage is connected with Config.
	Storage *storage.Storage
	// Caps says where the server departs from S3.
	Caps Caps
}

// SkipIf skips the test, saying why, if lacks is true: pass the Caps field
// that names the departure, and the feature the test needs.
//
//	tg.SkipIf(t, tg.Caps.NoUploadPartCopy, "UploadPartCopy")
func (tg *Target) SkipIf(t testing.TB, lacks bool, feature string) {
	t.Helper()
	if lacks {
		t.Skipf("%s lacks %s (see docs/servers.md)", tg.Name, feature)
	}
}

// WithFaults returns a copy of the target whose Config and Storage reach
// the same server, bucket and credentials through a [Proxy] of inj, which
// is closed when the test ends. The target itself stays fault-free, for
// checking what the server holds.
//
//	inj := s3test.NewInjector(&s3test.FaultOptions{Rate: 0.05, Seed: 1})
//	ftg := tg.WithFaults(t, inj)
//	// use ftg.Storage or storage.Open(ctx, ftg.Config) ...
func (tg *Target) WithFaults(t testing.TB, inj *Injector) *Target {
	t.Helper()
	endpoint := tg.Config.Endpoint
	if !strings.Contains(endpoint, "://") {
		if tg.Config.TLS == nil || *tg.Config.TLS {
			endpoint = "https://" + endpoint
		} else {
			endpoint = "http://" + endpoint
		}
	}
	p, err := inj.Proxy(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cfg := tg.Config
	cfg.Endpoint = p.URL
	tls := false
	cfg.TLS = &tls
	st, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connecting to %s through the fault proxy: %v", tg.Name, err)
	}
	return &Target{Name: tg.Name, Config: cfg, Storage: st, Caps: tg.Caps}
}

// ForEach runs f as a subtest on the in-process server and on every server
// in EnvEndpoints, each with a new, empty bucket that is emptied and
// deleted when the subtest ends. A malformed EnvEndpoints fails the test.
func ForEach(t *testing.T, f func(t *testing.T, tg *Target)) {
	t.Helper()
	eps, err := ParseEndpoints(os.Getenv(EnvEndpoints))
	if err != nil {
		t.Fatal(err)
	}
	t.Run(InProcess, func(t *testing.T) {
		srv := NewServer()
		t.Cleanup(srv.Close)
		run(t, InProcess, srv.Config(), f)
	})
	for _, ep := range eps {
		t.Run(ep.Name, func(t *testing.T) { run(t, ep.Name, ep.Config, f) })
	}
}

func run(t *testing.T, name string, cfg storage.Config, f func(t *testing.T, tg *Target)) {
	t.Helper()
	ctx := context.Background()
	admin, err := storage.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to %s: %v", name, err)
	}
	bucket := NewBucketName()
	if err := admin.CreateBucket(ctx, bucket); err != nil {
		t.Fatalf("creating bucket on %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := RemoveBucket(context.Background(), admin, bucket); err != nil {
			t.Errorf("removing test bucket %s on %s: %v", bucket, name, err)
		}
	})
	cfg.DefaultBucket = bucket
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f(t, &Target{Name: name, Config: cfg, Storage: st, Caps: capsOf(name)})
}

// NewBucketName returns a bucket name unlikely to be in use.
func NewBucketName() string {
	var b [6]byte
	rand.Read(b[:])
	return "s3map-test-" + hex.EncodeToString(b[:])
}

// RemoveBucket deletes every object in bucket (several rounds, for servers
// slow to show deletions) and then the bucket.
func RemoveBucket(ctx context.Context, st *storage.Storage, bucket string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var lastErr error
	for range 5 {
		keys, errf := st.List(ctx, bucket, "", nil)
		if err := st.DeleteMany(ctx, bucket, func(yield func(string) bool) {
			for info := range keys {
				if !yield(info.Name.Key) {
					return
				}
			}
		}); err != nil {
			lastErr = err
			continue
		}
		if err := errf(); err != nil {
			lastErr = err
			continue
		}
		if lastErr = st.DeleteBucket(ctx, bucket); lastErr == nil {
			return nil
		}
	}
	return lastErr
}
