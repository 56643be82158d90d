// Package exampleenv gives the example programs their Storage: the server
// a -config file names, or else an in-process S3 server, so that they run
// on a fresh machine with no server and no credentials.
package exampleenv

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// ConfigFlag registers the -config flag on the default flag set.
func ConfigFlag() *string {
	return flag.String("config", "", "YAML config of a real S3 server (see storage.LoadConfig); default: an in-process server")
}

// Open returns a Storage for the config file at path, or for a new
// in-process server when path is empty, and a function that releases it.
// It says on standard error which one it uses.
func Open(ctx context.Context, path string) (*storage.Storage, func(), error) {
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
