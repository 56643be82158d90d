package cache_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/kv/kvtest"
)

func TestTieredConformance(t *testing.T) {
	nearMemory := func(t *testing.T) kv.Store[[]byte] { return kv.NewMemory[[]byte]() }
	nearDir := func(t *testing.T) kv.Store[[]byte] {
		d, _ := newTestDir(t, &kv.DirOptions{NoSync: true})
		return d
	}
	farVersioned := func() kv.Store[[]byte] { return kv.NewMemory[[]byte]() }
	farPlain := func() kv.Store[[]byte] { return layerPlain{kv.NewMemory[[]byte]()} }
	variants := map[string]struct {
		near func(t *testing.T) kv.Store[[]byte]
		far  func() kv.Store[[]byte]
	}{
		"MemoryOverMemory":      {nearMemory, farVersioned},
		"DirOverMemory":         {nearDir, farVersioned},
		"MemoryOverPlainMemory": {nearMemory, farPlain},
		"DirOverPlainMemory":    {nearDir, farPlain},
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
				return cache.NewTiered(v.near(t), v.far(), nil)
			}, &kvtest.Options{
				FailingKeys: func(t *testing.T) kv.Store[[]byte] {
					return cache.NewTiered(v.near(t), layerFailingKeys{v.far()}, nil)
				},
			})
		})
	}
}

// countingFar is a Versioned far store that counts its reads and the
// value bytes they return.
type countingFar struct {
	*kv.Memory[[]byte]
	gets, getVersions, getIfChangeds, valueBytes atomic.Uint64
}

func newCountingFar() *countingFar { return &countingFar{Memory: kv.NewMemory[[]byte]()} }

// farCounts is what a countingFar counted.
type farCounts struct {
	Gets, GetVersions, GetIfChangeds, ValueBytes uint64
}

func (f *countingFar) counts() farCounts {
	return farCounts{f.gets.Load(), f.getVersions.Load(), f.getIfChangeds.Load(), f.valueBytes.Load()}
}

func (f *countingFar) Get(ctx context.Context, key string) ([]byte, error) {
	f.gets.Add(1)
	v, err := f.Memory.Get(ctx, key)
	f.valueBytes.Add(uint64(len(v)))
	return v, err
}

func (f *countingFar) GetVersion(ctx context.Context, key string) ([]byte, kv.Version, error) {
	f.getVersions.Add(1)
	v, version, err := f.Memory.GetVersion(ctx, key)
	f.valueBytes.Add(uint64(len(v)))
	return v, version, err
}

func (f *countingFar) GetIfChanged(ctx context.Context, key string, known kv.Version) ([]byte, kv.Version, bool, error) {
	f.getIfChangeds.Add(1)
	v, version, changed, err := f.Memory.GetIfChanged(ctx, key, known)
	f.valueBytes.Add(uint64(len(v)))
	return v, version, changed, err
}

// errNearBroken is the failure of a failingNear.
var errNearBroken = errors.New("near store broken on purpose")

// failingNear is a near store whose reads, writes and deletes fail on
// demand.
type failingNear struct {
	*kv.Memory[[]byte]
	failGet, failSet, failDelete atomic.Bool
}

func newFailingNear() *failingNear { return &failingNear{Memory: kv.NewMemory[[]byte]()} }

func (n *failingNear) Get(ctx context.Context, key string) ([]byte, error) {
	if n.failGet.Load() {
		return nil, errNearBroken
	}
	return n.Memory.Get(ctx, key)
}

func (n *failingNear) Set(ctx context.Context, key string, v []byte) error {
	if n.failSet.Load() {
		return errNearBroken
	}
	return n.Memory.Set(ctx, key, v)
}

func (n *failingNear) Delete(ctx context.Context, key string) error {
	if n.failDelete.Load() {
		return errNearBroken
	}
	return n.Memory.Delete(ctx, key)
}

// mustGet returns s's value of key, failing the test on an error.
func mustGet(t *testing.T, s kv.Store[[]byte], key string) string {
	t.Helper()
	v, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(v)
}

