package bucketmap_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/s3map/s3map/storage/s3test"
)

// writeConfig writes a config file for srv into a temporary directory.
func writeConfig(srv *s3test.Server) string {
	dir, err := os.MkdirTemp("", "bucketmap-example")
	if err != nil {
		panic(err)
	}
	cfg := srv.Config()
	path := filepath.Join(dir, "s3.yaml")
	text := fmt.Sprintf("s3:\n  access_key_id: %q\n  secret_access_key: %q\n  default_bucket: %q\n  endpoint: %q\n  region: us-east-1\n", cfg.AccessKeyID, cfg.SecretAccessKey, cfg.DefaultBucket, cfg.Endpoint)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		panic(err)
	}
	return path
}
