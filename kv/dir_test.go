package kv_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
)

// newTestDir returns a Dir in a fresh temporary directory, closed when the
// test ends.
func newTestDir(t *testing.T, opts *kv.DirOptions) (*kv.Dir, string) {
	t.Helper()
	dirPath := filepath.Join(t.TempDir(), "store")
	d, err := kv.NewDir(dirPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, dirPath
}

func TestDirConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
		d, _ := newTestDir(t, &kv.DirOptions{NoSync: true})
		return d
	}, &kvtest.Options{
		FailingKeys: func(t *testing.T) kv.Store[[]byte] {
			d, _ := newTestDir(t, &kv.DirOptions{NoSync: true})
			d.Close() // a closed Dir cannot walk its directory
			return d
		},
	})
}

// TestDirSynced runs the basic tests with fsync on, as by default.
func TestDirSynced(t *testing.T) {
	d, _ := newTestDir(t, nil)
	ctx := t.Context()
	for i := range 20 {
		key := fmt.Sprintf("k/%d", i)
		if err := d.Set(ctx, key, []byte(key)); err != nil {
			t.Fatal(err)
		}
		got, err := d.Get(ctx, key)
		if err != nil || string(got) != key {
			t.Fatalf("Get(%q) = %q, %v", key, got, err)
		}
	}
}