// mustSet sets key in s, failing the test on an error.
func mustSet(t *testing.T, s kv.Store[[]byte], key, value string) {
	t.Helper()
	if err := s.Set(t.Context(), key, []byte(value)); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func TestTieredAbilities(t *testing.T) {
	tests := []struct {
		name string
		far  kv.Store[[]byte]
		want []string
	}{
		{"Versioned", kv.NewMemory[[]byte](), []string{"Versioned", "Batcher", "PrefixLister", "KeyChecker"}},
		{"Plain", layerPlain{kv.NewMemory[[]byte]()}, []string{"Batcher", "PrefixLister", "KeyChecker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := cache.NewTiered(kv.NewMemory[[]byte](), tt.far, nil)
			var got []string
			if _, ok := s.(kv.Versioned[[]byte]); ok {
				got = append(got, "Versioned")
			}
			if _, ok := s.(kv.Batcher[[]byte]); ok {
				got = append(got, "Batcher")
			}
			if _, ok := s.(kv.PrefixLister); ok {
				got = append(got, "PrefixLister")
			}
			if _, ok := s.(kv.KeyChecker); ok {
				got = append(got, "KeyChecker")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("abilities (-want +got):\n%s", diff)
			}
		})
	}
}

// A second read of a key that has not changed moves no value bytes from
// far: far answers GetIfChanged with "unchanged" and the near copy is
// returned.
func TestTieredSecondReadMovesNoValueBytes(t *testing.T) {
	far := newCountingFar()
	d, _ := newTestDir(t, &kv.DirOptions{NoSync: true})
	s := cache.NewTiered(d, far, nil)
	mustSet(t, far, "k", "0123456789")

	if got := mustGet(t, s, "k"); got != "0123456789" {
		t.Fatalf("first Get = %q", got)
	}
	first := far.counts()
	if diff := cmp.Diff(farCounts{GetVersions: 1, ValueBytes: 10}, first); diff != "" {
		t.Errorf("far after the first read (-want +got):\n%s", diff)
	}
	if got := mustGet(t, s, "k"); got != "0123456789" {
		t.Fatalf("second Get = %q", got)
	}
	if diff := cmp.Diff(farCounts{GetVersions: 1, GetIfChangeds: 1, ValueBytes: 10}, far.counts()); diff != "" {
		t.Errorf("far after the second read (-want +got):\n%s", diff)
	}
	want := cache.TieredStats{NearHits: 1, FarReads: 1, Revalidations: 1, BytesSaved: 10}
	if diff := cmp.Diff(want, s.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

// A change made directly to a Versioned far is seen on the next read.
func TestTieredSeesChangesToVersionedFar(t *testing.T) {
	far := newCountingFar()
	s := cache.NewTiered(kv.NewMemory[[]byte](), far, nil)
	mustSet(t, s, "k", "old")
	if got := mustGet(t, s, "k"); got != "old" {
		t.Fatalf("Get = %q, want old", got)
	}
	mustSet(t, far.Memory, "k", "new!")
	if got := mustGet(t, s, "k"); got != "new!" {
		t.Fatalf("Get after far changed = %q, want new!", got)
	}
	if got := mustGet(t, s, "k"); got != "new!" {
		t.Fatalf("Get again = %q, want new!", got)
	}
	// Three reads: the first (Set learned no version) and the second (far
	// changed) move the value; the third is confirmed with no bytes.
	if diff := cmp.Diff(farCounts{GetVersions: 1, GetIfChangeds: 2, ValueBytes: 3 + 4}, far.counts()); diff != "" {
		t.Errorf("far (-want +got):\n%s", diff)
	}
	// Deleted from far directly: the next read says so and drops near.
	if err := far.Delete(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get after far deleted = %v, want ErrNotFound", err)
	}
}

// With a far store that is not Versioned, a near hit is served as it is:
// as fresh as the writes made through the Tiered store, as documented.
func TestTieredPlainFarServesNear(t *testing.T) {
	far := newCountingFar()
	s := cache.NewTiered(kv.NewMemory[[]byte](), layerPlain{far}, nil)
	mustSet(t, s, "k", "through")
	mustSet(t, far.Memory, "k", "behind its back")
	if got := mustGet(t, s, "k"); got != "through" {
		t.Errorf("Get = %q, want the value written through Tiered", got)
	}
	if diff := cmp.Diff(farCounts{}, far.counts()); diff != "" {
		t.Errorf("far was read (-want +got):\n%s", diff)
	}
	mustSet(t, s, "k", "again")
	if got := mustGet(t, s, "k"); got != "again" {
		t.Errorf("Get = %q, want again", got)
	}
	if err := s.Delete(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
}

// The near entry is the documented envelope.
func TestTieredEnvelope(t *testing.T) {
	far := kv.NewMemory[[]byte]()
	near := kv.NewMemory[[]byte]()
	s := cache.NewTiered(near, far, nil)
	mustSet(t, far, "k", "value")
	_, version, err := far.GetVersion(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "k")
	got, err := near.Get(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	body := append(binary.AppendUvarint(nil, uint64(len(version))), version...)
	body = append(body, "value"...)
	want := binary.BigEndian.AppendUint32([]byte("KVT\x01"), crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	want = append(want, body...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("near entry (-want +got):\n%s", diff)
	}
}

// A near entry that does not decode is dropped and the value read from
// far; it is never returned.
func TestTieredCorruptNearEntry(t *testing.T) {
	good := func(value string) []byte {
		near := kv.NewMemory[[]byte]()
		far := kv.NewMemory[[]byte]()
		if _, err := far.SetIfAbsent(t.Context(), "k", []byte(value)); err != nil {
			t.Fatal(err)
		}
		mustGet(t, cache.NewTiered(near, far, nil), "k")
		v, _ := near.Get(t.Context(), "k")
		return v
	}
	envelope := good("far value")
	flipped := bytes.Clone(envelope)
	flipped[len(flipped)-1] ^= 1
	hugeVersion := []byte("KVT\x01\x00\x00\x00\x00\xff\xff\x03")
	binary.BigEndian.PutUint32(hugeVersion[4:], crc32.Checksum(hugeVersion[8:], crc32.MakeTable(crc32.Castagnoli)))
	tests := []struct {
		name  string
		entry []byte
	}{
		{"Empty", nil},
		{"PlainValue", []byte("far value")},
		{"OtherFormat", append([]byte("KVT\x02"), envelope[4:]...)},
		{"FlippedBit", flipped},
		{"Cut", envelope[:len(envelope)-1]},
		{"HeaderOnly", envelope[:8]},
		{"VersionLongerThanEntry", hugeVersion},
	}
	for _, tt := range tests {
		for _, plain := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/plain=%v", tt.name, plain), func(t *testing.T) {
				near := kv.NewMemory[[]byte]()
				far := newCountingFar()
				var farStore kv.Store[[]byte] = far
				if plain {
					farStore = layerPlain{far}
				}
				s := cache.NewTiered(near, farStore, nil)
				mustSet(t, far.Memory, "k", "far value")
				mustSet(t, near, "k", string(tt.entry))
				if got := mustGet(t, s, "k"); got != "far value" {
					t.Fatalf("Get = %q, want far value", got)
				}
				if got := far.counts().ValueBytes; got != uint64(len("far value")) {
					t.Errorf("far moved %d value bytes, want %d", got, len("far value"))
				}
				if got := s.Stats().NearFailures; got != 1 {
					t.Errorf("NearFailures = %d, want 1", got)
				}
				// The refetched value replaced the bad entry: the next read
				// is a near hit.
				mustGet(t, s, "k")
				if got := s.Stats().NearHits; got != 1 {
					t.Errorf("NearHits after a second read = %d, want 1", got)
				}
			})
		}
	}
}

// Near failures never lose a write nor return a stale value.
func TestTieredNearFailures(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain=%v", plain), func(t *testing.T) {
			ctx := t.Context()
			near := newFailingNear()
			far := kv.NewMemory[[]byte]()
			var farStore kv.Store[[]byte] = far
			if plain {
				farStore = layerPlain{far}
			}
			s := cache.NewTiered(near, farStore, nil)
			mustSet(t, s, "k", "v1")
			mustGet(t, s, "k") // near holds v1

			// Near refuses the new value and even its removal: the write
			// still succeeds, and the stale near entry is never read.
			near.failSet.Store(true)
			near.failDelete.Store(true)
			mustSet(t, s, "k", "v2")
			if got := mustGet(t, far, "k"); got != "v2" {
				t.Fatalf("far holds %q, want v2", got)
			}
			if got := mustGet(t, s, "k"); got != "v2" {
				t.Errorf("Get = %q, want v2", got)
			}
			if err := s.Delete(ctx, "k"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := s.Get(ctx, "k"); !errors.Is(err, kv.ErrNotFound) {
				t.Errorf("Get after Delete = %v, want ErrNotFound", err)
			}
			if ok, err := s.Has(ctx, "k"); ok || err != nil {
				t.Errorf("Has after Delete = %v, %v; want false, nil", ok, err)
			}
			if s.Stats().NearFailures == 0 {
				t.Error("NearFailures = 0 after failures")
			}

			// Near recovers: the next write and read use it again.
			near.failSet.Store(false)
			near.failDelete.Store(false)
			mustSet(t, s, "k", "v3")
			if got := mustGet(t, s, "k"); got != "v3" {
				t.Errorf("Get = %q, want v3", got)
			}
			before := s.Stats().NearHits
			if got := mustGet(t, s, "k"); got != "v3" {
				t.Errorf("Get = %q, want v3", got)
			}
			if s.Stats().NearHits != before+1 {
				t.Errorf("the read after recovery was not a near hit: %+v", s.Stats())
			}

			// A near that cannot be read sends reads to far.
			near.failGet.Store(true)
			mustSet(t, far, "k", "v4")
			if got := mustGet(t, s, "k"); got != "v4" {
				t.Errorf("Get with near unreadable = %q, want v4", got)
			}
		})
	}
}

func TestTieredGetIfChanged(t *testing.T) {
	ctx := t.Context()
	far := newCountingFar()
	near := kv.NewMemory[[]byte]()
	tiered := cache.NewTiered(near, far, nil)
	s := tiered.(kv.Versioned[[]byte])
	version, err := s.SetIfAbsent(ctx, "k", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}

	// near holds known and far confirms it: unchanged, no bytes moved.
	v, got, changed, err := s.GetIfChanged(ctx, "k", version)
	if err != nil || changed || v != nil || got != version {
		t.Errorf("GetIfChanged(current) = %q, %q, %v, %v; want nil, %q, false, nil", v, got, changed, err, version)
	}
	// The caller knows an older version: near's copy is returned, still
	// without moving bytes from far.
	v, got, changed, err = s.GetIfChanged(ctx, "k", "older")
	if err != nil || !changed || string(v) != "hello" || got != version {
		t.Errorf("GetIfChanged(older) = %q, %q, %v, %v; want hello, %q, true, nil", v, got, changed, err, version)
	}
	if diff := cmp.Diff(farCounts{GetIfChangeds: 2}, far.counts()); diff != "" {
		t.Errorf("far (-want +got):\n%s", diff)
	}

	// far changed behind its back: the new value, kept in near.
	newVersion, err := far.CompareAndSwap(ctx, "k", version, []byte("world"))
	if err != nil {
		t.Fatal(err)
	}
	v, got, changed, err = s.GetIfChanged(ctx, "k", version)
	if err != nil || !changed || string(v) != "world" || got != newVersion {
		t.Errorf("GetIfChanged after change = %q, %q, %v, %v; want world, %q, true, nil", v, got, changed, err, newVersion)
	}
	entry, _ := near.Get(ctx, "k")
	if !bytes.HasSuffix(entry, []byte("world")) {
		t.Errorf("near entry %q does not hold the new value", entry)
	}

	// CompareAndDelete drops the near entry too.
	if err := s.CompareAndDelete(ctx, "k", newVersion); err != nil {
		t.Fatal(err)
	}
	if ok, _ := near.Has(ctx, "k"); ok {
		t.Error("near still holds a deleted key")
	}
	if _, _, _, err := s.GetIfChanged(ctx, "k", newVersion); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("GetIfChanged of a deleted key = %v, want ErrNotFound", err)
	}
}

