package kv_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestStandardLibraryOnly: package kv, the contract every store and user
// imports, depends on the standard library and this module only; layers
// with third-party dependencies live in subpackages (kv/cache, kv/zstd).
func TestStandardLibraryOnly(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	out, err := exec.Command(gobin, "list", "-deps", "-json=ImportPath,Standard,Module", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const module = "github.com/s3map/s3map"
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for {
		var pkg struct {
			ImportPath string
			Standard   bool
			Module     *struct{ Path string }
		}
		if err := dec.Decode(&pkg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		n++
		if pkg.Standard {
			continue
		}
		if pkg.Module == nil || pkg.Module.Path != module {
			t.Errorf("kv depends on %s, which is neither standard library nor %s", pkg.ImportPath, module)
		}
	}
	if n == 0 {
		t.Fatal("go list -deps listed nothing")
	}
}
