// Package zstd is a kv layer that keeps values compressed with zstd (by
// github.com/klauspost/compress), in a form any zstd decoder reads.
//
// # Stored form
//
// New writes each value as one standard zstd frame (with its content size
// and a checksum) followed by Marker, a 16-byte zstd skippable frame that
// marks the value as s3map's:
//
//	28 b5 2f fd ...                   the zstd frame of the value
//	5e 2a 4d 18  08 00 00 00  "s3map.z2"  Marker: skippable frame 0x184D2A5E, 8 bytes of content
//
// The data frame comes first, so one-shot decoders that read only the
// first frame (python-zstandard's ZstdDecompressor().decompress(), Go's
// zstd.Decoder.DecodeAll on that frame) return the value, and streaming
// decoders and the zstd command skip the marker.
//
// Values written before s3map 0.2 start with LegacyMarker (the same
// skippable frame with "s3map.z1") followed by the data frame; they still
// read. A value with neither marker is read as it is, so values stored
// before compression was turned on read as they were, and a store may mix
// both; so is a value that is a whole zstd stream without Marker
// (compressed by another program). A value that starts with the
// skippable-frame magic but not the whole LegacyMarker, or that starts
// with a zstd frame magic and ends in a damaged Marker or does not
// decode, or whose frame does not decompress (damaged, or larger than
// Options.MaxValueSize), is an error that errors.Is kv.ErrCorrupt and
// names the key: never the stored bytes as a value. (Only a value cut
// exactly at the end of its frame, losing the whole Marker, reads as the
// compressed bytes; the stores below verify lengths, which catches that.)
//
// Package kv itself depends on the standard library only; this layer
// lives here so that users of kv who do not compress do not build zstd.
package zstd

import (
	"bytes"
	"errors"
	"fmt"

	kzstd "github.com/klauspost/compress/zstd"

	"github.com/s3map/s3map/kv"
)

// DefaultMaxValueSize is the largest value, in bytes, that a store made
// by New writes or reads back when Options.MaxValueSize is zero.
const DefaultMaxValueSize = 256 << 20

// Marker follows the zstd frame of every value New writes: a zstd
// skippable frame (magic 0x184D2A5E little-endian, content length 8) whose
// content is "s3map.z2".
const Marker = "\x5e\x2a\x4d\x18" + "\x08\x00\x00\x00" + "s3map.z2"

// LegacyMarker opened every value written before Marker was used: the
// same skippable frame with content "s3map.z1", followed by the zstd frame
// of the value. Such values still read.
const LegacyMarker = "\x5e\x2a\x4d\x18" + "\x08\x00\x00\x00" + "s3map.z1"

// smallValue is the size up to which values are written as single-segment
// frames: klauspost's encoder leaves the content size out of the header of
// a smaller multi-segment frame, and python-zstandard's one-shot
// decompress() needs it. (Above 255 bytes every frame states it.)
const smallValue = 1 << 10

// skippableMagic opens every zstd skippable frame that s3map writes.
const skippableMagic = "\x5e\x2a\x4d\x18"

// frameMagic opens every zstd data frame.
const frameMagic = "\x28\xb5\x2f\xfd"

// Options tunes New. A nil *Options means the defaults.
type Options struct {
	// Level is a zstd compression level, as the zstd command counts them:
	// 1 (fastest) to 22 (smallest). Zero means 3, zstd's default. The
	// encoder maps levels onto its four speeds (fastest, default, better,
	// best); any level is accepted.
	Level int

	// MaxValueSize is the largest value, in bytes before compression, that
	// Set accepts and that Get decompresses. Zero or less means
	// DefaultMaxValueSize. A larger value is refused before anything is
	// written (kv.ErrValueTooLarge); a stored frame that would decompress
	// to more is kv.ErrCorrupt, so a hostile value cannot exhaust memory.
	MaxValueSize int
}

// New returns a kv.Store[[]byte] that keeps its values in s compressed
// with zstd, in the stored form described in the package documentation.
//
// It is kv.Typed over s with the zstd codec, so it follows kv's ability
// rule: Versioned exactly when s is (versions are those of s, so kv.Update
// works through it), and always a KeyChecker, PrefixLister and Batcher.
// Keys pass through unchanged. It is safe for concurrent use when s is:
// one encoder and one decoder are shared by all goroutines.
func New(s kv.Store[[]byte], opts *Options) kv.Store[[]byte] {
	if opts == nil {
		opts = &Options{}
	}
	return kv.Typed[[]byte](s, newCodec(opts))
}