// A memory Cache over a Tiered store revalidates expired entries through
// it, and no value bytes move from far.
func TestTieredUnderCache(t *testing.T) {
	now := time.Unix(0, 0)
	far := newCountingFar()
	d, _ := newTestDir(t, &kv.DirOptions{NoSync: true})
	tier := cache.NewTiered(d, far, nil)
	memory := cache.New(tier, &cache.Options{TTL: time.Second, Now: func() time.Time { return now }})
	mustSet(t, far.Memory, "k", "0123456789")

	mustGet(t, memory, "k") // read in full, kept in memory and on disk
	now = now.Add(2 * time.Second)
	mustGet(t, memory, "k") // revalidated: memory → disk → far
	if diff := cmp.Diff(farCounts{GetVersions: 1, GetIfChangeds: 1, ValueBytes: 10}, far.counts()); diff != "" {
		t.Errorf("far (-want +got):\n%s", diff)
	}
	if got := memory.Stats(); got.Revalidations != 1 || got.BytesSaved != 10 {
		t.Errorf("memory Stats = %+v, want 1 revalidation saving 10 bytes", got)
	}
	if diff := cmp.Diff(cache.TieredStats{NearHits: 1, FarReads: 1, Revalidations: 1, BytesSaved: 10}, tier.Stats()); diff != "" {
		t.Errorf("tier Stats (-want +got):\n%s", diff)
	}
}

