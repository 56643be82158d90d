package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// The seed's flow: write a local file with metadata, check that it exists,
// read it back, delete it.
func ExampleStorage_Write() {
	srv := s3test.NewServer() // an in-process S3 server; use storage.Open for a real one
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	local := filepath.Join(dir, "state.txt")
	if err := os.WriteFile(local, []byte("hello, S3"), 0o644); err != nil {
		log.Fatal(err)
	}

	name := storage.Name{Key: "docs/state.txt"} // in the default bucket
	headers := storage.Headers{"x-amz-meta-state": "draft", "x-amz-meta-city": "Zürich"}
	if err := st.Write(ctx, local, name, headers); err != nil {
		log.Fatal(err)
	}

	ok, md, err := st.Exists(ctx, name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exists:", ok)
	fmt.Println("metadata == headers:", maps.Equal(md, headers))

	copyPath := filepath.Join(dir, "copy.txt")
	md, err = st.Read(ctx, name, copyPath)
	if err != nil {
		log.Fatal(err)
	}
	data, err := os.ReadFile(copyPath)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("read %q with %v\n", data, md)

	if err := st.Delete(ctx, name); err != nil {
		log.Fatal(err)
	}
	ok, _, err = st.Exists(ctx, name)
	fmt.Println("exists after delete:", ok, err)
	// Output:
	// exists: true
	// metadata == headers: true
	// read "hello, S3" with map[x-amz-meta-city:Zürich x-amz-meta-state:draft]
	// exists after delete: false <nil>
}

// Read downloads to a local file; on failure the file is left as it was.
func ExampleStorage_Read() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	local := filepath.Join(dir, "notes.txt")
	os.WriteFile(local, []byte("old local text"), 0o644)

	_, err = st.Read(ctx, storage.Name{Key: "missing.txt"}, local)
	fmt.Println("missing object:", errors.Is(err, storage.ErrNotFound))
	data, _ := os.ReadFile(local)
	fmt.Printf("local file: %q\n", data)

	st.Put(ctx, storage.Name{Key: "notes.txt"}, strings.NewReader("new text"), &storage.PutOptions{
		Headers: storage.Headers{"x-amz-meta-author": "ana"},
	})
	md, err := st.Read(ctx, storage.Name{Key: "notes.txt"}, local)
	if err != nil {
		log.Fatal(err)
	}
	data, _ = os.ReadFile(local)
	fmt.Printf("local file: %q, metadata %v\n", data, md)
	// Output:
	// missing object: true
	// local file: "old local text"
	// local file: "new text", metadata map[x-amz-meta-author:ana]
}

// Exists tells a missing object (false, nil) from a failure (an error).
func ExampleStorage_Exists() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	ok, md, err := st.Exists(ctx, storage.Name{Key: "nothing-here"})
	fmt.Println(ok, md, err)

	_, _, err = st.Exists(ctx, storage.Name{Bucket: "no-such-bucket", Key: "k"})
	fmt.Println("missing bucket is an error:", errors.Is(err, storage.ErrBucketNotFound))

	_, _, err = st.Exists(ctx, storage.Name{Key: "bad\x00key"})
	fmt.Println("invalid key:", errors.Is(err, storage.ErrInvalidName))
	// Output:
	// false map[] <nil>
	// missing bucket is an error: true
	// invalid key: true
}

// Deleting is idempotent: a missing object is not an error.
func ExampleStorage_Delete() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	name := storage.Name{Key: "tmp/scratch"}
	st.Put(ctx, name, strings.NewReader("x"), nil)
	fmt.Println(st.Delete(ctx, name))
	fmt.Println(st.Delete(ctx, name))
	// Output:
	// <nil>
	// <nil>
}