// codec is the kv.Codec of New.
type codec struct {
	encoder *kzstd.Encoder // values over smallValue bytes
	small   *kzstd.Encoder // values up to smallValue bytes: single segment
	decoder *kzstd.Decoder
	maxSize int
	broken  error // set when the encoder or decoder could not be made
}

func newCodec(opts *Options) *codec {
	level := opts.Level
	if level == 0 {
		level = 3
	}
	maxSize := opts.MaxValueSize
	if maxSize <= 0 {
		maxSize = DefaultMaxValueSize
	}
	c := &codec{maxSize: maxSize}
	var err error
	encoderOptions := []kzstd.EOption{
		kzstd.WithEncoderLevel(kzstd.EncoderLevelFromZstd(level)),
		kzstd.WithEncoderCRC(true),
		kzstd.WithZeroFrames(true), // an empty value is a full frame too
	}
	c.encoder, err = kzstd.NewWriter(nil, encoderOptions...)
	if err == nil {
		// A single-segment frame always states its content size, which
		// one-shot decoders need; larger frames state it anyway.
		c.small, err = kzstd.NewWriter(nil, append(encoderOptions, kzstd.WithSingleSegment(true))...)
	}
	if err == nil {
		c.decoder, err = kzstd.NewReader(nil,
			kzstd.WithDecoderConcurrency(0), // GOMAXPROCS decodes at once
			kzstd.WithDecoderMaxMemory(uint64(maxSize)),
		)
	}
	if err != nil {
		// Not expected with the options above; report it on every call
		// rather than panic.
		c.broken = fmt.Errorf("kv/zstd: making the zstd coder: %w", err)
	}
	return c
}

// Encode returns the zstd frame of v followed by Marker.
func (c *codec) Encode(v []byte) ([]byte, error) {
	if c.broken != nil {
		return nil, c.broken
	}
	if len(v) > c.maxSize {
		return nil, fmt.Errorf("%w: %d bytes is over the limit of %d bytes", kv.ErrValueTooLarge, len(v), c.maxSize)
	}
	encoder := c.encoder
	if len(v) <= smallValue {
		encoder = c.small
	}
	dst := encoder.EncodeAll(v, make([]byte, 0, len(v)/2+64+len(Marker)))
	return append(dst, Marker...), nil
}

// Decode decompresses data written in either form, returns data with no
// marker as it is, and refuses damaged markers. Typed makes its errors
// kv.ErrCorrupt, naming the key.
func (c *codec) Decode(data []byte) ([]byte, error) {
	var frame []byte
	switch {
	case bytes.HasPrefix(data, []byte(LegacyMarker)):
		frame = data[len(LegacyMarker):]
	case bytes.HasPrefix(data, []byte(skippableMagic)):
		return nil, errors.New("zstd: starts with a skippable frame that is not the s3map marker")
	case bytes.HasSuffix(data, []byte(Marker)):
		frame = data[:len(data)-len(Marker)]
	case bytes.HasPrefix(data, []byte(frameMagic)):
		// Ours with a damaged or cut marker or frame, or a zstd stream
		// another program wrote, which is read as it is.
		if nearMarker(data) {
			return nil, errors.New("zstd: the s3map marker after the frame is damaged")
		}
		if c.broken != nil {
			return nil, c.broken
		}
		if _, err := c.decoder.DecodeAll(data, nil); err != nil {
			return nil, fmt.Errorf("zstd: starts as a zstd frame but does not decode: %w", err)
		}
		return data, nil
	default:
		return data, nil
	}
	if c.broken != nil {
		return nil, c.broken
	}
	if len(frame) == 0 {
		// Encode always writes a frame, even for an empty value.
		return nil, errors.New("zstd: no frame with the s3map marker")
	}
	v, err := c.decoder.DecodeAll(frame, nil)
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// nearMarker reports whether data ends in 16 bytes of which at least half
// are those of Marker in place: a marker with some bytes changed, rather
// than the end of a zstd frame another program wrote (which ends in a
// 4-byte checksum or a block, and matches by chance far less often).
func nearMarker(data []byte) bool {
	if len(data) < len(Marker) {
		return false
	}
	tail := data[len(data)-len(Marker):]
	same := 0
	for i := range tail {
		if tail[i] == Marker[i] {
			same++
		}
	}
	return same >= len(Marker)/2
}
