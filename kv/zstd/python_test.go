package zstd_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/zstd"
)

// pythonZstandard returns a Python interpreter that has the zstandard
// module (python-zstandard), or skips the test.
func pythonZstandard(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import zstandard").Run() == nil {
			return path
		}
	}
	t.Skip("no python3 with the zstandard module (Debian: python3-zstandard; .ci/run installs it)")
	return ""
}

// Values written by zstd.New are read by python-zstandard's one-shot
// ZstdDecompressor().decompress(), which reads only the first frame and
// needs its content size: the data frame comes first, the s3map marker
// after it. (Values in the legacy form, marker first, read as b"" there.)
func TestPythonOneShotReadsValues(t *testing.T) {
	py := pythonZstandard(t)
	ctx := context.Background()
	mem := kv.NewMemory[[]byte]()
	z := zstd.New(mem, nil)
	dir := t.TempDir()
	values := map[string][]byte{
		"empty":  {},
		"small":  []byte("hello, s3map"),
		"medium": bytes.Repeat([]byte("0123456789abcdef"), 4096),
		"large":  bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), 200_000),
	}
	for k, v := range values {
		if err := z.Set(ctx, k, v); err != nil {
			t.Fatal(err)
		}
		stored, err := mem.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, k+".zst"), stored, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `
import sys, zstandard
for path in sys.argv[1:]:
    out = zstandard.ZstdDecompressor().decompress(open(path, "rb").read())
    open(path[:-4] + ".out", "wb").write(out)
`
	args := []string{"-c", script}
	for k := range values {
		args = append(args, filepath.Join(dir, k+".zst"))
	}
	if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
		t.Fatalf("python-zstandard one-shot decompress: %v\n%s", err, strings.TrimSpace(string(out)))
	}
	for k, v := range values {
		got, err := os.ReadFile(filepath.Join(dir, k+".out"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, v) {
			t.Errorf("%s: python read %d bytes, want the %d written", k, len(got), len(v))
		}
	}
}
