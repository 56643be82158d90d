package storage

import (
	"encoding/base64"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// MaxMetadataSize is the most user metadata S3 stores with an object: the
// bytes of every key (without "x-amz-meta-") and value, added up.
const MaxMetadataSize = 2048

// MetaPrefix starts the name of every user metadata header.
const MetaPrefix = "x-amz-meta-"

// Metadata is an object's user metadata, keyed by lower-case header name
// ("x-amz-meta-state"). Values are the text the writer gave, non-ASCII
// included.
type Metadata map[string]string

// Headers are request headers for a write: "x-amz-meta-*" user metadata
// and the standard headers S3 keeps with an object. Names are
// case-insensitive. The standard headers are Content-Type, Cache-Control,
// Content-Disposition, Content-Encoding, Content-Language, Expires (HTTP
// date), x-amz-storage-class, x-amz-server-side-encryption,
// x-amz-server-side-encryption-aws-kms-key-id, x-amz-tagging (URL query
// form, "k=v&k2=v2") and x-amz-acl. Any other name is an error, never
// dropped.
type Headers map[string]string

// Standard header names, lower case.
const (
	hContentType        = "content-type"
	hCacheControl       = "cache-control"
	hContentDisposition = "content-disposition"
	hContentEncoding    = "content-encoding"
	hContentLanguage    = "content-language"
	hExpires            = "expires"
	hStorageClass       = "x-amz-storage-class"
	hSSE                = "x-amz-server-side-encryption"
	hSSEKMSKeyID        = "x-amz-server-side-encryption-aws-kms-key-id"
	hTagging            = "x-amz-tagging"
	hACL                = "x-amz-acl"
)

// systemHeaders are the standard headers an object keeps and a copy
// carries over: everything but tagging and ACL, which S3 keeps apart.
var systemHeaders = []string{hContentType, hCacheControl, hContentDisposition, hContentEncoding, hContentLanguage, hExpires, hStorageClass, hSSE, hSSEKMSKeyID}

// attrs are parsed, checked headers, ready to go into an SDK input.
type attrs struct {
	meta     map[string]string // user metadata, names without prefix, values encoded
	hasMeta  bool              // the headers held at least one x-amz-meta-*
	metaSize int               // bytes of user metadata, as MaxMetadataSize counts them
	system   map[string]string // standard headers, lower-case names
}

// writeTokenKey names the user metadata (x-amz-meta-s3map-write) in which
// a conditional write stores a token of its own, so that after a lost
// reply it can tell its object from another writer's with the same bytes
// (see exactlyOnce). The name is reserved: Headers may not hold it, and
// Metadata never shows it.
const writeTokenKey = "s3map-write"

// withWriteToken returns a copy of a whose metadata also holds the write
// token; false when the token would take the metadata over
// MaxMetadataSize.
func (a attrs) withWriteToken(token string) (attrs, bool) {
	if a.metaSize+len(writeTokenKey)+len(token) > MaxMetadataSize {
		return a, false
	}
	meta := maps.Clone(a.meta)
	if meta == nil {
		meta = map[string]string{}
	}
	meta[writeTokenKey] = token
	a.meta = meta
	a.metaSize += len(writeTokenKey) + len(token)
	return a, true
}

// parseHeaders checks headers and splits them into user metadata and
// standard headers. It refuses unknown names, values that cannot go into an
// HTTP header, and metadata over MaxMetadataSize.
func parseHeaders(h Headers) (attrs, error) {
	a := attrs{meta: map[string]string{}, system: map[string]string{}}
	size := 0
	// Sorted, so the first error named is the same every time.
	for _, name := range slices.Sorted(maps.Keys(h)) {
		value := h[name]
		lower := strings.ToLower(strings.TrimSpace(name))
		if metaKey, ok := strings.CutPrefix(lower, MetaPrefix); ok {
			if metaKey == "" || !isToken(metaKey) {
				return attrs{}, fmt.Errorf("%w: metadata name %q is not a valid header name", ErrInvalidHeader, name)
			}
			if metaKey == writeTokenKey {
				return attrs{}, fmt.Errorf("%w: metadata name %q is reserved for s3map's conditional writes", ErrInvalidHeader, lower)
			}
			if _, dup := a.meta[metaKey]; dup {
				return attrs{}, fmt.Errorf("%w: metadata %q given twice (names are case-insensitive)", ErrInvalidHeader, lower)
			}
			enc, err := encodeValue(name, value)
			if err != nil {
				return attrs{}, err
			}
			a.meta[metaKey] = enc
			a.hasMeta = true
			size += len(metaKey) + len(enc)
			continue
		}
		if !slices.ContainsFunc(sdkHeaders, func(h sdkHeader) bool { return h.name == lower }) {
			return attrs{}, fmt.Errorf("%w: unknown header %q (want x-amz-meta-* or one of %s)", ErrInvalidHeader, name, strings.Join(standardHeaderNames(), ", "))
		}
		if _, dup := a.system[lower]; dup {
			return attrs{}, fmt.Errorf("%w: header %q given twice (names are case-insensitive)", ErrInvalidHeader, lower)
		}
		if err := checkSystemValue(lower, value); err != nil {
			return attrs{}, err
		}
		a.system[lower] = value
	}
	if size > MaxMetadataSize {
		return attrs{}, fmt.Errorf("%w: %d bytes of user metadata, S3 stores at most %d", ErrMetadataTooLarge, size, MaxMetadataSize)
	}
	a.metaSize = size
	return a, nil
}

func checkSystemValue(name, value string) error {
	if !isPrintableASCII(value) {
		return fmt.Errorf("%w: %s value %q must be printable ASCII", ErrInvalidHeader, name, value)
	}
	switch name {
	case hExpires:
		if _, err := http.ParseTime(value); err != nil {
			return fmt.Errorf("%w: expires %q is not an HTTP date (%s)", ErrInvalidHeader, value, http.TimeFormat)
		}
	case hStorageClass:
		if !slices.Contains(types.StorageClass("").Values(), types.StorageClass(value)) {
			return fmt.Errorf("%w: unknown storage class %q", ErrInvalidHeader, value)
		}
	case hSSE:
		if !slices.Contains(types.ServerSideEncryption("").Values(), types.ServerSideEncryption(value)) {
			return fmt.Errorf("%w: unknown server-side encryption %q", ErrInvalidHeader, value)
		}
	case hACL:
		if !slices.Contains(types.ObjectCannedACL("").Values(), types.ObjectCannedACL(value)) {
			return fmt.Errorf("%w: unknown canned ACL %q", ErrInvalidHeader, value)
		}
	case hTagging:
		if err := checkTagging(value); err != nil {
			return fmt.Errorf("%w: x-amz-tagging %q: %v", ErrInvalidHeader, value, err)
		}
	}
	return nil
}

// S3's limits on object tags.
const (
	maxTags        = 10
	maxTagKeyLen   = 128 // characters
	maxTagValueLen = 256 // characters
)

// checkTagging checks an x-amz-tagging value as S3 does: URL-encoded
// key=value pairs joined by '&', at most 10, keys unique, 1 to 128
// characters, not starting with "aws:", values up to 256, both made of
// letters, digits, spaces and + - = . _ : / @. (MinIO also refuses
// non-ASCII letters in values; AWS takes them.)
func checkTagging(v string) error {
	if v == "" {
		return nil
	}
	pairs := strings.Split(v, "&")
	if len(pairs) > maxTags {
		return fmt.Errorf("%d tags, S3 allows at most %d", len(pairs), maxTags)
	}
	seen := map[string]bool{}
	for _, pair := range pairs {
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(rawKey)
		value, err2 := url.QueryUnescape(rawValue)
		switch {
		case err1 != nil || err2 != nil:
			return fmt.Errorf("%q is not URL-encoded key=value", pair)
		case key == "":
			return fmt.Errorf("%q has an empty key", pair)
		case seen[key]:
			return fmt.Errorf("key %q given twice", key)
		case utf8.RuneCountInString(key) > maxTagKeyLen:
			return fmt.Errorf("key %q is over %d characters", key, maxTagKeyLen)
		case utf8.RuneCountInString(value) > maxTagValueLen:
			return fmt.Errorf("the value of %q is over %d characters", key, maxTagValueLen)
		case strings.HasPrefix(strings.ToLower(key), "aws:"):
			return fmt.Errorf("key %q: the aws: prefix is reserved", key)
		case !tagText(key) || !tagText(value):
			return fmt.Errorf("%q: tags hold only letters, digits, spaces and + - = . _ : / @", pair)
		}
		seen[key] = true
	}
	return nil
}

// tagText reports whether s is valid UTF-8 made of the characters S3
// allows in tags.
func tagText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && !strings.ContainsRune("+-=._:/@", r) {
			return false
		}
	}
	return true
}

