package zstd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"

	kzstd "github.com/klauspost/compress/zstd"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
	"github.com/s3map/s3map/kv/zstd"
)

func TestCompressedConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
		return zstd.New(kv.NewMemory[[]byte](), nil)
	}, &kvtest.Options{
		FailingKeys: func(t *testing.T) kv.Store[[]byte] {
			return zstd.New(layerFailingKeys{kv.NewMemory[[]byte]()}, nil)
		},
	})
}

// compressible returns n bytes of text that compresses well.
func compressible(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d: the quick brown fox jumps over the lazy dog\n", i%100)
	}
	return b.Bytes()[:n]
}

// TestCompressedStoresZstd checks the stored form: smaller than the value,
// and a zstd stream (skippable marker frame, then the value's frame) that
// any zstd decoder reads back.
func TestCompressedStoresZstd(t *testing.T) {
	ctx := t.Context()
	raw := kv.NewMemory[[]byte]()
	s := zstd.New(raw, nil)
	for _, size := range []int{0, 1, 100, 64 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			value := compressible(size)
			if err := s.Set(ctx, "k", value); err != nil {
				t.Fatal(err)
			}
			stored, err := raw.Get(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if size >= 100 && len(stored) >= len(value) {
				t.Errorf("stored %d bytes for a compressible value of %d", len(stored), len(value))
			}
			dec, err := kzstd.NewReader(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			plain, err := dec.DecodeAll(stored, nil)
			if err != nil {
				t.Fatalf("stored value is not a zstd stream: %v", err)
			}
			if !bytes.Equal(plain, value) {
				t.Errorf("a plain zstd decoder read %d bytes; want the %d of the value", len(plain), len(value))
			}
			got, err := s.Get(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, value) {
				t.Errorf("Get = %d bytes; want the %d set", len(got), len(value))
			}
		})
	}
}

// TestCompressedReadsRawValues: values stored before compression was turned
// on, including ones that are zstd frames themselves, read as they were.
func TestCompressedReadsRawValues(t *testing.T) {
	ctx := t.Context()
	enc, err := kzstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	raws := map[string][]byte{
		"text":       []byte("plain old value"),
		"empty":      {},
		"zstd frame": enc.EncodeAll([]byte("already compressed by someone"), nil),
		"binary":     {0x5e, 0x2a, 0x4d, 0x17, 0, 0, 0, 0},
		"marker end": []byte(zstd.Marker[4:]),
	}
	raw := kv.NewMemory[[]byte]()
	for key, value := range raws {
		if err := raw.Set(ctx, key, value); err != nil {
			t.Fatal(err)
		}
	}
	s := zstd.New(raw, nil)
	for key, want := range raws {
		got, err := s.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Get(%q) = %q; want %q as stored", key, got, want)
		}
	}
}

// marked returns the stored form of value, as Compressed writes it.
func marked(t *testing.T, value []byte) []byte {
	t.Helper()
	raw := kv.NewMemory[[]byte]()
	if err := zstd.New(raw, nil).Set(t.Context(), "k", value); err != nil {
		t.Fatal(err)
	}
	stored, err := raw.Get(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func TestCompressedCorrupt(t *testing.T) {
	good := marked(t, compressible(10_000))
	flipped := bytes.Clone(good)
	flipped[len(flipped)-30] ^= 0xff
	badMagic := bytes.Clone(good)
	badMagic[0] ^= 0xff
	badMarker := bytes.Clone(good)
	badMarker[len(badMarker)-3] ^= 0xff
	badMarkerMagic := bytes.Clone(good)
	badMarkerMagic[len(badMarkerMagic)-16] ^= 0xff
	legacy := legacyForm(t, compressible(10_000))
	legacyFirstByte := bytes.Clone(legacy)
	legacyFirstByte[len(zstd.LegacyMarker)-1] ^= 0xff // the marker's last byte
	tests := map[string][]byte{
		"truncated":              good[:len(good)-len(zstd.Marker)-5],
		"cut marker":             good[:len(good)-5],
		"flipped bit":            flipped,
		"frame magic changed":    badMagic,
		"marker changed":         badMarker,
		"marker magic changed":   badMarkerMagic,
		"garbage frame":          append([]byte("not a zstd frame at all"), zstd.Marker...),
		"marker only":            []byte(zstd.Marker),
		"legacy truncated":       legacy[:len(legacy)-5],
		"legacy marker changed":  legacyFirstByte,
		"legacy marker only":     []byte(zstd.LegacyMarker),
		"skippable magic, other": {0x5e, 0x2a, 0x4d, 0x18, 0, 0, 0, 0},
	}
	for name, stored := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			raw := kv.NewMemory[[]byte]()
			if err := raw.Set(ctx, "broken/key", stored); err != nil {
				t.Fatal(err)
			}
			_, err := zstd.New(raw, nil).Get(ctx, "broken/key")
			if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), `"broken/key"`) {
				t.Errorf("Get error = %v; want ErrCorrupt naming the key", err)
			}
		})
	}
}

