package kv

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// ErrValueTooLarge reports a value over a layer's size limit, such as
// CompressedOptions.MaxValueSize.
var ErrValueTooLarge = errors.New("kv: value too large")

// DefaultCompressedMaxValueSize is the largest value, in bytes, that
// Compressed writes or reads back when CompressedOptions.MaxValueSize is
// zero.
const DefaultCompressedMaxValueSize = 256 << 20

// CompressedOptions tunes Compressed. A nil *CompressedOptions means the
// defaults.
type CompressedOptions struct {
	// Level is a zstd compression level, as the zstd command counts them:
	// 1 (fastest) to 22 (smallest). Zero means 3, zstd's default. The
	// encoder maps levels onto its four speeds (fastest, default, better,
	// best); any level is accepted.
	Level int

	// MaxValueSize is the largest value, in bytes before compression, that
	// Set accepts and that Get decompresses. Zero or less means
	// DefaultCompressedMaxValueSize. A larger value is refused before
	// anything is written (ErrValueTooLarge); a stored frame that would
	// decompress to more is ErrCorrupt, so a hostile value cannot exhaust
	// memory.
	MaxValueSize int
}

// compressedMagic opens every value that Compressed writes: a zstd
// skippable frame (magic 0x184D2A5E, little-endian, then its length) whose
// content marks the value as s3map's. The zstd frame of the value follows,
// so the whole value is also a valid zstd stream that the zstd command
// decompresses.
var compressedMagic = []byte{
	0x5e, 0x2a, 0x4d, 0x18, // skippable frame magic 0x184D2A5E
	8, 0, 0, 0, // content length
	's', '3', 'm', 'a', 'p', '.', 'z', '1', // content: format marker, version 1
}

// Compressed returns a Store[[]byte] that keeps its values in s compressed
// with zstd.
//
// Each value is written as compressedMagic followed by a zstd frame with a
// checksum. A value in s that does not start with compressedMagic is read as
// it is, so values stored before compression was turned on still read as
// they were, and a store may mix both. A value that starts with the marker
// but does not decompress (damaged, or larger than MaxValueSize) is an
// error that errors.Is ErrCorrupt and names the key.
//
// Like Typed, the result has each optional ability of s (Versioned,
// PrefixLister, Batcher); versions are those of s. Keys pass through
// unchanged. It is safe for concurrent use when s is: one encoder and one
// decoder are shared by all goroutines.
func Compressed(s Store[[]byte], opts *CompressedOptions) Store[[]byte] {
	if opts == nil {
		opts = &CompressedOptions{}
	}
	return Typed[[]byte](s, newZstdCodec(opts))
}

// zstdCodec is the Codec of Compressed.
type zstdCodec struct {
	encoder *zstd.Encoder
	decoder *zstd.Decoder
	maxSize int
	broken  error // set when the encoder or decoder could not be made
}

func newZstdCodec(opts *CompressedOptions) *zstdCodec {
	level := opts.Level
	if level == 0 {
		level = 3
	}
	maxSize := opts.MaxValueSize
	if maxSize <= 0 {
		maxSize = DefaultCompressedMaxValueSize
	}
	c := &zstdCodec{maxSize: maxSize}
	var err error
	c.encoder, err = zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
		zstd.WithEncoderCRC(true),
		zstd.WithZeroFrames(true), // an empty value is a full frame too
	)
	if err == nil {
		c.decoder, err = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0), // GOMAXPROCS decodes at once
			zstd.WithDecoderMaxMemory(uint64(maxSize)),
		)
	}
	if err != nil {
		// Not expected with the options above; report it on every call
		// rather than panic.
		c.broken = fmt.Errorf("kv: Compressed: making the zstd coder: %w", err)
	}
	return c
}

// Encode returns compressedMagic and the zstd frame of v.
func (c *zstdCodec) Encode(v []byte) ([]byte, error) {
	if c.broken != nil {
		return nil, c.broken
	}
	if len(v) > c.maxSize {
		return nil, fmt.Errorf("%w: %d bytes is over the limit of %d bytes", ErrValueTooLarge, len(v), c.maxSize)
	}
	dst := make([]byte, len(compressedMagic), len(compressedMagic)+len(v)/2+64)
	copy(dst, compressedMagic)
	return c.encoder.EncodeAll(v, dst), nil
}

// Decode decompresses data when it starts with compressedMagic and returns
// any other data as it is.
func (c *zstdCodec) Decode(data []byte) ([]byte, error) {
	frame, ok := bytes.CutPrefix(data, compressedMagic)
	if !ok {
		return data, nil
	}
	if c.broken != nil {
		return nil, c.broken
	}
	if len(frame) == 0 {
		// Encode always writes a frame, even for an empty value.
		return nil, errors.New("zstd: no frame after the s3map marker")
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
