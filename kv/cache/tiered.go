package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/s3map/s3map/kv"
)

// TieredOptions tunes NewTiered. A nil *TieredOptions means the defaults.
type TieredOptions struct {
	// MaxNearValueSize is the largest value, in bytes, that the near store
	// keeps; larger values are read from and written to the far store
	// only. Zero or less means no limit.
	MaxNearValueSize int
	// Logger receives what the store decides on its own: dropping a near
	// copy that failed verification or did not decode (Warn), or whose key
	// far reports corrupt (Warn) or missing (Debug), or after a write of
	// far whose outcome is unknown (Warn) or that conflicted or failed
	// (Debug); revalidating a near copy with far (Debug); a near store
	// that failed (Debug, or Warn when the key must be distrusted). Nil
	// means silent.
	Logger *slog.Logger
}

// TieredStats counts what a Tiered store did since it was made. See
// Tiered.Stats.
type TieredStats struct {
	// NearHits counts reads (Get, GetVersion, GetIfChanged) whose value
	// came from the near store: served as it was when the far store is
	// not kv.Versioned, or after the far store confirmed its version.
	NearHits uint64
	// FarReads counts reads that moved a value from the far store: the
	// near store had no usable entry, or the far store's value had changed.
	FarReads uint64
	// Revalidations counts the times a read asked the far store whether a
	// version was still current (kv.Versioned.GetIfChanged), whatever the
	// answer.
	Revalidations uint64
	// BytesSaved counts the value bytes that revalidations did not move
	// from the far store because the near store's copy was current.
	BytesSaved uint64
	// NearFailures counts failed operations on the near store and near
	// entries that did not decode. None of them loses a write or returns a
	// stale value; each costs a read of the far store.
	NearFailures uint64
}

// Tiered is a kv.Store[[]byte] made of two stores: near, a cache such as a
// Dir, in front of far, the store of record such as a BucketMap. NewTiered
// makes one.
//
// A Tiered is also a kv.Versioned[[]byte] exactly when its far store is:
// find it by type assertion, as for the other optional abilities. It is
// always a kv.PrefixLister, a kv.Batcher and a kv.KeyChecker.
type Tiered interface {
	kv.Store[[]byte]
	kv.PrefixLister
	kv.KeyChecker
	kv.Batcher[[]byte]
	// Stats returns what the store did since it was made.
	Stats() TieredStats
}