// legacyForm returns value as s3map wrote it before Marker: LegacyMarker,
// then the zstd frame.
func legacyForm(t *testing.T, value []byte) []byte {
	t.Helper()
	enc, err := kzstd.NewWriter(nil, kzstd.WithEncoderCRC(true), kzstd.WithZeroFrames(true))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(value, []byte(zstd.LegacyMarker))
}

// TestCompressedReadsLegacyForm: values written in the old form (marker
// first) still read.
func TestCompressedReadsLegacyForm(t *testing.T) {
	ctx := t.Context()
	raw := kv.NewMemory[[]byte]()
	for _, value := range [][]byte{{}, []byte("x"), compressible(50_000)} {
		if err := raw.Set(ctx, "k", legacyForm(t, value)); err != nil {
			t.Fatal(err)
		}
		got, err := zstd.New(raw, nil).Get(ctx, "k")
		if err != nil || !bytes.Equal(got, value) {
			t.Errorf("Get of a legacy value of %d bytes = %d bytes, %v", len(value), len(got), err)
		}
	}
}

// TestCompressedOneShotReadable: the stored form starts with the value's
// zstd frame, complete on its own (a decoder given only that first frame
// returns the value, and the frame header carries the content size that
// one-shot decoders such as python-zstandard's decompress() need), and
// Marker follows it.
func TestCompressedOneShotReadable(t *testing.T) {
	dec, err := kzstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for _, size := range []int{0, 1, 100, 64 << 10, 1 << 20} {
		value := compressible(size)
		stored := marked(t, value)
		first := firstFrame(t, dec, stored)
		got, err := dec.DecodeAll(first, nil)
		if err != nil || !bytes.Equal(got, value) {
			t.Errorf("%d bytes: the first frame alone decodes to %d bytes, %v; want the value", size, len(got), err)
		}
		if rest := stored[len(first):]; string(rest) != zstd.Marker {
			t.Errorf("%d bytes: after the first frame come %q; want exactly Marker", size, rest)
		}
		var h kzstd.Header
		if err := h.Decode(stored); err != nil || h.Skippable || !h.HasFCS || h.FrameContentSize != uint64(size) {
			t.Errorf("%d bytes: first frame header %+v, %v; want a data frame stating content size %d", size, h, err, size)
		}
	}
}

// firstFrame returns the shortest prefix of data that decodes on its own:
// the first zstd frame, found without knowing where s3map put the marker.
func firstFrame(t *testing.T, dec *kzstd.Decoder, data []byte) []byte {
	t.Helper()
	for n := 1; n <= len(data); n++ {
		if _, err := dec.DecodeAll(data[:n], nil); err == nil {
			return data[:n]
		}
	}
	t.Fatal("no prefix of the stored value decodes")
	return nil
}

