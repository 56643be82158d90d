package consumer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsumerGoLineUnchanged builds a consumer module that says `go 1.26`
// and requires s3map (replaced by this checkout), runs `go mod tidy`, and
// checks that tidy did not raise the consumer's go line: s3map's go line and
// its requirements' must not force a newer Go on the modules that use it.
// It uses only the module cache (GOPROXY=off), so it sends no request.
func TestConsumerGoLineUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const goLine = "go 1.26"
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/consumer\n\n"+goLine+"\n\n"+
		"require github.com/s3map/s3map v0.0.0\n\n"+
		"replace github.com/s3map/s3map => "+filepath.ToSlash(root)+"\n")
	write("main.go", `package main

import (
	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/storage"
)

var (
	_ kv.Store[[]byte] = (*bucketmap.BucketMap)(nil)
	_                  = storage.ParseName
)

func main() {}
`)
	// s3map's go.sum holds the hashes of everything the consumer needs,
	// so tidy has nothing to look up in the checksum database.
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", string(sums))
	cmd := exec.Command(goBin, "mod", "tidy")
	cmd.Dir = dir
	// The module cache already holds what s3map's own build needed: no
	// network (no proxy, no checksum database), no toolchain switch, no
	// workspace.
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy in a consumer module: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.Lines(string(got)) {
		if strings.HasPrefix(l, "go ") {
			line = strings.TrimSpace(l)
		}
	}
	if line != goLine {
		t.Errorf("go mod tidy changed the consumer's go line from %q to %q: s3map or one of its requirements asks for a newer Go\n%s", goLine, line, got)
	}
}
