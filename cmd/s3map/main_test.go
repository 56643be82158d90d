package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// cli runs the command in-process against one target, through a config
// file as a user would.
type cli struct {
	t      *testing.T
	tg     *s3test.Target
	config string
}

// result is what one run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

func newCLI(t *testing.T, tg *s3test.Target) *cli {
	t.Helper()
	c := tg.Config
	path := filepath.Join(t.TempDir(), "s3.yaml")
	yaml := fmt.Sprintf("s3:\n  access_key_id: %q\n  secret_access_key: %q\n  endpoint: %q\n  region: %q\n  default_bucket: %q\n",
		c.AccessKeyID, c.SecretAccessKey, c.Endpoint, c.Region, c.DefaultBucket)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, tg: tg, config: path}
}

// run runs s3map with args, no terminal, empty stdin.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runWith(&app{}, "", args...)
}

// runWith runs s3map on a prepared app (terminal flags), with stdin.
func (c *cli) runWith(a *app, stdin string, args ...string) result {
	c.t.Helper()
	var out, errb strings.Builder
	a.stdin, a.stdout, a.stderr = strings.NewReader(stdin), &out, &errb
	if a.progressMin == 0 {
		a.progressMin = progressMin
	}
	code := a.main(context.Background(), append([]string{"--config", c.config}, args...))
	return result{out.String(), errb.String(), code}
}

// ok runs and fails the test unless the exit code is 0.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("s3map %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// want checks the exit code and that stderr holds a text.
func (r result) want(t *testing.T, code int, stderr string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, stderr) {
		t.Errorf("exit %d, stderr %q; want exit %d, stderr holding %q", r.code, r.stderr, code, stderr)
	}
}

func decode[T any](t *testing.T, line string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", line, err)
	}
	return v
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func put(t *testing.T, tg *s3test.Target, key, value string) {
	t.Helper()
	if _, err := tg.Storage.Put(context.Background(), storage.Name{Key: key}, strings.NewReader(value), nil); err != nil {
		t.Fatal(err)
	}
}

func exists(t *testing.T, tg *s3test.Target, key string) bool {
	t.Helper()
	ok, _, err := tg.Storage.Exists(context.Background(), storage.Name{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