// Values larger than MaxNearValueSize stay out of near.
func TestTieredMaxNearValueSize(t *testing.T) {
	near := kv.NewMemory[[]byte]()
	s := cache.NewTiered(near, layerPlain{kv.NewMemory[[]byte]()}, &cache.TieredOptions{MaxNearValueSize: 4})
	mustSet(t, s, "small", "1234")
	mustSet(t, s, "large", "12345")
	var got []string
	keys, errf := near.Keys(t.Context())
	for k := range keys {
		got = append(got, k)
	}
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"small"}, got); diff != "" {
		t.Errorf("near keys (-want +got):\n%s", diff)
	}
	if v := mustGet(t, s, "large"); v != "12345" {
		t.Errorf("Get(large) = %q", v)
	}
}

// Writers and readers of the same keys at once never leave a stale near
// entry: once they are done, every read returns far's value.
func TestTieredConcurrentWritesLeaveNoStaleEntry(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain=%v", plain), func(t *testing.T) {
			var far kv.Store[[]byte] = kv.NewMemory[[]byte]()
			if plain {
				far = layerPlain{far}
			}
			s := cache.NewTiered(kv.NewMemory[[]byte](), far, nil)
			keys := []string{"a", "b", "c"}
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := range 200 {
						key := keys[(w+i)%len(keys)]
						switch i % 4 {
						case 0:
							_ = s.Set(t.Context(), key, []byte(fmt.Sprint(w, i)))
						case 1:
							_ = s.Delete(t.Context(), key)
						default:
							_, _ = s.Get(t.Context(), key)
						}
					}
				})
			}
			wg.Wait()
			for _, key := range keys {
				want, wantErr := far.Get(t.Context(), key)
				got, err := s.Get(t.Context(), key)
				if string(got) != string(want) || (err == nil) != (wantErr == nil) {
					t.Errorf("Get(%q) = %q, %v; far holds %q, %v", key, got, err, want, wantErr)
				}
			}
		})
	}
}

