package storage

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// How reads are verified
//
// Every GET asks for the object's checksums (x-amz-checksum-mode: ENABLED)
// and its body is checked against its length and against one digest the
// server vouches for: a FULL_OBJECT x-amz-checksum-* value when the reply
// covers the whole object (CRC32C, CRC32, CRC64NVME, SHA1, SHA256, cheapest
// first), else the ETag when it is an MD5 (32 hex digits, no "-N" part
// count, not SSE-KMS or SSE-C), else the length alone. Composite checksums
// ("...-N", type COMPOSITE) are checksums of part checksums and cannot be
// checked on a whole body. A checksum on a reply for part of an object is
// never trusted: servers differ on what it covers.
//
// What the CI servers keep and return (probed with checksum mode ENABLED):
//
//   - gofakes3 (the in-process server): keeps the checksum a single-part
//     PUT sent, any algorithm, and returns it on HEAD and on every GET,
//     ranged ones included (the whole object's value on a partial range);
//     no x-amz-checksum-type. Multipart objects keep no checksum, not even
//     a FULL_OBJECT one; their ETag is the MD5 of the whole content.
//   - MinIO: keeps single-part and FULL_OBJECT multipart checksums; returns
//     them on HEAD and whole GETs only, never on a ranged GET, even one
//     covering the whole object. Composite multipart: "...-N", COMPOSITE.
//   - versitygw 1.8.0: computes a FULL_OBJECT CRC64NVME for every object
//     written without a checksum (multipart too) and keeps the one sent
//     otherwise; returns it on HEAD, whole GETs and ranges covering the
//     whole object, nothing on a partial range.
//   - moto 5.2.1: keeps single-part checksums (no x-amz-checksum-type);
//     returns them on HEAD, whole GETs and ranges covering the whole
//     object. It computes a multipart upload's FULL_OBJECT checksum itself,
//     ignoring the client's, and without its optional Python modules gets
//     it wrong: CRC32 (IEEE) labelled CRC32C, a 4-byte CRC32 labelled
//     CRC64NVME. So a CRC32C that is the body's CRC32 passes on multipart
//     objects, and a value of the wrong size is ignored. For a composite multipart checksum
//     HEAD shows the value without its "-N" and without a type (GET shows
//     "...-N", COMPOSITE): HEAD's checksums are not used here.
//
// So the first GET of a read is a whole-object GET: it is the one reply
// that carries the full-object checksum on every server.

// An expectation is what a body must match: its length, and a digest when
// the server gave one that covers exactly this body.
type expectation struct {
	size int64
	alg  string // "CRC32C", "CRC32", "CRC64NVME", "SHA1", "SHA256", "MD5" (the ETag); "" for length only
	sum  []byte
	// orIEEE: a CRC32C value that is the body's CRC32 (IEEE) passes too.
	// moto computes the FULL_OBJECT checksum of a multipart upload itself
	// and, without its optional crc32c module, computes CRC32 and calls
	// it CRC32C; a valid object must not fail for that. A changed body
	// matches neither but by chance (2^-32).
	orIEEE bool
}

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	// crc64NVME is the reflected form of the CRC-64/NVME polynomial
	// 0xAD93D23594C93659, as S3's CRC64NVME checksum uses.
	crc64NVME = crc64.MakeTable(crc64NVMEPoly)
)

const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

// checksumAlgs lists the S3 checksums in the order they are preferred
// (cheapest to compute first), with their digest size and polynomial for
// the CRCs (reflected form; 0 for the SHA digests).
var checksumAlgs = []struct {
	name string
	size int
	poly uint64
	get  func(*s3.GetObjectOutput) *string
}{
	{"CRC32C", 4, uint64(crc32.Castagnoli), func(o *s3.GetObjectOutput) *string { return o.ChecksumCRC32C }},
	{"CRC32", 4, uint64(crc32.IEEE), func(o *s3.GetObjectOutput) *string { return o.ChecksumCRC32 }},
	{"CRC64NVME", 8, crc64NVMEPoly, func(o *s3.GetObjectOutput) *string { return o.ChecksumCRC64NVME }},
	{"SHA1", sha1.Size, 0, func(o *s3.GetObjectOutput) *string { return o.ChecksumSHA1 }},
	{"SHA256", sha256.Size, 0, func(o *s3.GetObjectOutput) *string { return o.ChecksumSHA256 }},
}

// expect returns what the body of a successful GET must match. whole says
// whether the reply holds the whole object (no range, or a range covering
// it); size is the number of bytes the body must hold.
func expect(o *s3.GetObjectOutput, whole bool, size int64) expectation {
	e := expectation{size: size}
	if !whole {
		return e
	}
	if o.ChecksumType != types.ChecksumTypeComposite {
		for _, a := range checksumAlgs {
			v := aws.ToString(a.get(o))
			if v == "" || strings.Contains(v, "-") {
				continue // absent, or composite "...-N"
			}
			sum, err := base64.StdEncoding.DecodeString(v)
			if err != nil || len(sum) != a.size {
				continue // not a value we can check: never fail on it
			}
			e.alg, e.sum = a.name, sum
			_, isMD5 := etagMD5(aws.ToString(o.ETag))
			e.orIEEE = a.name == "CRC32C" && !isMD5
			return e
		}
	}
	if sum, ok := etagMD5(aws.ToString(o.ETag)); ok && o.SSECustomerAlgorithm == nil &&
		o.ServerSideEncryption != types.ServerSideEncryptionAwsKms && o.ServerSideEncryption != types.ServerSideEncryptionAwsKmsDsse {
		e.alg, e.sum = "MD5", sum
	}
	return e
}

