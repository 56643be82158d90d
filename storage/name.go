package storage

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest object key S3 accepts, in bytes.
const MaxKeyLen = 1024

// Name names an object: a bucket and a key. An empty Bucket means the
// Storage's default bucket.
type Name struct {
	Bucket string
	Key    string
}

const scheme = "s3://"

// ParseName parses "s3://bucket/key". The key is everything after the first
// slash that follows the bucket, taken as it is (no percent-decoding), so
// ParseName(n.String()) == n for every Name. "s3:///key" names a key in the
// default bucket; "s3://bucket" names a bucket with an empty key.
func ParseName(s string) (Name, error) {
	rest, ok := strings.CutPrefix(s, scheme)
	if !ok {
		return Name{}, fmt.Errorf("%w: %q does not start with %q", ErrInvalidName, s, scheme)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket != "" {
		if err := CheckBucket(bucket); err != nil {
			return Name{}, err
		}
	}
	return Name{Bucket: bucket, Key: key}, nil
}

// String returns the name as "s3://bucket/key" ("s3:///key" when the bucket
// is the default one).
func (n Name) String() string {
	if n.Key == "" {
		return scheme + n.Bucket
	}
	return scheme + n.Bucket + "/" + n.Key
}

// CheckKey returns an error that errors.Is ErrInvalidName unless key is an
// object key S3 can hold and list back faithfully: non-empty, valid UTF-8,
// at most MaxKeyLen bytes, with no control characters and neither U+FFFE
// nor U+FFFF (listings and batch deletes are XML, which cannot carry them:
// servers list them as U+FFFD and DeleteObjects leaves the object). Every
// operation checks its keys with it before sending anything.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidName)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes is over %d", ErrInvalidName, len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: key %q is not valid UTF-8", ErrInvalidName, key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			// S3 stores them, but listings come back mangled or as XML
			// that does not parse (see docs/servers.md).
			return fmt.Errorf("%w: key %q holds control character %U", ErrInvalidName, key, r)
		}
		if r == 0xFFFE || r == 0xFFFF {
			// Not XML 1.0 characters (the other noncharacters are, and
			// list back faithfully on every server probed).
			return fmt.Errorf("%w: key %q holds noncharacter %U, which S3 listings and batch deletes (XML) cannot carry", ErrInvalidName, key, r)
		}
	}
	return nil
}

// CheckBucket returns an error that errors.Is ErrInvalidName unless b can
// name an existing bucket in a request: 3 to 255 letters, digits, '.', '-'
// and '_'. It is lenient (legacy buckets may hold upper case and
// underscores); the server has the last word. CreateBucket applies S3's
// stricter rules for new buckets. Every operation checks its bucket with
// it before sending anything.
func CheckBucket(b string) error {
	if len(b) < 3 || len(b) > 255 {
		return fmt.Errorf("%w: bucket name %q must be 3 to 255 characters", ErrInvalidName, b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
		if !ok {
			return fmt.Errorf("%w: bucket name %q holds %q", ErrInvalidName, b, c)
		}
	}
	return nil
}

// checkNewBucket applies S3's rules for creating a bucket: 3 to 63 lower-case
// letters, digits, dots and hyphens, starting and ending with a letter or
// digit.
func checkNewBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("%w: bucket name %q must be 3 to 63 characters", ErrInvalidName, b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && ((c != '.' && c != '-') || i == 0 || i == len(b)-1) {
			return fmt.Errorf("%w: bucket name %q: only lower-case letters, digits, '.' and '-' inside are allowed", ErrInvalidName, b)
		}
	}
	return nil
}