// NewTiered returns a Tiered store that keeps copies of far's values in
// near, so that reads move as few bytes from far as it can tell are
// needed.
//
// # Layering
//
// The usual stack has three layers, each a cache of the next:
//
//	bucket, _ := bucketmap.New(st, storage.Name{Key: "app/"}, nil) // S3
//	dir, _ := kv.NewDir(cacheDir, nil)                             // local disk
//	tier := cache.NewTiered(dir, bucket, nil)
//	memory := cache.New(tier, &cache.Options{TTL: time.Minute})    // memory
//
// The memory Cache answers from memory while an entry is fresh, and then
// revalidates it with GetIfChanged on the Tiered store. That finds the
// version in the Dir and asks S3 whether it is still current: S3 answers
// 304 Not Modified, and no value bytes move from S3 (the Tiered store reads
// its file to learn the version; the Cache keeps its own copy). A process
// that starts with an empty memory reads its values from the disk, each
// confirmed by a 304, instead of downloading them. When far is Versioned,
// the whole stack is, and kv.Update through it is exactly once.
//
// # Reads
//
// Get and GetVersion look in near first. On a miss they read far (with
// GetVersion when far is kv.Versioned) and keep the value and its version in
// near. On a hit, when far is kv.Versioned, they ask far with GetIfChanged
// whether the version kept in near is current: if it is, they return near's
// copy; if not, the new value replaces it. A key missing from far, or
// whose value far reports corrupt (kv.ErrCorrupt), leaves near too.
//
// When far is not kv.Versioned, a near hit is returned without asking far: the
// near copy is then only as fresh as the writes made through this Tiered
// store (a change made to far by anyone else is not seen until the key is
// written or deleted through it, or its near entry removed).
//
// # Writes
//
// Set, Delete and the conditional writes go to far first. Then near is
// updated: after SetIfAbsent and CompareAndSwap, with the new value and the
// version far returned; a conflict (kv.ErrConflict), an unknown outcome
// (kv.ErrOutcomeUnknown) or any other failure drops the entry. Set, when
// far is kv.Versioned and near knows the key's version, writes with
// CompareAndSwap on it, to learn the new version; otherwise, or when that
// does not succeed, it writes with Set, and the near entry is dropped when
// far is kv.Versioned (its version is unknown) and replaced when it is not.
// After a delete the entry is dropped. SetMany and DeleteMany call the kv
// package functions on far and drop the keys' entries; GetMany reads key by
// key through Get. Writes never leave a stale near entry: when near
// fails, the entry is dropped, and if even that fails the key is marked, for
// the life of this Tiered value, as one whose near entry is not to be read.
// A near failure never fails an operation that far completed.
//
// Has, Keys and KeysWithPrefix ask far, which holds every key. CheckKey
// checks keys as far does.
//
// # Near entries
//
// Tiered owns near: it keeps in it, under the same key, an envelope of
// far's version and the value, and nothing else may write there. An
// envelope is, in order:
//
//   - the 4 bytes "KVT\x01" (format 1);
//   - 4 bytes, big-endian: the CRC-32 (Castagnoli) of all that follows;
//   - the length of the version in bytes, as a uvarint (encoding/binary),
//     at most kv.MaxKeyLen;
//   - the version's bytes ("" when far is not kv.Versioned);
//   - the value's bytes, to the end.
//
// A near entry that does not decode (another format, a damaged or cut
// envelope, a checksum that does not match) or that near reports corrupt
// is never returned: it is dropped and the value read from far.
//
// A Tiered store is safe for concurrent use when near and far are.
// Concurrent writes of one key and reads racing with them never leave a
// stale near entry: a read that overlapped a write does not fill near, and
// of two overlapping writes, neither keeps its value in near. NewTiered does
// not take over closing near or far.
func NewTiered(near, far kv.Store[[]byte], opts *TieredOptions) Tiered {
	if opts == nil {
		opts = &TieredOptions{}
	}
	t := &tiered{
		near:         near,
		far:          far,
		maxNearValue: opts.MaxNearValueSize,
		seed:         maphash.MakeSeed(),
		log:          logger{opts.Logger},
	}
	t.versioned, _ = far.(kv.Versioned[[]byte])
	return kv.KeepVersioned[Tiered](far, t, tieredVersioned{t})
}

// tieredStripeCount is how many stripes the keys of a Tiered store are
// spread over for keeping writes and fills of one key apart.
const tieredStripeCount = 64

// tiered is a Tiered store whose far store is not kv.Versioned, and the
// state of tieredVersioned.
type tiered struct {
	near, far    kv.Store[[]byte]
	versioned    kv.Versioned[[]byte] // far, when it is kv.Versioned; else nil
	maxNearValue int
	seed         maphash.Seed
	stripes      [tieredStripeCount]tieredStripe
	log          logger

	nearHits, farReads, revalidations, bytesSaved, nearFailures atomic.Uint64
}

// tieredVersioned is a Tiered store whose far store is kv.Versioned.
type tieredVersioned struct{ *tiered }

// Interface checks.
var (
	_ Tiered               = (*tiered)(nil)
	_ Tiered               = tieredVersioned{}
	_ kv.Versioned[[]byte] = tieredVersioned{}
)

// tieredStripe keeps the writes and fills of the keys that hash to it
// from leaving a stale near entry, as Cache does for its entries.
type tieredStripe struct {
	// nearMu is held while a near entry of the stripe's keys is written or
	// dropped after a read or write of far, and while deciding whether to.
	nearMu sync.Mutex

	writeTracker // writes under way, for keeping fills and writes from racing

	mu        sync.Mutex          // guards untrusted
	untrusted map[string]struct{} // keys whose near entry may be stale
}

// stripe returns the stripe of key.
func (t *tiered) stripe(key string) *tieredStripe {
	return &t.stripes[maphash.String(t.seed, key)%tieredStripeCount]
}

// trusted reports whether key's near entry may be read.
func (s *tieredStripe) trusted(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, bad := s.untrusted[key]
	return !bad
}

// setTrusted records whether key's near entry may be read.
func (s *tieredStripe) setTrusted(key string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		delete(s.untrusted, key)
		return
	}
	if s.untrusted == nil {
		s.untrusted = map[string]struct{}{}
	}
	s.untrusted[key] = struct{}{}
}

