package storage

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every canonical "s3://..." form parses to its Name, and the Name prints
// back to the same text and parses back to itself.
func TestParseNameRoundTrip(t *testing.T) {
	tests := []struct {
		in   string
		want Name
	}{
		{"s3://bucket/key", Name{Bucket: "bucket", Key: "key"}},
		{"s3://bucket/dir/sub/file.txt", Name{Bucket: "bucket", Key: "dir/sub/file.txt"}},
		{"s3://bucket/a//b", Name{Bucket: "bucket", Key: "a//b"}},
		{"s3://bucket//leading", Name{Bucket: "bucket", Key: "/leading"}},
		{"s3://bucket/trailing/", Name{Bucket: "bucket", Key: "trailing/"}},
		{"s3://bucket/with space/and more", Name{Bucket: "bucket", Key: "with space/and more"}},
		{"s3://bucket/ünïcödé/日本語/🎉", Name{Bucket: "bucket", Key: "ünïcödé/日本語/🎉"}},
		{"s3://bucket/a+b", Name{Bucket: "bucket", Key: "a+b"}},
		{"s3://bucket/%2B%20", Name{Bucket: "bucket", Key: "%2B%20"}}, // no percent-decoding
		{"s3://bucket/q?x=1#frag&y", Name{Bucket: "bucket", Key: "q?x=1#frag&y"}},
		{"s3://bucket/s3://inner", Name{Bucket: "bucket", Key: "s3://inner"}},
		{"s3:///key", Name{Key: "key"}},         // the default bucket
		{"s3:///dir/key", Name{Key: "dir/key"}}, // the default bucket
		{"s3://bucket", Name{Bucket: "bucket"}}, // a bucket alone
		{"s3://", Name{}},                       // neither
		{"s3://My_Legacy.Bucket-1/k", Name{Bucket: "My_Legacy.Bucket-1", Key: "k"}},
	}
	for _, tt := range tests {
		got, err := ParseName(tt.in)
		if err != nil {
			t.Errorf("ParseName(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseName(%q) (-want +got):\n%s", tt.in, diff)
		}
		if s := tt.want.String(); s != tt.in {
			t.Errorf("%#v.String() = %q; want %q", tt.want, s, tt.in)
		}
		again, err := ParseName(got.String())
		if err != nil || again != got {
			t.Errorf("ParseName(%q) = %#v, %v; want %#v", got.String(), again, err, got)
		}
	}
}

// A trailing slash after the bucket alone is accepted and means an empty
// key; the name prints without it.
func TestParseNameBucketWithSlash(t *testing.T) {
	got, err := ParseName("s3://bucket/")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Name{Bucket: "bucket"}, got); diff != "" {
		t.Errorf("ParseName(\"s3://bucket/\") (-want +got):\n%s", diff)
	}
	if s := got.String(); s != "s3://bucket" {
		t.Errorf("String() = %q; want %q", s, "s3://bucket")
	}
}