// Put streams from any io.Reader; Get streams back, whole or a range.
func ExampleStorage_Put() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	name := storage.Name{Key: "greeting.txt"}
	info, err := st.Put(ctx, name, strings.NewReader("hello, world"), &storage.PutOptions{
		Headers: storage.Headers{"Content-Type": "text/plain", "x-amz-meta-lang": "en"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Name, info.Size, info.ETag) // a one-part upload's ETag is the content's MD5

	// A conditional write: only if the key is free.
	_, err = st.Put(ctx, name, strings.NewReader("again"), &storage.PutOptions{IfNoneMatch: "*"})
	fmt.Println("second create:", errors.Is(err, storage.ErrPreconditionFailed))
	// Output:
	// s3://s3test/greeting.txt 12 "e4d7f1b4ed2e42d15898f4b27b019da4"
	// second create: true
}

func ExampleStorage_Get() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	name := storage.Name{Key: "greeting.txt"}
	st.Put(ctx, name, strings.NewReader("hello, world"), &storage.PutOptions{
		Headers: storage.Headers{"Content-Type": "text/plain", "x-amz-meta-lang": "en"},
	})

	r, err := st.Get(ctx, name, nil)
	if err != nil {
		log.Fatal(err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q %s %v\n", data, r.Info.ContentType, r.Info.Metadata)

	// Five bytes from offset 7.
	r, err = st.Get(ctx, name, &storage.GetOptions{Offset: 7, Length: 5})
	if err != nil {
		log.Fatal(err)
	}
	data, _ = io.ReadAll(r)
	r.Close()
	fmt.Printf("%q: %d of %d bytes\n", data, r.Length, r.Info.Size)

	_, err = st.Get(ctx, storage.Name{Key: "absent"}, nil)
	fmt.Println(errors.Is(err, storage.ErrNotFound))
	// Output:
	// "hello, world" text/plain map[x-amz-meta-lang:en]
	// "world": 5 of 12 bytes
	// true
}

// Stat is a HEAD request: size, ETag, content type, metadata.
func ExampleStorage_Stat() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	name := storage.Name{Key: "data.json"}
	st.Put(ctx, name, strings.NewReader(`{"a":1}`), &storage.PutOptions{
		Headers: storage.Headers{"Content-Type": "application/json", "X-Amz-Meta-Schema": "v2"},
	})
	info, err := st.Stat(ctx, name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Size, info.ContentType, info.Metadata)
	// Output:
	// 7 application/json map[x-amz-meta-schema:v2]
}

// Copy keeps the source's metadata unless the headers give new metadata;
// the content type survives either way.
func ExampleStorage_Copy() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	src := storage.Name{Key: "in/report+final.csv"} // '+' is fine: the copy source is encoded
	st.Put(ctx, src, strings.NewReader("a,b\n1,2\n"), &storage.PutOptions{
		Headers: storage.Headers{"Content-Type": "text/csv", "x-amz-meta-owner": "ana"},
	})

	kept := storage.Name{Key: "out/kept.csv"}
	if err := st.Copy(ctx, src, kept, nil); err != nil {
		log.Fatal(err)
	}
	replaced := storage.Name{Key: "out/replaced.csv"}
	if err := st.Copy(ctx, src, replaced, storage.Headers{"x-amz-meta-owner": "bo", "x-amz-meta-copied": "yes"}); err != nil {
		log.Fatal(err)
	}
	for _, n := range []storage.Name{kept, replaced} {
		info, err := st.Stat(ctx, n)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(n.Key, info.Size, info.ContentType, info.Metadata)
	}
	// Output:
	// out/kept.csv 8 text/csv map[x-amz-meta-owner:ana]
	// out/replaced.csv 8 text/csv map[x-amz-meta-copied:yes x-amz-meta-owner:bo]
}

// UpdateMetadata replaces the user metadata in place; content and content
// type stay.
func ExampleStorage_UpdateMetadata() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	name := storage.Name{Key: "job/42"}
	st.Put(ctx, name, strings.NewReader("payload"), &storage.PutOptions{
		Headers: storage.Headers{"Content-Type": "text/plain", "x-amz-meta-state": "queued", "x-amz-meta-worker": "w1"},
	})
	if err := st.UpdateMetadata(ctx, name, storage.Headers{"x-amz-meta-state": "done"}); err != nil {
		log.Fatal(err)
	}
	info, err := st.Stat(ctx, name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Size, info.ContentType, info.Metadata)
	// Output:
	// 7 text/plain map[x-amz-meta-state:done]
}