// The envelope of a near entry; see NewTiered.
const (
	tieredMagic      = "KVT\x01"
	tieredHeaderSize = len(tieredMagic) + 4
)

var tieredCRCTable = crc32.MakeTable(crc32.Castagnoli)

// errTieredEnvelope reports a near entry that does not decode.
var errTieredEnvelope = errors.New("not a Tiered envelope")

// encodeTiered returns the envelope of version and value.
func encodeTiered(version kv.Version, value []byte) []byte {
	buf := make([]byte, tieredHeaderSize, tieredHeaderSize+binary.MaxVarintLen64+len(version)+len(value))
	copy(buf, tieredMagic)
	buf = binary.AppendUvarint(buf, uint64(len(version)))
	buf = append(buf, version...)
	buf = append(buf, value...)
	binary.BigEndian.PutUint32(buf[len(tieredMagic):], crc32.Checksum(buf[tieredHeaderSize:], tieredCRCTable))
	return buf
}

// decodeTiered returns the version and value in envelope data; the value
// shares data's memory.
func decodeTiered(data []byte) (kv.Version, []byte, error) {
	if len(data) < tieredHeaderSize || string(data[:len(tieredMagic)]) != tieredMagic {
		return "", nil, fmt.Errorf("%w: no header", errTieredEnvelope)
	}
	body := data[tieredHeaderSize:]
	if binary.BigEndian.Uint32(data[len(tieredMagic):]) != crc32.Checksum(body, tieredCRCTable) {
		return "", nil, fmt.Errorf("%w: checksum mismatch", errTieredEnvelope)
	}
	n, size := binary.Uvarint(body)
	if size <= 0 || n > kv.MaxKeyLen || n > uint64(len(body)-size) {
		return "", nil, fmt.Errorf("%w: bad version length", errTieredEnvelope)
	}
	body = body[size:]
	return kv.Version(body[:n]), body[n:], nil
}

// nearFits reports whether value and version may be kept in near.
func (t *tiered) nearFits(version kv.Version, value []byte) bool {
	return len(version) <= kv.MaxKeyLen && (t.maxNearValue <= 0 || len(value) <= t.maxNearValue)
}

// CheckKey checks key as the far store does.
func (t *tiered) CheckKey(key string) error {
	if checker, ok := t.far.(kv.KeyChecker); ok {
		return checker.CheckKey(key)
	}
	return kv.CheckKey("", key)
}

// check checks key, as far would, and then ctx: the one check of a call,
// made before near is read, since near may accept keys far refuses.
func (t *tiered) check(ctx context.Context, key string) error {
	if err := t.CheckKey(key); err != nil {
		return err
	}
	return ctx.Err()
}

// nearLoad returns key's near entry. hit is false when there is none that
// may be read; only ctx's error is returned as an error.
func (t *tiered) nearLoad(ctx context.Context, s *tieredStripe, key string) (version kv.Version, value []byte, hit bool, err error) {
	if !s.trusted(key) {
		return "", nil, false, nil
	}
	data, err := t.near.Get(ctx, key)
	switch {
	case err == nil:
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return "", nil, false, err
	case errors.Is(err, kv.ErrNotFound):
		return "", nil, false, nil
	case errors.Is(err, kv.ErrCorrupt):
		t.nearFailures.Add(1)
		t.log.log(ctx, slog.LevelWarn, "kv/cache: tiered: dropped a near copy that failed verification", key, slog.Any("error", err))
		t.nearDrop(ctx, key) // never kept: it failed verification
		return "", nil, false, nil
	default:
		t.nearFailures.Add(1)
		t.log.log(ctx, slog.LevelDebug, "kv/cache: tiered: the near store failed; reading far", key, slog.Any("error", err))
		return "", nil, false, nil
	}
	version, value, err = decodeTiered(data)
	if err != nil {
		t.nearFailures.Add(1)
		t.log.log(ctx, slog.LevelWarn, "kv/cache: tiered: dropped a near copy that did not decode", key, slog.Any("error", err))
		t.nearDrop(ctx, key)
		return "", nil, false, nil
	}
	return version, value, true, nil
}

