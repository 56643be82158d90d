package storage

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Run a fuzzer with, for example:
//
//	go test -run='^$' -fuzz=FuzzParseName -fuzztime=20s ./storage
//
// Plain go test runs only the seeds below.

// Every accepted name prints to a text that parses back to it; the rest is
// ErrInvalidName, never a panic.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"s3://bucket/key", "s3://bucket/a//b", "s3:///key", "s3://bucket", "s3://bucket/",
		"s3://", "s3://bucket/with space", "s3://bucket/ünï/日本", "s3://bucket/a+b%2B",
		"bucket/key", "s3://ab/k", "s3://bu cket/k", "s3://bucket/\x00", "s3://bucket/\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("ParseName(%q): %v, not ErrInvalidName", s, err)
			}
			return
		}
		if n.Bucket != "" && checkBucket(n.Bucket) != nil {
			t.Fatalf("ParseName(%q) accepted bucket %q that checkBucket refuses", s, n.Bucket)
		}
		text := n.String()
		again, err := ParseName(text)
		if err != nil || again != n {
			t.Fatalf("ParseName(%q) = %#v; its String %q parses to %#v, %v", s, n, text, again, err)
		}
		// The text is the input, but for a trailing slash after a bucket alone.
		if text != s && text+"/" != s {
			t.Fatalf("ParseName(%q).String() = %q", s, text)
		}
	})
}

// Markers for the secrets FuzzParseConfig puts in front of its input.
const (
	fuzzSecret = "SECRETfuzz7731"
	fuzzToken  = "TOKENfuzz2205"
)

// ParseConfig never panics; what it accepts validates and survives a YAML
// round trip; what it refuses is ErrInvalidConfig. With secrets written
// before the fuzzed text, neither an error nor the formatted config shows
// them.
func FuzzParseConfig(f *testing.F) {
	seeds := []string{
		"s3:\n  access_key_id: \"XXXXX\"\n  secret_access_key: \"YYYYYYY\"\n  default_bucket: \"ZZZZZZZ\"\n  endpoint: \"\"\n",
		"access_key_id: a\nsecret_access_key: b\n",
		"region: eu-west-1\nprofile: p\ntls: false\npath_style: true\n",
		"part_size: 16MiB\nconcurrency: 4\nretry_mode: adaptive\nretry_max_attempts: 5\nchecksums: when_required\n",
		"part_size: 8388608\n",
		"endpoint: http://127.0.0.1:9000\ntls: false\n",
		"endpoint: ftp://x\n",
		"retry_mode: bogus\n",
		"acess_key_id: x\n",
		"s3:\n  region: x\nregion: y\n",
		"s3: [1, 2]\n",
		"part_size: [1]\n",
		"a: [\n",
		"",
		"{}",
		"region: a\n---\nregion: b\n",
		"&a x: *a\n",
	}
	for _, s := range seeds {
		for shape := range uint8(3) {
			f.Add([]byte(s), shape)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, shape uint8) {
		var doc []byte
		checkSecrets := true
		switch shape % 3 {
		case 0:
			doc, checkSecrets = data, false
		case 1:
			doc = append([]byte("secret_access_key: "+fuzzSecret+"\nsession_token: "+fuzzToken+"\n"), data...)
		case 2:
			doc = append([]byte("s3:\n  secret_access_key: "+fuzzSecret+"\n  session_token: "+fuzzToken+"\n"), data...)
		}
		if bytes.Contains(data, []byte("fuzz7731")) || bytes.Contains(data, []byte("fuzz2205")) {
			checkSecrets = false // the fuzzed text names them itself
		}
		leak := func(s string) bool {
			return checkSecrets && (strings.Contains(s, fuzzSecret) || strings.Contains(s, fuzzToken))
		}
		cfg, err := ParseConfig(doc)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("ParseConfig error %v is not ErrInvalidConfig", err)
			}
			if leak(err.Error()) {
				t.Fatalf("ParseConfig error shows a secret: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted a config that Validate refuses: %v", err)
		}
		if s := cfg.String(); leak(s) {
			t.Fatalf("String shows a secret: %s", s)
		}
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("yaml.Marshal of an accepted config: %v", err)
		}
		again, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("ParseConfig of the marshalled config:\n%s\nerror: %v", out, err)
		}
		if diff := diffConfig(cfg, again); diff != "" {
			t.Fatalf("config changed in a YAML round trip (-before +after):\n%s", diff)
		}
	})
}

// parseHeaders never panics; what it accepts fits S3's metadata limit,
// can go into HTTP headers, and decodes back to the values given; what it
// refuses is ErrInvalidHeader or ErrMetadataTooLarge.
func FuzzParseHeaders(f *testing.F) {
	f.Add("x-amz-meta-state", "done", "Content-Type", "text/plain")
	f.Add("X-Amz-Meta-City", "Zürich", "x-amz-meta-emoji", "🎉🚀")
	f.Add("x-amz-meta-a", "日本語", "x-amz-meta-A", "dup")
	f.Add("x-amz-meta-big", strings.Repeat("v", 2040), "x-amz-meta-more", "12345678")
	f.Add("Expires", "Wed, 21 Oct 2015 07:28:00 GMT", "x-amz-storage-class", "STANDARD")
	f.Add("x-amz-acl", "private", "x-amz-server-side-encryption", "AES256")
	f.Add("X-Unknown", "v", "x-amz-meta-", "v")
	f.Add("x-amz-meta-ctl", "a\x00b", "x-amz-meta-tab", "a\tb é")
	f.Add("x-amz-meta-bad", "\xff\xfe", "content-disposition", "é")
	f.Fuzz(func(t *testing.T, name1, value1, name2, value2 string) {
		h := Headers{name1: value1, name2: value2}
		a, err := parseHeaders(h)
		if err != nil {
			if !errors.Is(err, ErrInvalidHeader) && !errors.Is(err, ErrMetadataTooLarge) {
				t.Fatalf("parseHeaders(%q): %v, not ErrInvalidHeader or ErrMetadataTooLarge", h, err)
			}
			return
		}
		if n := metaSize(a.meta); n > MaxMetadataSize {
			t.Fatalf("parseHeaders(%q) accepted %d bytes of metadata", h, n)
		}
		for name, value := range h {
			lower := strings.ToLower(strings.TrimSpace(name))
			if key, ok := strings.CutPrefix(lower, MetaPrefix); ok {
				enc, ok := a.meta[key]
				if !ok {
					t.Fatalf("parseHeaders(%q) dropped %q", h, name)
				}
				if !validFieldValue(enc) {
					t.Fatalf("parseHeaders(%q) encoded %q as %q, which cannot go in a header", h, value, enc)
				}
				if got := decodeValue(enc); got != value {
					t.Fatalf("parseHeaders(%q): %q encoded as %q decodes to %q", h, value, enc, got)
				}
				// Encoded only when it must be: other clients read
				// what the Go user wrote whenever they can.
				if isPrintableASCII(value) && strings.TrimSpace(value) == value && decodeValue(value) == value && enc != value {
					t.Fatalf("parseHeaders(%q): %q encoded as %q, though it goes and reads back as it is", h, value, enc)
				}
				continue
			}
			if got, ok := a.system[lower]; !ok || got != value {
				t.Fatalf("parseHeaders(%q): standard header %q = %q, %v; want %q", h, name, got, ok, value)
			}
		}
		if want := len(a.meta) > 0; a.hasMeta != want {
			t.Fatalf("parseHeaders(%q): hasMeta %v with %d metadata", h, a.hasMeta, len(a.meta))
		}
	})
}