// List yields objects in key order; the error function reports any failure
// once the loop is over.
func ExampleStorage_List() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	for _, k := range []string{"photos/2024/b.jpg", "photos/2024/a.jpg", "photos/2023/c.jpg", "photos/index.html", "notes.txt"} {
		st.Put(ctx, storage.Name{Key: k}, strings.NewReader(k), nil)
	}

	objects, errf := st.List(ctx, "", "photos/", nil)
	for info := range objects {
		fmt.Println(info.Name.Key, info.Size)
	}
	if err := errf(); err != nil {
		log.Fatal(err)
	}

	// With a delimiter: one level, "directories" marked IsPrefix.
	entries, errf := st.List(ctx, "", "photos/", &storage.ListOptions{Delimiter: "/"})
	for info := range entries {
		fmt.Println(info.Name.Key, info.IsPrefix)
	}
	if err := errf(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// photos/2023/c.jpg 17
	// photos/2024/a.jpg 17
	// photos/2024/b.jpg 17
	// photos/index.html 17
	// photos/2023/ true
	// photos/2024/ true
	// photos/index.html false
}

// DeleteMany deletes in batches of 1000 keys a request; invalid keys are
// reported, one by one, in a *BatchError.
func ExampleStorage_DeleteMany() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	var keys []string
	for i := range 5 {
		k := fmt.Sprintf("logs/%d.txt", i)
		keys = append(keys, k)
		st.Put(ctx, storage.Name{Key: k}, strings.NewReader("log"), nil)
	}
	st.Put(ctx, storage.Name{Key: "keep.txt"}, strings.NewReader("keep"), nil)

	err := st.DeleteMany(ctx, "", slices.Values(append(keys, "bad\xffkey")))
	var batchErr *storage.BatchError
	if errors.As(err, &batchErr) {
		for _, f := range batchErr.Failed {
			fmt.Printf("%q failed: %v\n", f.Key, errors.Is(f, storage.ErrInvalidName))
		}
	}

	left, errf := st.List(ctx, "", "", nil)
	for info := range left {
		fmt.Println("left:", info.Name.Key)
	}
	if err := errf(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// "bad\xffkey" failed: true
	// left: keep.txt
}

func ExampleParseName() {
	for _, s := range []string{"s3://photos/2024/beach.jpg", "s3:///in/default/bucket", "s3://photos", "photos/beach.jpg"} {
		n, err := storage.ParseName(s)
		if err != nil {
			fmt.Println("error:", errors.Is(err, storage.ErrInvalidName))
			continue
		}
		fmt.Printf("bucket %q key %q -> %s\n", n.Bucket, n.Key, n)
	}
	// Output:
	// bucket "photos" key "2024/beach.jpg" -> s3://photos/2024/beach.jpg
	// bucket "" key "in/default/bucket" -> s3:///in/default/bucket
	// bucket "photos" key "" -> s3://photos
	// error: true
}

// LoadConfig reads the seed's s3.yaml; printing the config hides the
// secret.
func ExampleLoadConfig() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "s3.yaml")
	os.WriteFile(path, []byte(`s3:
  access_key_id: "XXXXX"
  secret_access_key: "YYYYYYY"
  default_bucket: "ZZZZZZZ"
  endpoint: "127.0.0.1:9000"
  tls: false
  part_size: 16MiB
`), 0o600)

	cfg, err := storage.LoadConfig(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.AccessKeyID, cfg.DefaultBucket, cfg.Endpoint, *cfg.TLS, cfg.PartSize)
	fmt.Println(strings.Contains(fmt.Sprint(cfg), "YYYYYYY"))

	// A typo names the file, the line and the field.
	os.WriteFile(path, []byte("s3:\n  acess_key_id: x\n"), 0o600)
	_, err = storage.LoadConfig(path)
	fmt.Println(errors.Is(err, storage.ErrInvalidConfig), strings.Contains(err.Error(), path+": "))
	fmt.Println(err.Error()[strings.Index(err.Error(), "line"):])
	// Output:
	// XXXXX ZZZZZZZ 127.0.0.1:9000 false 16777216
	// false
	// true true
	// line 2: unknown field "acess_key_id" (did you mean access_key_id?)
}

func ExampleParseByteSize() {
	for _, s := range []string{"8388608", "16MiB", "10MB", "1.5GiB"} {
		n, err := storage.ParseByteSize(s)
		fmt.Println(n, err != nil)
	}
	// Output:
	// 8388608 false
	// 16777216 false
	// 10000000 false
	// 0 true
}

// Formatting a Config never shows the secret key or the session token.
func ExampleConfig_String() {
	cfg := storage.Config{AccessKeyID: "AKID", SecretAccessKey: "hunter2", Region: "eu-west-1"}
	s := fmt.Sprintf("%v", cfg)
	fmt.Println(strings.Contains(s, "hunter2"), strings.Contains(s, `SecretAccessKey:"REDACTED"`))
	// Output:
	// false true
}