// nearDrop removes key's near entry, when doing so cannot make it stale:
// after a read found it useless. A failure only costs a later read.
func (t *tiered) nearDrop(ctx context.Context, key string) {
	if err := t.near.Delete(context.WithoutCancel(ctx), key); err != nil {
		t.nearFailures.Add(1)
	}
}

// fill keeps value and version, just read from far, in near, unless a
// write of key began since the read did (tk).
func (t *tiered) fill(ctx context.Context, s *tieredStripe, tk fillTicket, key string, version kv.Version, value []byte, hadEntry bool) {
	if !t.nearFits(version, value) {
		if hadEntry {
			t.nearDrop(ctx, key)
		}
		return
	}
	s.nearMu.Lock()
	defer s.nearMu.Unlock()
	if !s.fillAllowed(tk) {
		return
	}
	if err := t.near.Set(context.WithoutCancel(ctx), key, encodeTiered(version, value)); err != nil {
		t.nearFailures.Add(1)
		return // the entry is as it was: absent, or marked untrusted
	}
	s.setTrusted(key, true)
}

// nearAfterWrite brings key's near entry up to date after a write of far
// (tk) that ended: it keeps value and version when keep is true and no
// other write of key overlapped, and otherwise drops the entry. If near
// fails to do either, the key is marked untrusted.
func (t *tiered) nearAfterWrite(ctx context.Context, s *tieredStripe, tk writeTicket, key string, keep bool, version kv.Version, value []byte) {
	ctx = context.WithoutCancel(ctx) // far has changed: near must follow
	s.nearMu.Lock()
	defer s.nearMu.Unlock()
	if keep && t.nearFits(version, value) && !s.overlapped(tk) {
		if err := t.near.Set(ctx, key, encodeTiered(version, value)); err == nil {
			s.setTrusted(key, true)
			return
		}
		t.nearFailures.Add(1)
	}
	if err := t.near.Delete(ctx, key); err != nil {
		t.nearFailures.Add(1)
		t.log.log(ctx, slog.LevelWarn, "kv/cache: tiered: the near store failed to drop an entry after a write; its copy is distrusted", key, slog.Any("error", err))
		s.setTrusted(key, false)
		return
	}
	s.setTrusted(key, true) // no entry: nothing stale to read
}

// Get returns the value under key: near's copy when it is current (see
// NewTiered), and otherwise far's, which it then keeps in near.
func (t *tiered) Get(ctx context.Context, key string) ([]byte, error) {
	if err := t.check(ctx, key); err != nil {
		return nil, err
	}
	v, _, err := t.read(ctx, key)
	return v, err
}

// read returns the value and version under key; see Get.
func (t *tiered) read(ctx context.Context, key string) ([]byte, kv.Version, error) {
	s := t.stripe(key)
	tk := s.fillStart()
	version, value, hit, err := t.nearLoad(ctx, s, key)
	if err != nil {
		return nil, "", err
	}
	if hit && t.versioned == nil {
		t.nearHits.Add(1)
		return value, version, nil
	}
	if hit && version != "" {
		t.revalidations.Add(1)
		v, newVersion, changed, err := t.versioned.GetIfChanged(ctx, key, version)
		t.logRevalidated(ctx, key, changed, err)
		switch {
		case err != nil:
			if farHasNoValue(err) {
				t.log.readFailed(ctx, "kv/cache: tiered", key, err)
				t.nearDrop(ctx, key)
			}
			return nil, "", err
		case !changed:
			t.nearHits.Add(1)
			t.bytesSaved.Add(uint64(len(value)))
			return value, version, nil
		}
		t.farReads.Add(1)
		t.fill(ctx, s, tk, key, newVersion, v, true)
		return v, newVersion, nil
	}
	var v []byte
	if t.versioned != nil {
		v, version, err = t.versioned.GetVersion(ctx, key)
	} else {
		v, err = t.far.Get(ctx, key)
		version = ""
	}
	if err != nil {
		if hit && farHasNoValue(err) {
			t.log.readFailed(ctx, "kv/cache: tiered", key, err)
			t.nearDrop(ctx, key)
		}
		return nil, "", err
	}
	t.farReads.Add(1)
	t.fill(ctx, s, tk, key, version, v, hit)
	return v, version, nil
}

// farHasNoValue reports whether a read of far says it holds no usable
// value: the key is missing, or its value failed verification.
func farHasNoValue(err error) bool {
	return errors.Is(err, kv.ErrNotFound) || errors.Is(err, kv.ErrCorrupt)
}