// TestCompressedBoundsMemory: a small stored value that would decompress to
// more than MaxValueSize is refused, not decompressed.
func TestCompressedBoundsMemory(t *testing.T) {
	ctx := t.Context()
	bomb := marked(t, make([]byte, 8<<20)) // 8 MiB of zeros
	if len(bomb) > 4096 {
		t.Fatalf("zeros compressed to %d bytes; expected a small bomb", len(bomb))
	}
	raw := kv.NewMemory[[]byte]()
	if err := raw.Set(ctx, "bomb", bomb); err != nil {
		t.Fatal(err)
	}
	limited := zstd.New(raw, &zstd.Options{MaxValueSize: 1 << 20})
	if _, err := limited.Get(ctx, "bomb"); !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("Get of a value over MaxValueSize: error = %v; want ErrCorrupt", err)
	}
	// Under the default limit it reads back.
	got, err := zstd.New(raw, nil).Get(ctx, "bomb")
	if err != nil || len(got) != 8<<20 {
		t.Errorf("Get under the default limit = %d bytes, %v; want %d bytes", len(got), err, 8<<20)
	}

	// Set refuses such a value before writing.
	err = limited.Set(ctx, "big", make([]byte, 1<<20+1))
	if !errors.Is(err, kv.ErrValueTooLarge) {
		t.Errorf("Set over MaxValueSize: error = %v; want ErrValueTooLarge", err)
	}
	if ok, err := raw.Has(ctx, "big"); err != nil || ok {
		t.Errorf("Has(big) = %v, %v after a refused Set; want false, nil", ok, err)
	}
	if err := limited.Set(ctx, "max", make([]byte, 1<<20)); err != nil {
		t.Errorf("Set of exactly MaxValueSize: %v", err)
	}
}

func TestCompressedLevels(t *testing.T) {
	value := compressible(256 << 10)
	sizes := map[int]int{}
	for _, level := range []int{-5, 0, 1, 3, 9, 19, 22, 100} {
		ctx := t.Context()
		raw := kv.NewMemory[[]byte]()
		s := zstd.New(raw, &zstd.Options{Level: level})
		if err := s.Set(ctx, "k", value); err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		got, err := s.Get(ctx, "k")
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("level %d: Get = %d bytes, %v", level, len(got), err)
		}
		stored, _ := raw.Get(ctx, "k")
		sizes[level] = len(stored)
	}
	if sizes[19] > sizes[1] {
		t.Errorf("level 19 stored %d bytes, more than level 1's %d", sizes[19], sizes[1])
	}
}

func TestCompressedVersionsPassThrough(t *testing.T) {
	ctx := t.Context()
	raw := kv.NewMemory[[]byte]()
	s := zstd.New(raw, nil).(kv.Versioned[[]byte])
	version, err := s.SetIfAbsent(ctx, "k", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	_, rawVersion, err := raw.GetVersion(ctx, "k")
	if err != nil || rawVersion != version {
		t.Errorf("version %q; the store underneath says %q (%v)", version, rawVersion, err)
	}
	v, got, changed, err := s.GetIfChanged(ctx, "k", version)
	if err != nil || changed || v != nil || got != version {
		t.Errorf("GetIfChanged(current) = %q, %q, %v, %v; want nil, %q, false, nil", v, got, changed, err, version)
	}
	if _, err := raw.CompareAndSwap(ctx, "k", version, []byte("raw two")); err != nil {
		t.Fatal(err)
	}
	v, _, changed, err = s.GetIfChanged(ctx, "k", version)
	if err != nil || !changed || string(v) != "raw two" {
		t.Errorf("GetIfChanged(old) = %q, %v, %v; want \"raw two\", true, nil", v, changed, err)
	}
}

func BenchmarkCompressedGet(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			ctx := b.Context()
			raw := kv.NewMemory[[]byte]()
			s := zstd.New(raw, nil)
			value := compressible(size)
			if err := s.Set(ctx, "k", value); err != nil {
				b.Fatal(err)
			}
			stored, _ := raw.Get(ctx, "k")
			b.ReportMetric(float64(len(stored))/float64(len(value)), "ratio")
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Get(ctx, "k"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkCompressedSet(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			ctx := b.Context()
			s := zstd.New(kv.NewMemory[[]byte](), nil)
			value := compressible(size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Set(ctx, "k", value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// errLayerListing is the failure of layerFailingKeys' listings.
var errLayerListing = errors.New("listing failed on purpose")

// layerFailingKeys is a store whose listings fail after yielding nothing.
type layerFailingKeys struct{ kv.Store[[]byte] }

func (layerFailingKeys) Keys(context.Context) (iter.Seq[string], func() error) {
	return func(func(string) bool) {}, func() error { return errLayerListing }
}
