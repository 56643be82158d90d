package kv

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDirKeyPath(t *testing.T) {
	long := strings.Repeat("a", 250)
	tests := []struct{ key, path string }{
		{"users/42.json", "users+/42.json"},
		{"Readme", "!readme"},
		{"a//b", "a+/%+/b"},
		{"/x", "%+/x"},
		{"x/", "x+/%"},
		{"/", "%+/%"},
		{".", "%2e"},
		{"..", "%2e%2e"},
		{"../x", "%2e.+/x"},
		{"a/./b", "a+/%2e+/b"},
		{".hidden", "%2ehidden"},
		{"a.", "a%2e"},
		{"a b%+=!~", "a%20b%25%2b%3d%21%7e"},
		{"é€", "%c3%a9%e2%82%ac"},
		{"x\x00y", "x%00y"},
		{`C:\win`, "!c%3a%5cwin"},
		{long, strings.Repeat("a", 200) + "=/" + strings.Repeat("a", 50)},
		{long + "/b", strings.Repeat("a", 200) + "=/" + strings.Repeat("a", 50) + "+/b"},
		// Only the first 32 '/' start directories.
		{strings.Repeat("a/", 33) + "b", strings.Repeat("a+/", 32) + "a%2fb"},
		{strings.Repeat("/", 34), strings.Repeat("%+/", 32) + "%2f%2f"},
		// An escape is never cut, and a '.' that starts a piece is escaped.
		{strings.Repeat("a", 199) + "é", strings.Repeat("a", 199) + "=/%c3%a9"},
		{strings.Repeat("a", 200) + ".b", strings.Repeat("a", 200) + "=/%2eb"},
	}
	for _, tt := range tests {
		if got := dirKeyPath(tt.key); got != tt.path {
			t.Errorf("dirKeyPath(%q) = %q; want %q", tt.key, got, tt.path)
		}
		if got, ok := dirPathKey(tt.path); !ok || got != tt.key {
			t.Errorf("dirPathKey(%q) = %q, %v; want %q, true", tt.path, got, ok, tt.key)
		}
	}
}

// TestDirPathKeyRefuses: names that no key maps to are not keys.
func TestDirPathKeyRefuses(t *testing.T) {
	for _, name := range []string{
		"", ".tmp-123", "a+/.tmp-1", "README", "%61", "%2E", "a%2", "a%zz", "!", "!A",
		"a+", "a=", "a+/", "x/y", "a+/b+", "%+%", "=/a", "+/a", "a b", "a=/%",
		"%2e.", ".", "..", "a+/../b", "a.", // not how the key would be written
	} {
		if key, ok := dirPathKey(name); ok {
			t.Errorf("dirPathKey(%q) = %q, true; want false", name, key)
		}
	}
}

func FuzzDirKeyPath(f *testing.F) {
	for _, seed := range []string{"a", "a/b", "a//b", "/", "..", "../../etc/passwd", "Aé.%", strings.Repeat("é/", 300)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if CheckKey("", key) != nil {
			return
		}
		p := dirKeyPath(key)
		for _, name := range strings.Split(p, "/") {
			switch {
			case name == "" || name == "." || name == "..":
				t.Fatalf("key %q: name %q in %q", key, name, p)
			case strings.HasPrefix(name, "."):
				t.Fatalf("key %q: name %q starts with '.'", key, name)
			case len(name) > 255:
				t.Fatalf("key %q: name of %d bytes", key, len(name))
			case strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.%!+=") != "":
				t.Fatalf("key %q: name %q has other bytes", key, name)
			}
		}
		got, ok := dirPathKey(p)
		if !ok || got != key {
			t.Fatalf("dirPathKey(dirKeyPath(%q)) = %q, %v", key, got, ok)
		}
	})
}

func FuzzDirPathKey(f *testing.F) {
	for _, seed := range []string{"a", "a+/b", "%+/%", "%2e%2e", "!a=/b", "a+/.tmp-1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		key, ok := dirPathKey(name)
		if !ok {
			return
		}
		if !utf8.ValidString(key) || dirKeyPath(key) != name {
			t.Fatalf("dirPathKey(%q) = %q, which maps back to %q", name, key, dirKeyPath(key))
		}
	})
}