// Set stores v under key in far, and then in near (see NewTiered). With a
// Versioned far and a near entry that knows its version, it writes with
// CompareAndSwap on that version to learn the new one, and falls back to
// Set when that does not succeed.
func (t *tiered) Set(ctx context.Context, key string, v []byte) error {
	if err := t.check(ctx, key); err != nil {
		return err
	}
	s := t.stripe(key)
	tk := s.writeStart()
	defer s.writeEnd()
	var version kv.Version
	err := errors.ErrUnsupported
	if t.versioned != nil {
		if known, _, hit, _ := t.nearLoad(ctx, s, key); hit && known != "" {
			version, err = t.versioned.CompareAndSwap(ctx, key, known, v)
		}
	}
	if err != nil {
		// Whatever that write did, writing v unconditionally leaves v.
		version = ""
		err = t.far.Set(ctx, key, v)
	}
	// With a Versioned far, an entry without its version could only be
	// read again in full, so it is dropped. Without one, it is the value.
	keep := err == nil && (t.versioned == nil || version != "")
	t.nearAfterWrite(ctx, s, tk, key, keep, version, v)
	return err
}

// Has reports whether key has a value in far.
func (t *tiered) Has(ctx context.Context, key string) (bool, error) {
	if err := t.check(ctx, key); err != nil {
		return false, err
	}
	return t.far.Has(ctx, key)
}

// Delete removes key from far and then from near.
func (t *tiered) Delete(ctx context.Context, key string) error {
	if err := t.check(ctx, key); err != nil {
		return err
	}
	s := t.stripe(key)
	tk := s.writeStart()
	defer s.writeEnd()
	err := t.far.Delete(ctx, key)
	t.nearAfterWrite(ctx, s, tk, key, false, "", nil)
	return err
}

// Keys yields the keys of far.
func (t *tiered) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	return t.far.Keys(ctx)
}

// KeysWithPrefix yields the keys of far that start with prefix: from its
// KeysWithPrefix when it is a kv.PrefixLister, and otherwise by filtering its
// Keys.
func (t *tiered) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	return kv.KeysWithPrefix(ctx, t.far, prefix)
}

// GetMany returns the values of keys, each through Get, so that every
// value is served from near or kept in it (kv.GetMany's fallback).
func (t *tiered) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	return kv.GetMany(ctx, singles(t), keys)
}

// SetMany stores every item in far with kv.SetMany, and then drops the
// items' near entries.
func (t *tiered) SetMany(ctx context.Context, items map[string][]byte) error {
	keys := make([]string, 0, len(items))
	for key := range items {
		keys = append(keys, key)
	}
	return t.writeMany(ctx, keys, func() error { return kv.SetMany(ctx, t.far, items) })
}

// DeleteMany deletes keys from far with kv.DeleteMany, and then from near.
func (t *tiered) DeleteMany(ctx context.Context, keys []string) error {
	return t.writeMany(ctx, keys, func() error { return kv.DeleteMany(ctx, t.far, keys) })
}

// writeMany runs write, a batch write of far, as a write of every key, and
// then drops the keys' near entries.
func (t *tiered) writeMany(ctx context.Context, keys []string, write func() error) error {
	tickets := make([]writeTicket, len(keys))
	for i, key := range keys {
		tickets[i] = t.stripe(key).writeStart()
	}
	err := write()
	for i, key := range keys {
		s := t.stripe(key)
		if t.CheckKey(key) == nil { // an invalid key has no near entry
			t.nearAfterWrite(ctx, s, tickets[i], key, false, "", nil)
		}
		s.writeEnd()
	}
	return err
}

// Stats returns what the store did since it was made.
func (t *tiered) Stats() TieredStats {
	return TieredStats{
		NearHits:      t.nearHits.Load(),
		FarReads:      t.farReads.Load(),
		Revalidations: t.revalidations.Load(),
		BytesSaved:    t.bytesSaved.Load(),
		NearFailures:  t.nearFailures.Load(),
	}
}

// GetVersion returns the value under key and its version in far: near's
// copy when far confirms its version, and otherwise far's value, which it
// then keeps in near.
func (t tieredVersioned) GetVersion(ctx context.Context, key string) ([]byte, kv.Version, error) {
	if err := t.check(ctx, key); err != nil {
		return nil, "", err
	}
	return t.read(ctx, key)
}