// walkTree returns every path below root, with the size of each file.
func walkTree(t *testing.T, root string) map[string]int64 {
	t.Helper()
	tree := map[string]int64{}
	err := filepath.WalkDir(root, func(p string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		size := int64(-1)
		if !entry.IsDir() {
			info, err := entry.Info()
			if err != nil {
				return err
			}
			size = info.Size()
		}
		tree[filepath.ToSlash(rel)] = size
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// hostileKeys are keys that would reach outside a directory, or break a
// file name, if used as paths.
func hostileKeys() []string {
	return []string{
		"../x", "../../x", "..", ".", "./x", "a/../../b", "a/./b", "a/..", "/etc/passwd", "/", "//", "///x",
		`..\x`, `C:\Windows\x`, "x\x00y", "\x00", "a\nb", "~/x", "$HOME/x", "%2e%2e/x", "%2F", "a%00",
		".tmp-1", "x/.tmp-1", "a/", "a//b", "a b", "é/€", "ＡＢ", "Aa", "aA", "AA", "aa", "CON", "nul",
		strings.Repeat("x", 255), strings.Repeat("x", 256), strings.Repeat("é", 512),
		strings.Repeat("../", 341), strings.Repeat("/", kv.MaxKeyLen), strings.Repeat(".", kv.MaxKeyLen),
		strings.Repeat("%", kv.MaxKeyLen), strings.Repeat("a/", 512),
	}
}

// TestDirHostileKeys: every hostile key round-trips, Keys lists exactly them,
// and nothing is created or changed outside the directory.
func TestDirHostileKeys(t *testing.T) {
	ctx := t.Context()
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "x"), []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	dirPath := filepath.Join(parent, "inner", "store")
	d, err := kv.NewDir(dirPath, &kv.DirOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	outside := func() map[string]int64 {
		tree := walkTree(t, parent)
		for p := range tree {
			if p == "inner/store" || strings.HasPrefix(p, "inner/store/") {
				delete(tree, p)
			}
		}
		return tree
	}
	before := outside()

	keys := hostileKeys()
	for _, key := range keys {
		if err := kv.CheckKey("", key); err != nil {
			t.Fatalf("hostile key %q is not valid: %v", key, err)
		}
		if err := d.Set(ctx, key, []byte("value of "+key)); err != nil {
			t.Fatalf("Set(%q): %v", key, err)
		}
	}
	for _, key := range keys {
		got, err := d.Get(ctx, key)
		if err != nil || string(got) != "value of "+key {
			t.Errorf("Get(%q) = %q, %v; want its own value", key, got, err)
		}
	}
	want := slices.Sorted(slices.Values(keys))
	seq, errf := d.Keys(ctx)
	got := slices.Collect(seq)
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, outside()); diff != "" {
		t.Errorf("outside the directory (-before +after):\n%s", diff)
	}
	// Every name inside is a safe one.
	for p := range walkTree(t, dirPath) {
		for _, name := range strings.Split(p, "/") {
			if len(name) > 255 || (p != "." && (name == ".." || strings.HasPrefix(name, "."))) {
				t.Errorf("unsafe name %q in %q", name, p)
			}
		}
	}

	// Deleting them all leaves the directory empty.
	for _, key := range keys {
		if err := d.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
	}
	if diff := cmp.Diff(map[string]int64{".": -1}, walkTree(t, dirPath)); diff != "" {
		t.Errorf("after deleting every key (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, outside()); diff != "" {
		t.Errorf("outside the directory after deletes (-before +after):\n%s", diff)
	}
}

// TestDirLayout: the files are where Dir's documentation says.
func TestDirLayout(t *testing.T) {
	ctx := t.Context()
	d, dirPath := newTestDir(t, &kv.DirOptions{NoSync: true})
	for _, key := range []string{"users", "users/42.json", "Readme", "a//b", "notes/Ünïcode ok"} {
		if err := d.Set(ctx, key, []byte(key)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int64{
		".":                             -1,
		"users":                         5,
		"users+":                        -1,
		"users+/42.json":                13,
		"!readme":                       6,
		"a+":                            -1,
		"a+/%+":                         -1,
		"a+/%+/b":                       4,
		"notes+":                        -1,
		"notes+/%c3%9cn%c3%afcode%20ok": 18,
	}
	if diff := cmp.Diff(want, walkTree(t, dirPath)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

// TestDirIgnoresForeignFiles: temporary files, dotfiles and names that no
// key maps to are not listed, and do not disturb the keys.
func TestDirIgnoresForeignFiles(t *testing.T) {
	ctx := t.Context()
	d, dirPath := newTestDir(t, &kv.DirOptions{NoSync: true})
	if err := d.Set(ctx, "dir/key", []byte("v")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".tmp-123", "dir+/.tmp-456", "README", "%61", "dir+/x y", ".git/config", "plain/file", "dir+/sub/file"} {
		p := filepath.Join(dirPath, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("foreign"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	seq, errf := d.Keys(ctx)
	if diff := cmp.Diff([]string{"dir/key"}, slices.Collect(seq)); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	seq, errf = d.KeysWithPrefix(ctx, "dir/")
	if diff := cmp.Diff([]string{"dir/key"}, slices.Collect(seq)); diff != "" {
		t.Errorf("KeysWithPrefix(dir/) (-want +got):\n%s", diff)
	}
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	// "%61" is a file, but not key "a"'s.
	if ok, err := d.Has(ctx, "a"); err != nil || ok {
		t.Errorf("Has(a) = %v, %v; want false, nil", ok, err)
	}
}

func TestDirKeysWithPrefix(t *testing.T) {
	ctx := t.Context()
	d, _ := newTestDir(t, &kv.DirOptions{NoSync: true})
	deep := strings.Repeat("d/", 40) // deeper than the directories go
	keys := []string{"a", "a/b", "a/b/c", "a/bc", "a/c", "ab", "a//x", "b/a", strings.Repeat("p", 300) + "/q", deep + "x", deep + "y/z", deep[:66] + "w"}
	for _, key := range keys {
		if err := d.Set(ctx, key, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, prefix := range []string{
		"", "a", "a/", "a/b", "a/b/", "a//", "b/", "c/", "zzz", strings.Repeat("p", 250), strings.Repeat("p", 300) + "/",
		deep[:62], deep[:63], deep[:64], deep[:65], deep[:66], deep, deep + "y/",
	} {
		var want []string
		for _, key := range slices.Sorted(slices.Values(keys)) {
			if strings.HasPrefix(key, prefix) {
				want = append(want, key)
			}
		}
		seq, errf := d.KeysWithPrefix(ctx, prefix)
		got := slices.Collect(seq)
		if err := errf(); err != nil {
			t.Fatalf("KeysWithPrefix(%q): %v", prefix, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("KeysWithPrefix(%q) (-want +got):\n%s", prefix, diff)
		}
	}
}

func TestDirCreatesMissingDirectory(t *testing.T) {
	dirPath := filepath.Join(t.TempDir(), "a", "b", "c")
	d, err := kv.NewDir(dirPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Set(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dirPath, "k"))
	if err != nil || string(data) != "v" {
		t.Errorf("file k = %q, %v; want \"v\"", data, err)
	}
	info, err := os.Stat(dirPath)
	if err != nil || !info.IsDir() {
		t.Fatalf("Stat(dir) = %v, %v", info, err)
	}

	// A path that is a file cannot be a Dir.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.NewDir(file, nil); err == nil {
		t.Errorf("NewDir(a file) succeeded")
	}
	if _, err := kv.NewDir("", nil); err == nil {
		t.Errorf("NewDir(\"\") succeeded")
	}
}

// TestDirDeletePrunes: deleting the last key of a directory removes the
// directories it leaves empty, and no others.
func TestDirDeletePrunes(t *testing.T) {
	ctx := t.Context()
	d, dirPath := newTestDir(t, &kv.DirOptions{NoSync: true})
	for _, key := range []string{"a/b/c/d", "a/x"} {
		if err := d.Set(ctx, key, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Delete(ctx, "a/b/c/d"); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{".": -1, "a+": -1, "a+/x": 1}
	if diff := cmp.Diff(want, walkTree(t, dirPath)); diff != "" {
		t.Errorf("after Delete (-want +got):\n%s", diff)
	}
}

// TestDirConcurrentSetDelete: writers in a directory that deletes keep
// pruning still succeed, and the last write of each key wins.
func TestDirConcurrentSetDelete(t *testing.T) {
	ctx := t.Context()
	d, _ := newTestDir(t, &kv.DirOptions{NoSync: true})
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 8 {
		wg.Go(func() {
			key := fmt.Sprintf("deep/dir/tree/%d", w)
			for i := range 50 {
				if err := d.Set(ctx, key, []byte{byte(i)}); err != nil {
					errs <- err
				}
				if err := d.Delete(ctx, key); err != nil {
					errs <- err
				}
			}
			errs <- d.Set(ctx, key, []byte("last"))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for w := range 8 {
		key := fmt.Sprintf("deep/dir/tree/%d", w)
		got, err := d.Get(ctx, key)
		if err != nil || !bytes.Equal(got, []byte("last")) {
			t.Errorf("Get(%q) = %q, %v; want \"last\"", key, got, err)
		}
	}
}

// TestDirSetLeavesNoTemporaryFiles: after writes, failed or not, only the
// keys' files are left.
func TestDirSetLeavesNoTemporaryFiles(t *testing.T) {
	ctx := t.Context()
	d, dirPath := newTestDir(t, nil)
	if err := d.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// A directory where the file of key "x" would go makes its Set fail.
	if err := os.Mkdir(filepath.Join(dirPath, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := d.Set(ctx, "x", []byte("v")); err == nil {
		t.Errorf("Set over a directory succeeded")
	}
	want := map[string]int64{".": -1, "k": 1, "x": -1}
	if diff := cmp.Diff(want, walkTree(t, dirPath)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestDirClosed(t *testing.T) {
	d, _ := newTestDir(t, nil)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(t.Context(), "k"); err == nil || errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get after Close: %v; want an error other than ErrNotFound", err)
	}
}
