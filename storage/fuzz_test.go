package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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
		if n.Bucket != "" && CheckBucket(n.Bucket) != nil {
			t.Fatalf("ParseName(%q) accepted bucket %q that CheckBucket refuses", s, n.Bucket)
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
		"s3:\n  region: eu-west-1\nregion: us-east-1\n",
		"s3: [1, 2]\n",
		"part_size: [1]\n",
		"a: [\n",
		"",
		"{}",
		"region: us-east-1\n---\nregion: eu-west-1\n",
		"&a x: *a\n",
		"defualt_bucket: b\n",
		"s3:\n",
		"s3: {}\n",
		"s3:\n  region: us-east-1\n---\n",
		"region: US East\n",
		"endpoint: http://u:p@host:9000\n",
		"endpoint: http://host:99999/path?q#f\n",
		"endpoint: host:0\n",
		"region: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
		"concurrency: wJalrXUtnFEMI/K7MDENG\n",
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
			if msg := err.Error(); strings.Contains(msg, "storage.Config") || strings.Contains(msg, "struct {") {
				t.Fatalf("ParseConfig error names an internal type: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted a config that Validate refuses: %v", err)
		}
		// One document only: a second one is refused, not ignored.
		docs := 0
		for dec := yaml.NewDecoder(bytes.NewReader(doc)); ; docs++ {
			var n yaml.Node
			if dec.Decode(&n) != nil {
				break
			}
		}
		if docs > 1 {
			t.Fatalf("ParseConfig accepted %d YAML documents", docs)
		}
		if s := cfg.String(); leak(s) {
			t.Fatalf("String shows a secret: %s", s)
		}
		js, err := json.Marshal(cfg)
		if err != nil || leak(string(js)) {
			t.Fatalf("json.Marshal: %s, %v", js, err)
		}
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("yaml.Marshal of an accepted config: %v", err)
		}
		if leak(string(out)) {
			t.Fatalf("yaml.Marshal shows a secret:\n%s", out)
		}
		again, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("ParseConfig of the marshalled config:\n%s\nerror: %v", out, err)
		}
		// Everything but the secrets, which marshal as REDACTED.
		again.SecretAccessKey, again.SessionToken = cfg.SecretAccessKey, cfg.SessionToken
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
	f.Add("x-amz-tagging", "a=b&c=d", "x-amz-meta-eq", "x=?y")
	f.Add("X-Amz-Tagging", "a=b&a=c", "x-amz-meta-w", "=?utf-8?q?a?=")
	f.Add("x-amz-tagging", "k%21=v", "x-amz-server-side-encryption-aws-kms-key-id", "key")
	f.Add("x-amz-tagging", "aws%3Ak=v", "x-amz-tagging", "=b")
	f.Add("x-amz-tagging", "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11", "Expires", "x")
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
		// Every accepted header goes into every SDK input a write uses.
		var put s3.PutObjectInput
		var create s3.CreateMultipartUploadInput
		var cp s3.CopyObjectInput
		if err := errors.Join(a.putObjectInput(&put), a.createMultipartUploadInput(&create), a.copyObjectInput(&cp)); err != nil {
			t.Fatalf("parseHeaders(%q) accepted headers an SDK input refuses: %v", h, err)
		}
		if v, ok := a.system[hTagging]; ok && v != "" {
			q, err := url.ParseQuery(v)
			if err != nil || len(q) > maxTags || len(q) != len(strings.Split(v, "&")) {
				t.Fatalf("parseHeaders accepted x-amz-tagging %q (%v, %v)", v, q, err)
			}
			for k, vs := range q {
				if k == "" || utf8.RuneCountInString(k) > maxTagKeyLen || utf8.RuneCountInString(vs[0]) > maxTagValueLen {
					t.Fatalf("parseHeaders accepted x-amz-tagging %q with key %q", v, k)
				}
			}
			if aws.ToString(put.Tagging) != v || aws.ToString(cp.Tagging) != v || cp.TaggingDirective != types.TaggingDirectiveReplace {
				t.Fatalf("x-amz-tagging %q did not reach PutObject and CopyObject", v)
			}
		}
	})
}

// Validate never panics on any endpoint or region; an endpoint it accepts
// becomes a URL of scheme, host and port only, a port in range; a region
// it accepts has a region's shape.
func FuzzValidateEndpointRegion(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:9000", "http://127.0.0.1:9000", "https://s3.example.com/", "s3.example.com",
		"http://u:p@h", "http://h/p", "http://h?q", "http://h#f", "h:0", "h:65536", "h:", "http://:80",
		"[::1]:9000", "http://[::1]", "ftp://h", "http://h h", "http://%zz", "", "http://h:8o",
		"ftp://alice:hunter2secret@h", "://000000@",
	} {
		f.Add(s, "us-east-1", uint8(0))
		f.Add(s, "auto", uint8(1))
	}
	f.Add("", "US-EAST-1", uint8(2))
	f.Add("h", "-x", uint8(2))
	f.Fuzz(func(t *testing.T, endpoint, region string, tlsSel uint8) {
		c := Config{Endpoint: endpoint, Region: region}
		switch tlsSel % 3 {
		case 1:
			c.TLS = new(bool)
		case 2:
			c.TLS = &[]bool{true}[0]
		}
		err := c.Validate()
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate(%q, %q): %v, not ErrInvalidConfig", endpoint, region, err)
			}
			_, rest, _ := strings.Cut(endpoint, "://")
			if user, _, ok := strings.Cut(rest, "@"); ok && len(user) >= 6 && strings.Contains(err.Error(), user) {
				t.Fatalf("Validate shows the user info of endpoint %q: %v", endpoint, err)
			}
			return
		}
		if region != "" && !anyRegion.MatchString(region) {
			t.Fatalf("Validate accepted region %q", region)
		}
		if endpoint == "" {
			return
		}
		e, err := c.endpointURL()
		if err != nil {
			t.Fatalf("Validate accepted %q, endpointURL refuses: %v", endpoint, err)
		}
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("Validate accepted %q as %q (%+v, %v)", endpoint, e, u, err)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				t.Fatalf("Validate accepted %q with port %q", endpoint, p)
			}
		}
	})
}