// GetIfChanged returns the value and version of key unless its version is
// still known. When near holds known and far confirms it, changed is false
// and no value moves from far. When near holds another version that far
// confirms, near's copy is returned. Otherwise far's answer is returned,
// and a new value is kept in near.
func (t tieredVersioned) GetIfChanged(ctx context.Context, key string, known kv.Version) ([]byte, kv.Version, bool, error) {
	if err := t.check(ctx, key); err != nil {
		return nil, "", false, err
	}
	s := t.stripe(key)
	tk := s.fillStart()
	version, value, hit, err := t.nearLoad(ctx, s, key)
	if err != nil {
		return nil, "", false, err
	}
	hit = hit && version != ""
	ask := known
	if hit {
		ask = version
	}
	if ask == "" {
		v, version, err := t.read(ctx, key)
		return v, version, err == nil, err
	}
	t.revalidations.Add(1)
	v, newVersion, changed, err := t.versioned.GetIfChanged(ctx, key, ask)
	t.logRevalidated(ctx, key, changed, err)
	switch {
	case err != nil:
		if hit && farHasNoValue(err) {
			t.log.readFailed(ctx, "kv/cache: tiered", key, err)
			t.nearDrop(ctx, key)
		}
		return nil, "", false, err
	case !changed && hit:
		t.nearHits.Add(1)
		t.bytesSaved.Add(uint64(len(value)))
		if version == known {
			return nil, known, false, nil
		}
		return value, version, true, nil
	case !changed:
		return nil, known, false, nil
	}
	t.farReads.Add(1)
	t.fill(ctx, s, tk, key, newVersion, v, hit)
	return v, newVersion, true, nil
}

// SetIfAbsent stores v under key in far if key has no value there, and
// then keeps v and its new version in near.
func (t tieredVersioned) SetIfAbsent(ctx context.Context, key string, v []byte) (kv.Version, error) {
	if err := t.check(ctx, key); err != nil {
		return "", err
	}
	s := t.stripe(key)
	tk := s.writeStart()
	defer s.writeEnd()
	version, err := t.versioned.SetIfAbsent(ctx, key, v)
	t.afterVersionedWrite(ctx, s, tk, key, err, true, version, v)
	return version, err
}

// CompareAndSwap stores v under key in far if key's version there is old,
// and then keeps v and its new version in near.
func (t tieredVersioned) CompareAndSwap(ctx context.Context, key string, old kv.Version, v []byte) (kv.Version, error) {
	if err := t.check(ctx, key); err != nil {
		return "", err
	}
	s := t.stripe(key)
	tk := s.writeStart()
	defer s.writeEnd()
	version, err := t.versioned.CompareAndSwap(ctx, key, old, v)
	t.afterVersionedWrite(ctx, s, tk, key, err, true, version, v)
	return version, err
}

// CompareAndDelete deletes key from far if its version there is old, and
// then from near.
func (t tieredVersioned) CompareAndDelete(ctx context.Context, key string, old kv.Version) error {
	if err := t.check(ctx, key); err != nil {
		return err
	}
	s := t.stripe(key)
	tk := s.writeStart()
	defer s.writeEnd()
	err := t.versioned.CompareAndDelete(ctx, key, old)
	t.afterVersionedWrite(ctx, s, tk, key, err, false, "", nil)
	return err
}

// afterVersionedWrite updates near after a conditional write of far that
// returned err: on success it keeps v with the version far returned; a
// conflict, an unknown outcome or any other failure drops the entry.
func (t tieredVersioned) afterVersionedWrite(ctx context.Context, s *tieredStripe, tk writeTicket, key string, err error, keep bool, version kv.Version, v []byte) {
	t.log.writeFailed(ctx, "kv/cache: tiered", key, err)
	t.nearAfterWrite(ctx, s, tk, key, err == nil && keep && version != "", version, v)
}

// logRevalidated logs a revalidation of a near copy with far that got an
// answer.
func (t *tiered) logRevalidated(ctx context.Context, key string, changed bool, err error) {
	if err == nil {
		t.log.log(ctx, slog.LevelDebug, "kv/cache: tiered: revalidated a near copy", key, slog.Bool("changed", changed))
	}
}