// encodeValue makes a metadata value safe for an HTTP header: printable
// ASCII goes as it is, anything else as an RFC 2047 encoded word, which is
// how S3 itself returns non-ASCII metadata.
//
// Printable ASCII that would not come back as it is also goes encoded: a
// value that decodeValue would change (one holding an encoded word such as
// "=?utf-8?q?a?="), and one with spaces at either end, which HTTP trims.
// Anything else ("x=?y" included) goes as it is, so that every client reads
// the value the Go user wrote.
func encodeValue(name, v string) (string, error) {
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
		return "", fmt.Errorf("%w: metadata %q holds a control character", ErrInvalidHeader, name)
	}
	plain := isPrintableASCII(v) && strings.TrimSpace(v) == v && decodeValue(v) == v
	if plain {
		return v, nil
	}
	// Built by hand: mime.BEncoding.Encode leaves ASCII as it is.
	return "=?UTF-8?b?" + base64.StdEncoding.EncodeToString([]byte(v)) + "?=", nil
}

var wordDecoder = mime.WordDecoder{}

// decodeValue undoes encodeValue (and S3's own encoding of non-ASCII).
func decodeValue(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// isToken reports whether s is an HTTP token (RFC 9110), as header names
// must be.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// metadataFromSDK turns the SDK's metadata (names without prefix) into
// Metadata.
func metadataFromSDK(m map[string]string) Metadata {
	md := make(Metadata, len(m))
	for k, v := range m {
		if strings.EqualFold(k, writeTokenKey) {
			continue // s3map's own (see writeTokenKey)
		}
		md[MetaPrefix+strings.ToLower(k)] = decodeValue(v)
	}
	return md
}

// headersFromMetadata turns Metadata back into Headers.
func headersFromMetadata(md Metadata) Headers {
	h := make(Headers, len(md))
	for k, v := range md {
		h[k] = v
	}
	return h
}

// sse is the server-side encryption the write asks for ("" for none).
func (a attrs) sse() types.ServerSideEncryption {
	return types.ServerSideEncryption(a.system[hSSE])
}

// metaOrNil returns the SDK metadata map, nil when empty.
func (a attrs) metaOrNil() map[string]string {
	if len(a.meta) == 0 {
		return nil
	}
	return a.meta
}