func TestParseNameRefused(t *testing.T) {
	tests := []struct {
		in      string
		mention string // the error names what was wrong
	}{
		{"", `"s3://"`},
		{"bucket/key", `"bucket/key"`},
		{"/bucket/key", `"/bucket/key"`},
		{"S3://bucket/key", `"S3://bucket/key"`},
		{"s3:/bucket/key", `"s3:/bucket/key"`},
		{"s3:bucket/key", `"s3:bucket/key"`},
		{"http://bucket/key", `"http://bucket/key"`},
		{" s3://bucket/key", `" s3://bucket/key"`},
		{"s3://ab/key", `"ab"`},
		{"s3://a/key", `"a"`},
		{"s3://" + strings.Repeat("b", 256) + "/key", "3 to 255"},
		{"s3://bu cket/key", `"bu cket"`},
		{"s3://bucket!/key", `"bucket!"`},
		{"s3://bück/key", `"bück"`},
		{"s3://bucket?x/key", `"bucket?x"`},
		{"s3://buc\x00ket/key", "buc"},
	}
	for _, tt := range tests {
		got, err := ParseName(tt.in)
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("ParseName(%q) = %#v, %v; want ErrInvalidName", tt.in, got, err)
			continue
		}
		if got != (Name{}) {
			t.Errorf("ParseName(%q) returned %#v with its error; want the zero Name", tt.in, got)
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseName(%q) error %q does not mention %s", tt.in, err, tt.mention)
		}
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		mention string // "" means the key is valid
	}{
		{"one byte", "a", ""},
		{"slashes", "a/b/c", ""},
		{"double slash", "a//b", ""},
		{"dot segments", "a/./b/../c", ""},
		{"space", "with space", ""},
		{"only a space", " ", ""},
		{"punctuation", "+ % ? # & = ; ~ * ( ) ' \" \\", ""},
		{"unicode", "ünïcödé/日本語/🎉", ""},
		{"1024 bytes", strings.Repeat("k", MaxKeyLen), ""},
		{"1024 bytes of two-byte runes", strings.Repeat("é", MaxKeyLen/2), ""},
		{"empty", "", "empty"},
		{"1025 bytes", strings.Repeat("k", MaxKeyLen+1), "1025 bytes"},
		{"1025 bytes, 513 runes", strings.Repeat("é", MaxKeyLen/2) + "k", "1025 bytes"},
		{"invalid UTF-8", "bad\xff", "UTF-8"},
		{"truncated rune", "\xe6\x97", "UTF-8"},
		{"NUL", "a\x00b", "U+0000"},
		{"newline", "a\nb", "U+000A"},
		{"carriage return", "a\r", "U+000D"},
		{"tab", "a\tb", "U+0009"},
		{"unit separator", "\x1f", "U+001F"},
		{"DEL", "a\x7f", "U+007F"},
		{"U+FFFE", "a\ufffe", "U+FFFE"},
		{"U+FFFF", "\uffffb", "U+FFFF"},
		{"noncharacters XML carries", "\ufdd0\ufdef\U0001fffe\U0010ffff", ""},
		{"replacement character", "\ufffd", ""},
		{"C1 controls", "\u0080\u0085\u009f", ""},
	}
	for _, tt := range tests {
		err := CheckKey(tt.key)
		if tt.mention == "" {
			if err != nil {
				t.Errorf("%s: checkKey: %v; want nil", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("%s: checkKey = %v; want ErrInvalidName", tt.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%s: checkKey error %q does not mention %q", tt.name, err, tt.mention)
		}
	}
}

func TestCheckBucket(t *testing.T) {
	tests := []struct {
		bucket string
		ok     bool
	}{
		{"abc", true},
		{"my-bucket.v2", true},
		{"Legacy_Bucket", true}, // legacy names: upper case, underscores
		{"123", true},
		{strings.Repeat("b", 255), true},
		{"", false},
		{"ab", false},
		{strings.Repeat("b", 256), false},
		{"a b", false},
		{"abc/", false},
		{"a/b", false},
		{"abc?", false},
		{"abc#", false},
		{"a%20", false},
		{"bück", false},
		{"abc\x00", false},
	}
	for _, tt := range tests {
		err := CheckBucket(tt.bucket)
		if tt.ok != (err == nil) {
			t.Errorf("CheckBucket(%q) = %v; want ok %v", tt.bucket, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckBucket(%q) = %v; want ErrInvalidName", tt.bucket, err)
		}
	}
}

func TestCheckNewBucket(t *testing.T) {
	tests := []struct {
		bucket string
		ok     bool
	}{
		{"abc", true},
		{"my-bucket.v2", true},
		{"0bucket9", true},
		{strings.Repeat("b", 63), true},
		{"ab", false},
		{"", false},
		{strings.Repeat("b", 64), false},
		{"Abc", false},
		{"abC", false},
		{"a_b", false},
		{"-abc", false},
		{"abc-", false},
		{".abc", false},
		{"abc.", false},
		{"a b", false},
		{"a/b", false},
		{"bück", false},
	}
	for _, tt := range tests {
		err := checkNewBucket(tt.bucket)
		if tt.ok != (err == nil) {
			t.Errorf("checkNewBucket(%q) = %v; want ok %v", tt.bucket, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("checkNewBucket(%q) = %v; want ErrInvalidName", tt.bucket, err)
		}
		if tt.ok && CheckBucket(tt.bucket) != nil {
			t.Errorf("checkNewBucket accepts %q but CheckBucket refuses it", tt.bucket)
		}
	}
}

func TestCopySource(t *testing.T) {
	tests := []struct {
		key  string
		want string
	}{
		{"plain", "bucket/plain"},
		{"dir/sub/file.txt", "bucket/dir/sub/file.txt"},
		{"a//b", "bucket/a//b"},
		{"unreserved-_.~AZaz09", "bucket/unreserved-_.~AZaz09"},
		{"a+b", "bucket/a%2Bb"},
		{"a b", "bucket/a%20b"},
		{"100%", "bucket/100%25"},
		{"q?x=1&y#z", "bucket/q%3Fx%3D1%26y%23z"},
		{";:@,$!*'()", "bucket/%3B%3A%40%2C%24%21%2A%27%28%29"},
		{"é", "bucket/%C3%A9"},
		{"日本/語", "bucket/%E6%97%A5%E6%9C%AC/%E8%AA%9E"},
		{"🎉", "bucket/%F0%9F%8E%89"},
		{"\\\"<>", "bucket/%5C%22%3C%3E"},
	}
	for _, tt := range tests {
		got := copySource(Name{Bucket: "bucket", Key: tt.key})
		if got != tt.want {
			t.Errorf("copySource(%q) = %q; want %q", tt.key, got, tt.want)
		}
		// Decoding gives the key back, '+' included (a path, not a query).
		dec, err := url.PathUnescape(got)
		if err != nil || dec != "bucket/"+tt.key {
			t.Errorf("PathUnescape(%q) = %q, %v; want %q", got, dec, err, "bucket/"+tt.key)
		}
	}
}