func ExampleStorage_CreateBucket() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	if err := st.CreateBucket(ctx, "photos"); err != nil {
		log.Fatal(err)
	}
	err := st.CreateBucket(ctx, "photos")
	fmt.Println("again:", errors.Is(err, storage.ErrBucketExists))
	err = st.CreateBucket(ctx, "Bad_Name")
	fmt.Println("bad name:", errors.Is(err, storage.ErrInvalidName))

	ok, err := st.BucketExists(ctx, "photos")
	fmt.Println("exists:", ok, err)

	buckets, err := st.Buckets(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, b := range buckets {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	fmt.Println(names)

	st.Put(ctx, storage.Name{Bucket: "photos", Key: "a.jpg"}, strings.NewReader("x"), nil)
	err = st.DeleteBucket(ctx, "photos")
	fmt.Println("not empty:", errors.Is(err, storage.ErrBucketNotEmpty))
	st.Delete(ctx, storage.Name{Bucket: "photos", Key: "a.jpg"})
	fmt.Println(st.DeleteBucket(ctx, "photos"))
	// Output:
	// again: true
	// bad name: true
	// exists: true <nil>
	// [photos s3test]
	// not empty: true
	// <nil>
}

// A presigned URL lets anyone without credentials read the object until
// it expires.
func ExampleStorage_PresignGet() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	name := storage.Name{Key: "shared/report.txt"}
	st.Put(ctx, name, strings.NewReader("for your eyes"), nil)

	req, err := st.PresignGet(ctx, name, 15*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Method, strings.HasPrefix(req.URL, srv.URL+"/"+s3test.DefaultBucket+"/shared/report.txt?"))

	resp, err := http.Get(req.URL) // no credentials
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// GET true
	// 200 for your eyes
}

// A presigned PUT carries signed headers that the uploader must send.
func ExampleStorage_PresignPut() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	name := storage.Name{Key: "uploads/in.txt"}
	req, err := st.PresignPut(ctx, name, time.Hour, storage.Headers{"Content-Type": "text/plain", "x-amz-meta-from": "guest"})
	if err != nil {
		log.Fatal(err)
	}
	upload, err := http.NewRequest(req.Method, req.URL, strings.NewReader("uploaded without keys"))
	if err != nil {
		log.Fatal(err)
	}
	upload.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(upload)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()

	info, err := st.Stat(ctx, name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, info.Size, info.ContentType, info.Metadata)
	// Output:
	// 200 21 text/plain map[x-amz-meta-from:guest]
}

// DeleteIf deletes only the version the caller has seen.
func ExampleStorage_DeleteIf() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()

	name := storage.Name{Key: "lock"}
	old, _ := st.Put(ctx, name, strings.NewReader("v1"), nil)
	st.Put(ctx, name, strings.NewReader("v2"), nil)

	err := st.DeleteIf(ctx, name, old.ETag)
	fmt.Println("stale ETag:", errors.Is(err, storage.ErrPreconditionFailed))
	cur, _ := st.Stat(ctx, name)
	fmt.Println("current ETag:", st.DeleteIf(ctx, name, cur.ETag))
	// Output:
	// stale ETag: true
	// current ETag: <nil>
}

// Open connects with a Config, here the in-process server's.
func ExampleOpen() {
	srv := s3test.NewServer()
	defer srv.Close()
	ctx := context.Background()

	cfg := srv.Config() // or storage.LoadConfig("s3.yaml")
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.DefaultBucket())

	cfg.RetryMode = "sometimes"
	_, err = storage.Open(ctx, cfg)
	fmt.Println(errors.Is(err, storage.ErrInvalidConfig))
	// Output:
	// s3test
	// true
}

// Buckets documents its result as sorted by name. (A test among the
// examples: it needs s3test, which package storage's own tests cannot
// import.)
func TestBucketsSortedByName(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()
	ctx := context.Background()
	for _, b := range []string{"zeta", "alpha", "mid-1", "beta", "omega"} {
		if err := st.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	buckets, err := st.Buckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range buckets {
		got = append(got, b.Name)
	}
	want := []string{"alpha", "beta", "mid-1", "omega", "s3test", "zeta"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Buckets (-want +got):\n%s", diff)
	}
}