// newTestDir returns a Dir in a fresh temporary directory, closed when the
// test ends.
func newTestDir(t *testing.T, opts *kv.DirOptions) (*kv.Dir, string) {
	t.Helper()
	dirPath := filepath.Join(t.TempDir(), "store")
	d, err := kv.NewDir(dirPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, dirPath
}

// TestTieredWritesLearnVersions: after SetIfAbsent, CompareAndSwap, Set
// (on a known version) and kv.Update through a Tiered store, the next read
// is confirmed by far with GetIfChanged and moves no value bytes.
func TestTieredWritesLearnVersions(t *testing.T) {
	ctx := t.Context()
	far := newCountingFar()
	d, _ := newTestDir(t, &kv.DirOptions{NoSync: true})
	s := cache.NewTiered(d, far, nil)
	v := s.(kv.Versioned[[]byte])
	confirmed := func(want string) {
		t.Helper()
		before := far.counts()
		if got := mustGet(t, s, "k"); got != want {
			t.Fatalf("Get = %q; want %q", got, want)
		}
		after := far.counts()
		if after.ValueBytes != before.ValueBytes || after.GetIfChangeds != before.GetIfChangeds+1 {
			t.Errorf("read after a write: far counts went from %+v to %+v; want one GetIfChanged moving no value", before, after)
		}
	}
	version, err := v.SetIfAbsent(ctx, "k", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	confirmed("a")
	if _, err := v.CompareAndSwap(ctx, "k", version, []byte("b")); err != nil {
		t.Fatal(err)
	}
	confirmed("b")
	if err := s.Set(ctx, "k", []byte("c")); err != nil {
		t.Fatal(err)
	}
	confirmed("c")
	if err := kv.Update(ctx, s, "k", func(old []byte, _ bool) ([]byte, error) { return append(old, 'd'), nil }); err != nil {
		t.Fatal(err)
	}
	confirmed("cd")
}

// lostReplyFar applies every CompareAndSwap and then reports fail, as a
// far store whose reply was lost does.
type lostReplyFar struct {
	*kv.Memory[[]byte]
	fail error
}

func (f *lostReplyFar) CompareAndSwap(ctx context.Context, key string, old kv.Version, v []byte) (kv.Version, error) {
	version, err := f.Memory.CompareAndSwap(ctx, key, old, v)
	if err == nil && f.fail != nil {
		return "", f.fail
	}
	return version, err
}

// TestTieredDropsNearOnConflictAndUnknownOutcome: after a conditional
// write that conflicts or whose outcome is unknown, near holds no entry
// for the key (a stale copy would otherwise be served when far is not
// asked, or cost a full read).
func TestTieredDropsNearOnConflictAndUnknownOutcome(t *testing.T) {
	for name, farErr := range map[string]error{"conflict": kv.ErrConflict, "unknown": kv.ErrOutcomeUnknown} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			far := &lostReplyFar{Memory: kv.NewMemory[[]byte]()}
			near := kv.NewMemory[[]byte]()
			s := cache.NewTiered(near, far, nil).(kv.Versioned[[]byte])
			version, err := s.SetIfAbsent(ctx, "k", []byte("mine"))
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := near.Has(ctx, "k"); !ok {
				t.Fatal("near holds no entry after a successful SetIfAbsent")
			}
			far.fail = farErr
			if _, err := s.CompareAndSwap(ctx, "k", version, []byte("next")); !errors.Is(err, farErr) {
				t.Fatalf("CompareAndSwap = %v; want %v", err, farErr)
			}
			if ok, _ := near.Has(ctx, "k"); ok {
				t.Error("near still holds an entry after a write whose outcome was not success")
			}
			far.fail = nil
			if got := mustGet(t, s, "k"); got != "next" {
				t.Errorf("Get = %q; want far's %q", got, "next")
			}
		})
	}
}

