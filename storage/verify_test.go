package storage

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"hash/crc64"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// crcCombine agrees with hash/crc32 and hash/crc64 on random splits, for
// S3's three CRCs and two more polynomials, including empty halves.
func TestCRCCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	crc32Of := func(poly uint32) func([]byte) uint64 {
		tab := crc32.MakeTable(poly)
		return func(b []byte) uint64 { return uint64(crc32.Checksum(b, tab)) }
	}
	crc64Of := func(poly uint64) func([]byte) uint64 {
		tab := crc64.MakeTable(poly)
		return func(b []byte) uint64 { return crc64.Checksum(b, tab) }
	}
	for _, c := range []struct {
		name  string
		poly  uint64
		width uint
		sum   func([]byte) uint64
	}{
		{"CRC32", crc32.IEEE, 32, crc32Of(crc32.IEEE)},
		{"CRC32C", crc32.Castagnoli, 32, crc32Of(crc32.Castagnoli)},
		{"Koopman", crc32.Koopman, 32, crc32Of(crc32.Koopman)},
		{"CRC64NVME", crc64NVMEPoly, 64, crc64Of(crc64NVMEPoly)},
		{"CRC64ECMA", crc64.ECMA, 64, crc64Of(crc64.ECMA)},
	} {
		for range 200 {
			n := rng.IntN(len(data) + 1)
			k := rng.IntN(n + 1)
			a, b := data[:k], data[k:n]
			got := crcCombine(c.poly, c.width, c.sum(a), c.sum(b), int64(len(b)))
			if want := c.sum(data[:n]); got != want {
				t.Fatalf("%s: combine of %d+%d bytes = %x; want %x", c.name, len(a), len(b), got, want)
			}
		}
	}
}

// CRC64NVME is the polynomial S3 uses: the check value of "123456789".
func TestCRC64NVMECheckValue(t *testing.T) {
	if got := crc64.Checksum([]byte("123456789"), crc64NVME); got != 0xae8b14860a799888 {
		t.Errorf("CRC-64/NVME(123456789) = %x; want ae8b14860a799888", got)
	}
}

func TestExpect(t *testing.T) {
	body := []byte("hello, world")
	md5sum := md5.Sum(body)
	etag := `"` + hex.EncodeToString(md5sum[:]) + `"`
	crc := base64.StdEncoding.EncodeToString(crcBytes(uint64(crc32.Checksum(body, castagnoli)), 32))
	for _, c := range []struct {
		name    string
		out     s3.GetObjectOutput
		whole   bool
		wantAlg string
	}{
		{"crc32c preferred over md5", s3.GetObjectOutput{ETag: &etag, ChecksumCRC32C: &crc}, true, "CRC32C"},
		{"cheapest of several", s3.GetObjectOutput{ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 32))), ChecksumCRC32C: &crc}, true, "CRC32C"},
		{"md5 etag", s3.GetObjectOutput{ETag: &etag}, true, "MD5"},
		{"multipart etag", s3.GetObjectOutput{ETag: aws.String(`"0123456789abcdef0123456789abcdef-2"`)}, true, ""},
		{"composite value", s3.GetObjectOutput{ETag: aws.String(`"x-2"`), ChecksumCRC32C: aws.String(crc + "-2")}, true, ""},
		{"composite type without -N (moto HEAD)", s3.GetObjectOutput{ChecksumCRC32C: &crc, ChecksumType: types.ChecksumTypeComposite}, true, ""},
		{"odd value falls back to md5", s3.GetObjectOutput{ETag: &etag, ChecksumCRC32C: aws.String("not base64!")}, true, "MD5"},
		{"wrong size falls back", s3.GetObjectOutput{ETag: &etag, ChecksumCRC64NVME: &crc}, true, "MD5"},
		{"sse-kms etag is no md5", s3.GetObjectOutput{ETag: &etag, ServerSideEncryption: types.ServerSideEncryptionAwsKms}, true, ""},
		{"sse-c etag is no md5", s3.GetObjectOutput{ETag: &etag, SSECustomerAlgorithm: aws.String("AES256")}, true, ""},
		{"sse-s3 etag is md5", s3.GetObjectOutput{ETag: &etag, ServerSideEncryption: types.ServerSideEncryptionAes256}, true, "MD5"},
		{"multipart crc32c may be a crc32 (moto)", s3.GetObjectOutput{ETag: aws.String(`"x-2"`), ChecksumCRC32C: aws.String(base64.StdEncoding.EncodeToString(crcBytes(uint64(crc32.ChecksumIEEE(body)), 32)))}, true, "CRC32C"},
		{"part of an object: length only", s3.GetObjectOutput{ETag: &etag, ChecksumCRC32C: &crc}, false, ""},
	} {
		e := expect(&c.out, c.whole, int64(len(body)))
		if e.alg != c.wantAlg {
			t.Errorf("%s: alg %q; want %q", c.name, e.alg, c.wantAlg)
			continue
		}
		v := newVerifier(e)
		v.Write(body)
		if e.alg == "CRC32C" || e.alg == "MD5" {
			if err := v.check(); err != nil {
				t.Errorf("%s: the right body fails: %v", c.name, err)
			}
			v = newVerifier(e)
			v.Write([]byte("hello, World"))
			if v.check() == nil {
				t.Errorf("%s: a changed body passes", c.name)
			}
		}
		v = newVerifier(e)
		v.Write(body[1:])
		if v.check() == nil {
			t.Errorf("%s: a short body passes", c.name)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	for cr, want := range map[string][4]int64{
		"bytes 0-99/1000":   {0, 99, 1000, 1},
		"bytes 5-5/6":       {5, 5, 6, 1},
		"bytes */1000":      {0, 0, 0, 0},
		"":                  {0, 0, 0, 0},
		"bytes 10-5/100":    {10, 5, 100, 0},
		"bytes 0-100/100":   {0, 100, 100, 0},
		"bytes 0-99/junk":   {0, 0, 0, 0},
		"bytes 0-9/10 tail": {0, 9, 10, 1},
	} {
		f, l, n, ok := parseContentRange(cr)
		if ok != (want[3] == 1) || (ok && [3]int64{f, l, n} != [3]int64(want[:3])) {
			t.Errorf("parseContentRange(%q) = %d, %d, %d, %v; want %v", cr, f, l, n, ok, want)
		}
	}
}

// Digests slower than a loopback stream are hashed beside the copy, not in
// it: MD5 and SHA, and CRC64NVME (versitygw gives one to every object
// written without a checksum); the CRCs with CPU instructions stay in line.
func TestSlowDigestsArePipelined(t *testing.T) {
	for alg, want := range map[string]bool{"MD5": true, "SHA1": true, "SHA256": true, "CRC64NVME": true, "CRC32C": false, "CRC32": false, "": false} {
		if got := newVerifier(expectation{alg: alg}).slow(); got != want {
			t.Errorf("slow(%q) = %v, want %v", alg, got, want)
		}
	}
}
