// Package exampleenv gives the example programs their Storage: the server
// a -config file names, or else an in-process S3 server, so that they run
// on a fresh machine with no server and no credentials.
//
// An example changes nothing it did not make: each run works under a fresh
// prefix of the default bucket (and in buckets of fresh names that it
// creates), and Close removes all of it, saying on standard error what it
// touched and removed.
package exampleenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// ConfigFlag registers the -config flag on the default flag set.
func ConfigFlag() *string {
	return flag.String("config", "", "YAML config of a real S3 server (see storage.LoadConfig); default: an in-process server")
}

// Env is one run of an example: its Storage, the fresh prefix it works
// under, and what Close removes.
type Env struct {
	// Storage is the Storage of the run.
	Storage *storage.Storage
	// Prefix is the run's own key prefix in the default bucket:
	// "s3map-example/<name>/<random>/". Close removes everything under it.
	Prefix string

	name    string
	notes   io.Writer
	buckets []string // created by the run, removed by Close
	used    []string // given by the user: Close removes Prefix there
	release func()
}

// Start returns the run's Env: the server of the config file at path, or a
// new in-process server when path is empty. It says on standard error which
// server, bucket and prefix the run uses.
func Start(ctx context.Context, path, name string) (*Env, error) {
	st, release, err := open(ctx, path)
	if err != nil {
		return nil, err
	}
	e := New(st, name, os.Stderr)
	e.release = release
	e.note("working under s3://%s/%s (removed at exit)", st.DefaultBucket(), e.Prefix)
	return e, nil
}

// New returns an Env over st, with a fresh prefix for the example name,
// writing its notes to notes (nil: none). Close does not close st.
func New(st *storage.Storage, name string, notes io.Writer) *Env {
	if notes == nil {
		notes = io.Discard
	}
	return &Env{
		Storage: st,
		Prefix:  "s3map-example/" + name + "/" + random() + "/",
		name:    name,
		notes:   notes,
		release: func() {},
	}
}

// random returns 8 random hex digits.
func random() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewBucket creates a bucket of a fresh name, "s3map-example-<name>-<random>",
// that Close removes with everything in it.
func (e *Env) NewBucket(ctx context.Context) (string, error) {
	bucket := "s3map-example-" + e.name + "-" + random()
	if err := e.Storage.CreateBucket(ctx, bucket); err != nil {
		return "", err
	}
	e.buckets = append(e.buckets, bucket)
	e.note("created bucket %s (removed at exit)", bucket)
	return bucket, nil
}

// Bucket returns the bucket named by a user's flag, which must exist and
// in which the run writes only under Prefix (Close removes that), or, for
// "", a new bucket as NewBucket makes.
func (e *Env) Bucket(ctx context.Context, name string) (string, error) {
	if name == "" {
		return e.NewBucket(ctx)
	}
	ok, err := e.Storage.BucketExists(ctx, name)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("bucket %s does not exist (leave the flag empty for a new one, removed at exit)", name)
	}
	e.used = append(e.used, name)
	e.note("working under s3://%s/%s (removed at exit)", name, e.Prefix)
	return name, nil
}

// Close removes every object under Prefix and every bucket NewBucket
// created, says what it removed, and releases the server. It works on a
// context of its own, so that a run that failed or was cancelled is still
// cleaned up.
func (e *Env) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, b := range append([]string{e.Storage.DefaultBucket()}, e.used...) {
		n, err := e.removeAll(ctx, b, e.Prefix)
		if err != nil {
			errs = append(errs, err)
		}
		e.note("removed %d objects under s3://%s/%s", n, b, e.Prefix)
	}
	for _, b := range e.buckets {
		n, err := e.removeAll(ctx, b, "")
		if err == nil {
			err = e.Storage.DeleteBucket(ctx, b)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e.note("removed bucket %s and its %d objects", b, n)
	}
	e.release()
	if err := errors.Join(errs...); err != nil {
		e.note("cleaning up: %v", err)
		return err
	}
	return nil
}