// etagMD5 returns the MD5 an ETag holds: 32 hex digits, quotes aside.
func etagMD5(etag string) ([]byte, bool) {
	etag = strings.Trim(etag, `"`)
	if len(etag) != 2*md5.Size {
		return nil, false
	}
	sum, err := hex.DecodeString(etag)
	return sum, err == nil
}

// newHash returns the hash for an algorithm of expect, or nil for "".
func newHash(alg string) hash.Hash {
	switch alg {
	case "CRC32C":
		return crc32.New(castagnoli)
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC64NVME":
		return crc64.New(crc64NVME)
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	case "MD5":
		return md5.New()
	}
	return nil
}

// crcPoly returns the polynomial (reflected) and width of a CRC algorithm;
// ok is false for the others.
func crcPoly(alg string) (poly uint64, width uint, ok bool) {
	for _, a := range checksumAlgs {
		if a.name == alg && a.poly != 0 {
			return a.poly, uint(8 * a.size), true
		}
	}
	return 0, 0, false
}

// crcValue reads a CRC hash's current value.
func crcValue(h hash.Hash) uint64 {
	switch h := h.(type) {
	case hash.Hash32:
		return uint64(h.Sum32())
	case hash.Hash64:
		return h.Sum64()
	}
	return 0
}

// crcBytes writes a CRC value big-endian in width bits, as S3 sends it.
func crcBytes(v uint64, width uint) []byte {
	if width == 32 {
		return binary.BigEndian.AppendUint32(nil, uint32(v))
	}
	return binary.BigEndian.AppendUint64(nil, v)
}

// A verifier checks a body against an expectation as it goes by.
type verifier struct {
	exp  expectation
	h    hash.Hash // nil when only the length is checked
	ieee hash.Hash // CRC32 when exp.orIEEE
	n    int64
}

func newVerifier(e expectation) *verifier {
	v := &verifier{exp: e, h: newHash(e.alg)}
	if e.orIEEE {
		v.ieee = crc32.NewIEEE()
	}
	return v
}

func (v *verifier) Write(p []byte) (int, error) {
	v.n += int64(len(p))
	if v.h != nil {
		v.h.Write(p)
	}
	if v.ieee != nil {
		v.ieee.Write(p)
	}
	return len(p), nil
}

// slow reports whether the digest is slower than a loopback stream
// (MD5 ~0.8 GB/s, SHA, CRC64NVME ~1.9 GB/s on one core, against ~1 GB/s
// of body), so that copyAt hashes it in a goroutine of its own. CRC32C and
// CRC32 use the CPU's instructions and keep up in line.
func (v *verifier) slow() bool {
	return v.exp.alg == "MD5" || v.exp.alg == "SHA1" || v.exp.alg == "SHA256" || v.exp.alg == "CRC64NVME"
}

// check returns nil if the bytes seen match, else an error describing the
// mismatch (the caller makes it an ErrCorrupt *Error).
func (v *verifier) check() error {
	if v.n != v.exp.size {
		return fmt.Errorf("body holds %d bytes, the server announced %d", v.n, v.exp.size)
	}
	if v.h == nil {
		return nil
	}
	err := v.exp.match(v.h.Sum(nil))
	if err != nil && v.ieee != nil && bytes.Equal(v.ieee.Sum(nil), v.exp.sum) {
		return nil
	}
	return err
}

func (e expectation) match(sum []byte) error {
	if !bytes.Equal(sum, e.sum) {
		return fmt.Errorf("%s of the body is %s, the server's is %s", e.alg, hex.EncodeToString(sum), hex.EncodeToString(e.sum))
	}
	return nil
}

// crcCombine returns the CRC of the concatenation A‖B from crcA = CRC(A),
// crcB = CRC(B) and lenB = len(B), for a reflected CRC of the given width
// (up to 64 bits) whose register starts and ends inverted, as hash/crc32
// and hash/crc64 compute them (and S3's CRC32, CRC32C and CRC64NVME are).
// It is zlib's crc32_combine, made generic in the polynomial.
func crcCombine(poly uint64, width uint, crcA, crcB uint64, lenB int64) uint64 {
	return gfMul(poly, width, xPow8n(poly, width, lenB), crcA) ^ crcB
}

// gfMul multiplies a and b modulo the polynomial, in the reflected bit
// order where x^0 is the top bit of the width.
func gfMul(poly uint64, width uint, a, b uint64) uint64 {
	top := uint64(1) << (width - 1)
	var p uint64
	for m := top; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ poly
		} else {
			b >>= 1
		}
	}
	return p
}

// xPow8n returns x^(8n) modulo the polynomial: the effect of n zero bytes.
func xPow8n(poly uint64, width uint, n int64) uint64 {
	top := uint64(1) << (width - 1)
	p := top       // x^0
	sq := top >> 8 // x^8
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			p = gfMul(poly, width, sq, p)
		}
		sq = gfMul(poly, width, sq, sq)
	}
	return p
}
