package consumer

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/s3map/s3map"

// listed is one package as go list -deps reports it.
type listed struct {
	ImportPath string
	Standard   bool
	Module     *struct{ Path string }
	Deps       []string
}

// goListDeps returns the packages the named ones depend on, themselves
// included, by import path: what a program importing them compiles.
func goListDeps(t *testing.T, pkgs ...string) map[string]listed {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	args := append([]string{"list", "-deps", "-json=ImportPath,Standard,Module,Deps"}, pkgs...)
	out, err := exec.Command(gobin, args...).Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	all := map[string]listed{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		all[p.ImportPath] = p
	}
	for _, p := range pkgs {
		if _, ok := all[p]; !ok {
			t.Fatalf("go list did not list %s", p)
		}
	}
	return all
}

// TestKVStandardLibraryOnly: package kv, the contract every store and user
// imports, depends on the standard library and this module only; layers
// with third-party dependencies live in subpackages (kv/cache, kv/zstd).
func TestKVStandardLibraryOnly(t *testing.T) {
	for path, p := range goListDeps(t, module+"/kv") {
		if !p.Standard && (p.Module == nil || p.Module.Path != module) {
			t.Errorf("kv depends on %s, which is neither standard library nor %s", path, module)
		}
	}
}

// TestLibraryPackagesCompileOnlyWhatTheyUse: storage, bucketmap and kv
// compile neither OpenTelemetry (storage/s3otel brings it) nor the cache
// and compression libraries (kv/cache and kv/zstd bring them). The
// subpackages do depend on them, so the check can see them.
func TestLibraryPackagesCompileOnlyWhatTheyUse(t *testing.T) {
	heavy := map[string]string{
		"go.opentelemetry.io/":          module + "/storage/s3otel",
		"github.com/maypok86/otter":     module + "/kv/cache",
		"github.com/klauspost/compress": module + "/kv/zstd",
	}
	core := []string{module + "/storage", module + "/bucketmap", module + "/kv"}
	deps := goListDeps(t, append(core, module+"/storage/s3otel", module+"/kv/cache", module+"/kv/zstd")...)
	uses := func(pkg, prefix string) bool {
		for _, d := range deps[pkg].Deps {
			if strings.HasPrefix(d, prefix) {
				return true
			}
		}
		return false
	}
	for prefix, home := range heavy {
		for _, p := range core {
			if uses(p, prefix) {
				t.Errorf("%s compiles %s; only %s should", p, prefix, home)
			}
		}
		if !uses(home, prefix) {
			t.Errorf("%s does not depend on %s: the check cannot see it", home, prefix)
		}
	}
}