// removeAll deletes every object under prefix in bucket and returns how
// many there were.
func (e *Env) removeAll(ctx context.Context, bucket, prefix string) (int, error) {
	n := 0
	infos, errf := e.Storage.List(ctx, bucket, prefix, nil)
	err := e.Storage.DeleteMany(ctx, bucket, func(yield func(string) bool) {
		for info := range infos {
			n++
			if !yield(info.Name.Key) {
				return
			}
		}
	})
	return n, errors.Join(err, errf())
}

func (e *Env) note(format string, args ...any) {
	fmt.Fprintf(e.notes, format+"\n", args...)
}

// open returns a Storage for the config file at path, or for a new
// in-process server when path is empty, and a function that releases it.
// It says on standard error which one it uses.
func open(ctx context.Context, path string) (*storage.Storage, func(), error) {
	if path == "" {
		srv := s3test.NewServer()
		fmt.Fprintf(os.Stderr, "using an in-process S3 server at %s (give -config s3.yaml for a real one)\n", srv.URL)
		return srv.Storage(), srv.Close, nil
	}
	cfg, err := storage.LoadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if st.DefaultBucket() == "" {
		return nil, nil, fmt.Errorf("%s names no default_bucket", path)
	}
	fmt.Fprintf(os.Stderr, "using %s, bucket %s\n", cfg.Endpoint, st.DefaultBucket())
	return st, func() {}, nil
}

// LeftBehind runs run with the path of a config file for a new in-process
// server, and returns what differs on the server afterwards ("+bucket/key"
// for what the run left, "-bucket/key" for what it removed that it did not
// make): a test of an example wants none.
func LeftBehind(ctx context.Context, run func(config string) error) ([]string, error) {
	srv := s3test.NewServer()
	defer srv.Close()
	dir, err := os.MkdirTemp("", "s3map-example-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path, err := writeConfig(dir, srv.Config())
	if err != nil {
		return nil, err
	}
	// Something of the user's that the run must leave alone.
	if _, err := srv.Storage().Put(ctx, storage.Name{Key: "users-own-object"}, strings.NewReader("mine"), nil); err != nil {
		return nil, err
	}
	before, err := contents(ctx, srv.Storage())
	if err != nil {
		return nil, err
	}
	if err := run(path); err != nil {
		return nil, err
	}
	after, err := contents(ctx, srv.Storage())
	if err != nil {
		return nil, err
	}
	var diff []string
	for _, s := range after {
		if !slices.Contains(before, s) {
			diff = append(diff, "+"+s)
		}
	}
	for _, s := range before {
		if !slices.Contains(after, s) {
			diff = append(diff, "-"+s)
		}
	}
	return diff, nil
}

// writeConfig writes a config file for cfg into dir and returns its path.
func writeConfig(dir string, cfg storage.Config) (string, error) {
	path := filepath.Join(dir, "s3.yaml")
	text := fmt.Sprintf("s3:\n  access_key_id: %q\n  secret_access_key: %q\n  default_bucket: %q\n  endpoint: %q\n  region: %q\n",
		cfg.AccessKeyID, cfg.SecretAccessKey, cfg.DefaultBucket, cfg.Endpoint, cfg.Region)
	return path, os.WriteFile(path, []byte(text), 0o600)
}

// contents returns every bucket and every object st can list, as
// "bucket" and "bucket/key" lines, sorted.
func contents(ctx context.Context, st *storage.Storage) ([]string, error) {
	buckets, err := st.Buckets(ctx)
	if err != nil {
		return nil, err
	}
	var all []string
	for _, b := range buckets {
		all = append(all, b.Name)
		infos, errf := st.List(ctx, b.Name, "", nil)
		for info := range infos {
			all = append(all, b.Name+"/"+info.Name.Key)
		}
		if err := errf(); err != nil {
			return nil, err
		}
	}
	slices.Sort(all)
	return all, nil
}
