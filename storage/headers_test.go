package storage

import (
	"errors"
	"mime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// allowAttrs lets cmp look into attrs' unexported fields.
var allowAttrs = cmp.AllowUnexported(attrs{})

func TestParseHeadersAccepted(t *testing.T) {
	tests := []struct {
		name string
		in   Headers
		want attrs
	}{
		{
			name: "nil",
			in:   nil,
			want: attrs{meta: map[string]string{}, system: map[string]string{}},
		},
		{
			name: "metadata, names lower-cased",
			in:   Headers{"X-Amz-Meta-State": "done", "x-amz-meta-owner": "ana", "X-AMZ-META-COUNT": "3"},
			want: attrs{
				meta:    map[string]string{"state": "done", "owner": "ana", "count": "3"},
				hasMeta: true,
				system:  map[string]string{},
			},
		},
		{
			name: "empty metadata value",
			in:   Headers{"x-amz-meta-empty": ""},
			want: attrs{meta: map[string]string{"empty": ""}, hasMeta: true, system: map[string]string{}},
		},
		{
			name: "metadata name with token punctuation",
			in:   Headers{"x-amz-meta-a.b_c-d~e!#$%&'*+^`|": "v"},
			want: attrs{meta: map[string]string{"a.b_c-d~e!#$%&'*+^`|": "v"}, hasMeta: true, system: map[string]string{}},
		},
		{
			name: "every standard header, in any case",
			in: Headers{
				"CONTENT-TYPE":                 "text/plain; charset=utf-8",
				"cache-control":                "max-age=60",
				"Content-Disposition":          `attachment; filename="a b.txt"`,
				"Content-Encoding":             "gzip",
				"Content-Language":             "de-CH",
				"Expires":                      "Wed, 21 Oct 2015 07:28:00 GMT",
				"X-Amz-Storage-Class":          "STANDARD_IA",
				"x-amz-server-side-encryption": "aws:kms",
				"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "arn:aws:kms:us-east-1:1:key/k",
				"X-Amz-Tagging": "a=1&b=two",
				"x-amz-acl":     "bucket-owner-full-control",
			},
			want: attrs{meta: map[string]string{}, system: map[string]string{
				"content-type":                 "text/plain; charset=utf-8",
				"cache-control":                "max-age=60",
				"content-disposition":          `attachment; filename="a b.txt"`,
				"content-encoding":             "gzip",
				"content-language":             "de-CH",
				"expires":                      "Wed, 21 Oct 2015 07:28:00 GMT",
				"x-amz-storage-class":          "STANDARD_IA",
				"x-amz-server-side-encryption": "aws:kms",
				"x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:1:key/k",
				"x-amz-tagging": "a=1&b=two",
				"x-amz-acl":     "bucket-owner-full-control",
			}},
		},
		{
			name: "metadata and standard headers together",
			in:   Headers{"Content-Type": "application/json", "x-amz-meta-state": "new"},
			want: attrs{
				meta:    map[string]string{"state": "new"},
				hasMeta: true,
				system:  map[string]string{"content-type": "application/json"},
			},
		},
		{
			name: "other HTTP date forms for Expires",
			in:   Headers{"Expires": "Sunday, 06-Nov-94 08:49:37 GMT"},
			want: attrs{meta: map[string]string{}, system: map[string]string{"expires": "Sunday, 06-Nov-94 08:49:37 GMT"}},
		},
	}
	for _, tt := range tests {
		got, err := parseHeaders(tt.in)
		if err != nil {
			t.Errorf("%s: parseHeaders: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, allowAttrs, cmpopts.IgnoreFields(attrs{}, "metaSize")); diff != "" {
			t.Errorf("%s: parseHeaders (-want +got):\n%s", tt.name, diff)
		}
		size := 0
		for k, v := range got.meta {
			size += len(k) + len(v)
		}
		if got.metaSize != size {
			t.Errorf("%s: metaSize %d; the metadata holds %d bytes", tt.name, got.metaSize, size)
		}
	}
}

// The write token's metadata name is s3map's: refused in Headers, hidden
// from Metadata, and added only while the metadata stays within
// MaxMetadataSize.
func TestWriteTokenReserved(t *testing.T) {
	if _, err := parseHeaders(Headers{"X-Amz-Meta-S3map-Write": "x"}); !errors.Is(err, ErrInvalidHeader) {
		t.Errorf("parseHeaders with the reserved name: %v; want ErrInvalidHeader", err)
	}
	md := metadataFromSDK(map[string]string{"s3map-write": "tok", "state": "done"})
	if diff := cmp.Diff(Metadata{"x-amz-meta-state": "done"}, md); diff != "" {
		t.Errorf("metadataFromSDK shows the token (-want +got):\n%s", diff)
	}
	a, _ := parseHeaders(Headers{"x-amz-meta-state": "done"})
	ta, ok := a.withWriteToken("tok")
	if !ok || ta.meta[writeTokenKey] != "tok" || ta.meta["state"] != "done" {
		t.Errorf("withWriteToken: %v, %v", ta.meta, ok)
	}
	if _, had := a.meta[writeTokenKey]; had {
		t.Error("withWriteToken changed the attrs it was called on")
	}
	full, err := parseHeaders(Headers{"x-amz-meta-big": strings.Repeat("v", MaxMetadataSize-len("big"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := full.withWriteToken("tok"); ok {
		t.Error("withWriteToken took the metadata over MaxMetadataSize")
	}
}

func TestParseHeadersRefused(t *testing.T) {
	tests := []struct {
		name    string
		in      Headers
		kind    error
		mention string
	}{
		{"unknown header", Headers{"X-Custom": "v"}, ErrInvalidHeader, `"X-Custom"`},
		{"unknown header, written as given", Headers{"Content-MD5": "x"}, ErrInvalidHeader, `"Content-MD5"`},
		{"Content-Length is not for callers", Headers{"Content-Length": "3"}, ErrInvalidHeader, `"Content-Length"`},
		{"near miss of the prefix", Headers{"x-amz-metadata-a": "v"}, ErrInvalidHeader, `"x-amz-metadata-a"`},
		{"unknown beside valid ones", Headers{"x-amz-meta-a": "1", "Content-Type": "t/p", "Range": "bytes=0-1"}, ErrInvalidHeader, `"Range"`},
		{"metadata without a name", Headers{"x-amz-meta-": "v"}, ErrInvalidHeader, `"x-amz-meta-"`},
		{"metadata name with a space", Headers{"x-amz-meta-a b": "v"}, ErrInvalidHeader, `"x-amz-meta-a b"`},
		{"metadata name with a colon", Headers{"x-amz-meta-a:b": "v"}, ErrInvalidHeader, `"x-amz-meta-a:b"`},
		{"metadata name not ASCII", Headers{"x-amz-meta-é": "v"}, ErrInvalidHeader, "x-amz-meta-"},
		{"metadata name with a newline", Headers{"x-amz-meta-a\nb": "v"}, ErrInvalidHeader, "x-amz-meta-"},
		{"metadata twice, case differing", Headers{"X-Amz-Meta-State": "a", "x-amz-meta-state": "b"}, ErrInvalidHeader, "x-amz-meta-state"},
		{"standard header twice, case differing", Headers{"Content-Type": "a/b", "content-type": "c/d"}, ErrInvalidHeader, "content-type"},
		{"NUL in metadata", Headers{"x-amz-meta-a": "x\x00y"}, ErrInvalidHeader, "x-amz-meta-a"},
		{"newline in metadata", Headers{"x-amz-meta-a": "x\ny"}, ErrInvalidHeader, "x-amz-meta-a"},
		{"CR in metadata", Headers{"x-amz-meta-a": "x\r"}, ErrInvalidHeader, "x-amz-meta-a"},
		{"DEL in metadata", Headers{"x-amz-meta-a": "\x7f"}, ErrInvalidHeader, "x-amz-meta-a"},
		{"control character beside non-ASCII", Headers{"x-amz-meta-a": "é\n"}, ErrInvalidHeader, "x-amz-meta-a"},
		{"header injection in a standard header", Headers{"Content-Type": "text/plain\r\nX-Evil: 1"}, ErrInvalidHeader, "content-type"},
		{"non-ASCII standard header", Headers{"Content-Disposition": "attachment; filename=é.txt"}, ErrInvalidHeader, "content-disposition"},
		{"Expires not a date", Headers{"Expires": "tomorrow"}, ErrInvalidHeader, `"tomorrow"`},
		{"Expires in ISO form", Headers{"Expires": "2025-01-01T00:00:00Z"}, ErrInvalidHeader, "2025-01-01"},
		{"storage class lower case", Headers{"x-amz-storage-class": "standard"}, ErrInvalidHeader, `"standard"`},
		{"storage class unknown", Headers{"X-Amz-Storage-Class": "GOLD"}, ErrInvalidHeader, `"GOLD"`},
		{"SSE unknown", Headers{"x-amz-server-side-encryption": "AES128"}, ErrInvalidHeader, `"AES128"`},
		{"ACL unknown", Headers{"x-amz-acl": "everyone"}, ErrInvalidHeader, `"everyone"`},
		{"ACL empty", Headers{"x-amz-acl": ""}, ErrInvalidHeader, "canned ACL"},
		{"metadata of 2049 bytes", Headers{"x-amz-meta-k": strings.Repeat("v", MaxMetadataSize)}, ErrMetadataTooLarge, "2049"},
		{"metadata of 2049 bytes in parts", Headers{
			"x-amz-meta-k1": strings.Repeat("v", 510),
			"x-amz-meta-k2": strings.Repeat("v", 510),
			"x-amz-meta-k3": strings.Repeat("v", 510),
			"x-amz-meta-k4": strings.Repeat("v", 511),
		}, ErrMetadataTooLarge, "2049"},
	}
	for _, tt := range tests {
		got, err := parseHeaders(tt.in)
		if !errors.Is(err, tt.kind) {
			t.Errorf("%s: parseHeaders(%q) = %+v, %v; want %v", tt.name, tt.in, got, err, tt.kind)
			continue
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%s: error %q does not mention %s", tt.name, err, tt.mention)
		}
		if diff := cmp.Diff(attrs{}, got, allowAttrs, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: parseHeaders returned attrs with its error:\n%s", tt.name, diff)
		}
	}
}

// The error names the same header on every call, though maps are unordered.
func TestParseHeadersErrorIsStable(t *testing.T) {
	h := Headers{"X-One": "1", "X-Two": "2", "X-Three": "3", "X-Four": "4", "X-Five": "5"}
	_, first := parseHeaders(h)
	if first == nil {
		t.Fatal("unknown headers accepted")
	}
	for range 50 {
		if _, err := parseHeaders(h); err == nil || err.Error() != first.Error() {
			t.Fatalf("parseHeaders gave %q, then %q", first, err)
		}
	}
}

// The limit counts names without "x-amz-meta-" and values; exactly
// MaxMetadataSize bytes go.
func TestParseHeadersMetadataLimit(t *testing.T) {
	tests := []struct {
		name string
		in   Headers
	}{
		{"one value", Headers{"x-amz-meta-k": strings.Repeat("v", MaxMetadataSize-1)}},
		{"four values", Headers{
			"x-amz-meta-k1": strings.Repeat("v", 510),
			"x-amz-meta-k2": strings.Repeat("v", 510),
			"x-amz-meta-k3": strings.Repeat("v", 510),
			"X-Amz-Meta-K4": strings.Repeat("v", 510),
		}},
		{"one long name", Headers{"x-amz-meta-" + strings.Repeat("n", MaxMetadataSize): ""}},
	}
	for _, tt := range tests {
		a, err := parseHeaders(tt.in)
		if err != nil {
			t.Errorf("%s: %d bytes of metadata refused: %v", tt.name, MaxMetadataSize, err)
			continue
		}
		if n := metaSize(a.meta); n != MaxMetadataSize {
			t.Errorf("%s: the test meant %d bytes, built %d", tt.name, MaxMetadataSize, n)
		}
	}
	// Standard headers do not count.
	h := Headers{"x-amz-meta-k": strings.Repeat("v", MaxMetadataSize-1), "Content-Disposition": strings.Repeat("d", 4000)}
	if _, err := parseHeaders(h); err != nil {
		t.Errorf("a long Content-Disposition counted as metadata: %v", err)
	}
}

// What goes over the wire is the encoded value, so the limit applies to
// it: 800 two-byte runes are 1600 bytes of text but over 2048 in base64.
func TestParseHeadersMetadataLimitCountsEncoded(t *testing.T) {
	v := strings.Repeat("é", 800)
	if len("k")+len(v) > MaxMetadataSize {
		t.Fatal("the test value itself is too long")
	}
	_, err := parseHeaders(Headers{"x-amz-meta-k": v})
	if !errors.Is(err, ErrMetadataTooLarge) {
		t.Errorf("%d bytes of non-ASCII (more encoded): %v; want ErrMetadataTooLarge", len(v), err)
	}
}

func metaSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// Non-ASCII values go as RFC 2047 encoded words (printable ASCII), and
// decodeValue gives back exactly what was given.
func TestEncodeValueRoundTrip(t *testing.T) {
	values := []string{
		"",
		"plain",
		"with  inner  spaces",
		"punctuation !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
		"é",
		"naïve café, déjà vu",
		"Grüße aus Zürich",
		"Ελληνικά",
		"Русский текст",
		"日本語のテキスト",
		"中文字符",
		"한국어",
		"🎉🚀👍🏽",
		"mixed ASCII and ünïcödé 日本 🎉",
		"tab\tand é",
		"trailing non-ASCII space\u00a0",
		"literal =?utf-8?q?x?= beside é",
		strings.Repeat("ü", 300),                 // several encoded words
		strings.Repeat("a", 100) + "é",           // long ASCII run, then one rune
		"\u200b zero width and \ufeff BOM",       // format characters
		"e\u0301 combining accent",               // not normalised
		"right-to-left \u05e9\u05dc\u05d5\u05dd", // Hebrew
	}
	dec := new(mime.WordDecoder)
	for _, v := range values {
		enc, err := encodeValue("x-amz-meta-v", v)
		if err != nil {
			t.Errorf("encodeValue(%q): %v", v, err)
			continue
		}
		if got := decodeValue(enc); got != v {
			t.Errorf("decodeValue(encodeValue(%q)) = %q (encoded %q)", v, got, enc)
		}
		if !validFieldValue(enc) {
			t.Errorf("encodeValue(%q) = %q, which cannot go in an HTTP header", v, enc)
		}
		if isPrintableASCII(v) {
			if enc != v {
				t.Errorf("encodeValue(%q) = %q; want printable ASCII as it is", v, enc)
			}
			continue
		}
		// Non-ASCII: RFC 2047 that any decoder reads, not only ours.
		if !strings.HasPrefix(enc, "=?") {
			t.Errorf("encodeValue(%q) = %q; want an RFC 2047 encoded word", v, enc)
		}
		if got, err := dec.DecodeHeader(enc); err != nil || got != v {
			t.Errorf("mime.WordDecoder.DecodeHeader(%q) = %q, %v; want %q", enc, got, err, v)
		}
	}
}

// S3 returns non-ASCII metadata as encoded words, Q or B, in any charset
// name case; decodeValue reads them, and leaves text that is not encoded.
func TestDecodeValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"=?UTF-8?B?w6k=?=", "é"},
		{"=?utf-8?b?w6k=?=", "é"},
		{"=?UTF-8?Q?caf=C3=A9?=", "café"},
		{"=?UTF-8?B?5pel5pys?= =?UTF-8?B?6Kqe?=", "日本語"}, // adjacent words join
		{"=?ISO-8859-1?Q?caf=E9?=", "café"},
		{"=?", "=?"},                           // not an encoded word
		{"a =? b ?= c", "a =? b ?= c"},         // not an encoded word
		{"=?UTF-8?X?bad?=", "=?UTF-8?X?bad?="}, // unknown encoding: left alone
		{"=?UTF-8?B?***?=", "=?UTF-8?B?***?="}, // bad base64: left alone
		{"=?klingon?Q?x?=", "=?klingon?Q?x?="}, // unknown charset: left alone
	}
	for _, tt := range tests {
		if got := decodeValue(tt.in); got != tt.want {
			t.Errorf("decodeValue(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// Values that are printable ASCII but would not come back as they were:
// text that looks like an encoded word is decoded on the way back, and
// HTTP drops leading and trailing spaces and tabs of a header value (the
// in-process server and the SDK both trim them).
func TestEncodeValueAmbiguousASCII(t *testing.T) {
	for _, v := range []string{"=?UTF-8?B?w6k=?=", "=?utf-8?q?caf=C3=A9?=", " lead", "trail ", "\tx"} {
		enc, err := encodeValue("x-amz-meta-v", v)
		if err != nil {
			t.Errorf("encodeValue(%q): %v", v, err)
			continue
		}
		if got := decodeValue(enc); got != v || enc != strings.TrimSpace(enc) {
			t.Errorf("encodeValue(%q) = %q, decoded %q; want a form that HTTP keeps and that decodes to the value", v, enc, got)
		}
	}
}

// A value is encoded only when it could not otherwise be sent or read
// back: ASCII holding "=?" that is no encoded word goes as it is, so boto3
// and the aws CLI read what the Go user wrote.
func TestEncodeValueOnlyWhenNeeded(t *testing.T) {
	for _, v := range []string{"x=?y", "=?", "a =? b ?= c", "=?UTF-8?X?bad?=", "=?klingon?Q?x?=", "?=x=?"} {
		enc, err := encodeValue("x-amz-meta-v", v)
		if err != nil || enc != v {
			t.Errorf("encodeValue(%q) = %q, %v; want it as it is", v, enc, err)
		}
	}
}

// validFieldValue reports whether s can be an HTTP header value as it is:
// no control characters but tab.
func validFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func TestIsToken(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"state", true},
		{"a-b_c.d~e", true},
		{"!#$%&'*+-.^_`|~", true},
		{"0", true},
		{"", false},
		{"a b", false},
		{"a\tb", false},
		{"a:b", false},
		{"a/b", false},
		{"(a)", false},
		{`"a"`, false},
		{"a=b", false},
		{"a@b", false},
		{"a{b}", false},
		{"é", false},
		{"a\x7f", false},
	}
	for _, tt := range tests {
		if got := isToken(tt.in); got != tt.want {
			t.Errorf("isToken(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

// Metadata from the SDK (names without prefix, any case, values maybe
// encoded) becomes lower-case x-amz-meta-* names with decoded values, so a
// seed-style metadata == headers comparison holds.
func TestMetadataFromSDK(t *testing.T) {
	got := metadataFromSDK(map[string]string{
		"State": "done",
		"city":  "=?UTF-8?B?WsO8cmljaA==?=",
		"EMPTY": "",
	})
	want := Metadata{
		"x-amz-meta-state": "done",
		"x-amz-meta-city":  "Zürich",
		"x-amz-meta-empty": "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metadataFromSDK (-want +got):\n%s", diff)
	}
	if got := metadataFromSDK(nil); got == nil || len(got) != 0 {
		t.Errorf("metadataFromSDK(nil) = %#v; want an empty, non-nil Metadata", got)
	}

	// And back: headers written, metadata read, equal.
	h := Headers{"x-amz-meta-state": "done", "x-amz-meta-city": "Zürich"}
	a, err := parseHeaders(h)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Metadata(h), metadataFromSDK(a.meta)); diff != "" {
		t.Errorf("headers → SDK → Metadata (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(h, headersFromMetadata(Metadata(h))); diff != "" {
		t.Errorf("headersFromMetadata (-want +got):\n%s", diff)
	}
}

func TestAttrsAccessors(t *testing.T) {
	a, err := parseHeaders(Headers{"x-amz-server-side-encryption": "AES256"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(a.sse()); got != "AES256" {
		t.Errorf("sse() = %q", got)
	}
	if m := a.metaOrNil(); m != nil {
		t.Errorf("metaOrNil() = %v without metadata; want nil", m)
	}
	none, _ := parseHeaders(nil)
	if none.sse() != "" {
		t.Errorf("sse() of empty attrs = %q", none.sse())
	}
	withMeta, _ := parseHeaders(Headers{"x-amz-meta-a": "1"})
	if diff := cmp.Diff(map[string]string{"a": "1"}, withMeta.metaOrNil()); diff != "" {
		t.Errorf("metaOrNil (-want +got):\n%s", diff)
	}
}