// corruptFar reports ErrCorrupt for every read while corrupt is set.
type corruptFar struct {
	*kv.Memory[[]byte]
	corrupt bool
}

func (f *corruptFar) GetIfChanged(ctx context.Context, key string, known kv.Version) ([]byte, kv.Version, bool, error) {
	if f.corrupt {
		return nil, "", false, kv.ErrCorrupt
	}
	return f.Memory.GetIfChanged(ctx, key, known)
}

func (f *corruptFar) GetVersion(ctx context.Context, key string) ([]byte, kv.Version, error) {
	if f.corrupt {
		return nil, "", kv.ErrCorrupt
	}
	return f.Memory.GetVersion(ctx, key)
}

// TestTieredNeverKeepsCorrupt: when far reports a key's value corrupt,
// the near copy is dropped; a near entry that near itself reports corrupt
// is dropped too, and the value read from far.
func TestTieredNeverKeepsCorrupt(t *testing.T) {
	ctx := t.Context()
	far := &corruptFar{Memory: kv.NewMemory[[]byte]()}
	near := kv.NewMemory[[]byte]()
	s := cache.NewTiered(near, far, nil)
	mustSet(t, s, "k", "good")
	mustGet(t, s, "k")
	if ok, _ := near.Has(ctx, "k"); !ok {
		t.Fatal("near holds no entry after a read")
	}
	far.corrupt = true
	if _, err := s.Get(ctx, "k"); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("Get = %v; want ErrCorrupt", err)
	}
	if ok, _ := near.Has(ctx, "k"); ok {
		t.Error("near keeps its copy of a key far reports corrupt")
	}
}
