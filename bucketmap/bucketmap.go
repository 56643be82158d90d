package bucketmap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/storage"
)

// BucketMap is the map view of the objects under one key prefix of one
// bucket: key k is the object prefix+k. It implements kv.Store[[]byte],
// kv.Versioned[[]byte] (versions are ETags), kv.Batcher[[]byte] and
// kv.PrefixLister. It is safe for concurrent use.
type BucketMap struct {
	st     *storage.Storage
	bucket string
	prefix string
	opts   Options
	err    error // set by Sub for an invalid prefix: every call returns it
}

// Options tune a BucketMap. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// Concurrency bounds the values All fetches ahead. Default
	// kv.BatchConcurrency; at most MaxConcurrency. (GetMany and SetMany
	// do not read it: they run kv.BatchConcurrency requests at once.)
	Concurrency int
}

// MaxConcurrency is the largest Options.Concurrency: All holds up to that
// many values in memory at once.
const MaxConcurrency = 1024

func (o *Options) validate() error {
	if o != nil && o.Concurrency > MaxConcurrency {
		return fmt.Errorf("bucketmap: Options.Concurrency %d is over the maximum of %d: %w", o.Concurrency, MaxConcurrency, storage.ErrInvalidConfig)
	}
	return nil
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Concurrency <= 0 {
		r.Concurrency = kv.BatchConcurrency
	}
	return r
}

var (
	_ kv.Store[[]byte]     = (*BucketMap)(nil)
	_ kv.Versioned[[]byte] = (*BucketMap)(nil)
	_ kv.Batcher[[]byte]   = (*BucketMap)(nil)
	_ kv.PrefixLister      = (*BucketMap)(nil)
	_ kv.KeyChecker        = (*BucketMap)(nil)
)

// New returns the map over root's bucket (the Storage's default bucket when
// empty) and key prefix root.Key ("" for the whole bucket; usually ending
// in "/"). It sends no request.
func New(st *storage.Storage, root storage.Name, opts *Options) (*BucketMap, error) {
	if st == nil {
		return nil, errors.New("bucketmap: nil *storage.Storage")
	}
	if root.Bucket == "" {
		root.Bucket = st.DefaultBucket()
		if root.Bucket == "" {
			return nil, fmt.Errorf("bucketmap: %w", storage.ErrNoBucket)
		}
	}
	if err := storage.CheckBucket(root.Bucket); err != nil {
		return nil, fmt.Errorf("bucketmap: %w", err)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := checkPrefix(root.Key); err != nil {
		return nil, fmt.Errorf("bucketmap: %w", err)
	}
	return &BucketMap{st: st, bucket: root.Bucket, prefix: root.Key, opts: opts.withDefaults()}, nil
}

// Open reads the YAML config at configPath (see storage.LoadConfig),
// connects, and returns the map over prefix in the default bucket. A prefix
// of the form "s3://bucket/prefix" names the bucket too.
func Open(ctx context.Context, configPath, prefix string) (*BucketMap, error) {
	cfg, err := storage.LoadConfig(configPath)
	if err != nil {
		return nil, err
	}
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	root := storage.Name{Key: prefix}
	if strings.HasPrefix(prefix, "s3://") {
		if root, err = storage.ParseName(prefix); err != nil {
			return nil, fmt.Errorf("bucketmap: %w", err)
		}
	}
	return New(st, root, nil)
}

// Sub returns the map over the keys of m that start with prefix: key k of
// the result is key prefix+k of m. It sends no request; an invalid prefix
// (see Keys in the package doc: a ".", ".." or empty path segment
// included) makes every call of the result fail with kv.ErrInvalidKey.
func (m *BucketMap) Sub(prefix string) *BucketMap {
	sub := *m
	sub.prefix = m.prefix + prefix
	if sub.err == nil {
		if err := checkPrefix(sub.prefix); err != nil {
			sub.err = fmt.Errorf("bucketmap: Sub(%q): %w", prefix, err)
		}
	}
	return &sub
}

// Bucket returns the map's bucket.
func (m *BucketMap) Bucket() string { return m.bucket }

// Prefix returns the map's key prefix within the bucket.
func (m *BucketMap) Prefix() string { return m.prefix }

// Storage returns the Storage the map uses.
func (m *BucketMap) Storage() *storage.Storage { return m.st }

// name returns the object name of key, or an error wrapping
// kv.ErrInvalidKey for a key S3 cannot hold under the prefix.
func (m *BucketMap) name(op, key string) (storage.Name, error) {
	if m.err != nil {
		return storage.Name{}, m.err
	}
	if err := kv.CheckKey(m.prefix, key); err != nil {
		return storage.Name{}, fmt.Errorf("bucketmap: %s: %w", op, err)
	}
	// storage's own rules too (no control characters), without I/O.
	n := storage.Name{Bucket: m.bucket, Key: m.prefix + key}
	if err := storage.CheckKey(n.Key); err != nil {
		return storage.Name{}, fmt.Errorf("bucketmap: %s: %w", op, &kindError{kv.ErrInvalidKey, err})
	}
	if why := badSegment(n.Key, true); why != "" {
		return storage.Name{}, fmt.Errorf("bucketmap: %s: %w: object name %q %s", op, kv.ErrInvalidKey, n.Key, why)
	}
	return n, nil
}

// checkPrefix applies kv.CheckPrefix and refuses a prefix whose complete
// path segments (all but the last, which a key may continue) hold ".",
// ".." or an empty one: no key under it could be written.
func checkPrefix(prefix string) error {
	if err := kv.CheckPrefix(prefix); err != nil {
		return err
	}
	if why := badSegment(prefix, false); why != "" {
		return fmt.Errorf("%w: prefix %q %s", kv.ErrInvalidKey, prefix, why)
	}
	return nil
}

// badSegment says why the object name (or, when !whole, the start of one)
// cannot be written as it is: a "." or ".." path segment, or an empty one
// ("//", or a leading "/"). Servers that keep objects as files resolve or
// refuse them: versitygw writes "a/../b" as "b" (out of a sub-map's
// prefix) and "/a" as "a", MinIO refuses the first with a 400 after the
// request is sent and strips the leading "/". A trailing "/" is allowed.
// It returns "" for a name it accepts.
func badSegment(name string, whole bool) string {
	segs := strings.Split(name, "/")
	last := len(segs) - 1
	if !whole {
		segs = segs[:last] // the last one may go on in a key
	}
	for i, seg := range segs {
		switch {
		case seg == "." || seg == "..":
			return fmt.Sprintf("holds a %q path segment, which S3 servers that keep objects as files resolve (writing another object) or refuse", seg)
		case seg == "" && i == 0 && last > 0:
			return "starts with \"/\", which S3 servers that keep objects as files drop"
		case seg == "" && i > 0 && i < last:
			return "holds an empty path segment (\"//\"), which S3 servers that keep objects as files collapse or refuse"
		}
	}
	return ""
}

// CheckKey returns an error that errors.Is kv.ErrInvalidKey when the map's
// methods would refuse key (see Keys in the package doc), without any I/O.
func (m *BucketMap) CheckKey(key string) error {
	_, err := m.name("CheckKey", key)
	return err
}

// kindError gives a storage error the kv kind it stands for, keeping its
// message and its chain (so errors.Is finds both kv's sentinel and
// storage's, and errors.As the SDK's error).
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

// wrapErr maps a storage error to its kv kind: a missing object (not a
// missing bucket) is kv.ErrNotFound, a refused name kv.ErrInvalidKey, a
// failed condition kv.ErrConflict, a body that failed verification
// kv.ErrCorrupt, a conditional write of unknown outcome
// kv.ErrOutcomeUnknown.
func wrapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrOutcomeUnknown):
		// Before ErrPreconditionFailed: an unknown outcome is never a
		// conflict.
		return &kindError{kv.ErrOutcomeUnknown, err}
	case errors.Is(err, storage.ErrCorrupt):
		return &kindError{kv.ErrCorrupt, err}
	case errors.Is(err, storage.ErrPreconditionFailed):
		// Before ErrNotFound: a conditional write on a missing key is
		// a failed condition, whatever status the server chose.
		return &kindError{kv.ErrConflict, err}
	case errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrBucketNotFound):
		return &kindError{kv.ErrNotFound, err}
	case errors.Is(err, storage.ErrInvalidName):
		return &kindError{kv.ErrInvalidKey, err}
	}
	return err
}

// Get returns the value of key. A missing key is an error that errors.Is
// both kv.ErrNotFound and storage.ErrNotFound. The caller owns the bytes.
func (m *BucketMap) Get(ctx context.Context, key string) ([]byte, error) {
	v, _, err := m.GetVersion(ctx, key)
	return v, err
}

// GetVersion returns the value of key and its version (the ETag).
func (m *BucketMap) GetVersion(ctx context.Context, key string) ([]byte, kv.Version, error) {
	v, ver, _, err := m.get(ctx, "Get", key, "")
	return v, ver, err
}

// GetIfChanged returns the value and version of key unless its version is
// still known; then changed is false and no value moved (a 304).
func (m *BucketMap) GetIfChanged(ctx context.Context, key string, known kv.Version) ([]byte, kv.Version, bool, error) {
	return m.get(ctx, "GetIfChanged", key, known)
}

func (m *BucketMap) get(ctx context.Context, op, key string, known kv.Version) ([]byte, kv.Version, bool, error) {
	n, err := m.name(op, key)
	if err != nil {
		return nil, "", false, err
	}
	for attempt := 1; ; attempt++ {
		v, version, changed, err := m.getOnce(ctx, op, n, known)
		// A body cut by the network is resumed by storage, pinned to the
		// version first seen; if the object changed in between, the
		// resume fails with ErrPreconditionFailed. A whole value is read
		// again from the start: the new version is as good an answer, and
		// it is no conflict of the caller's.
		if err == nil || !errors.Is(err, errChangedWhileReading) || ctx.Err() != nil || attempt >= maxChangedReads {
			return v, version, changed, err
		}
	}
}

// maxChangedReads bounds how often get reads a value again because it
// changed while a resumed read was under way.
const maxChangedReads = 3

// errChangedWhileReading marks a read that failed because the object
// changed while storage resumed its body.
var errChangedWhileReading = errors.New("the value changed while it was read")

func (m *BucketMap) getOnce(ctx context.Context, op string, n storage.Name, known kv.Version) ([]byte, kv.Version, bool, error) {
	r, err := m.st.Get(ctx, n, &storage.GetOptions{IfNoneMatch: string(known)})
	if errors.Is(err, storage.ErrNotModified) {
		return nil, known, false, nil
	}
	if err != nil {
		return nil, "", false, wrapErr(err)
	}
	defer r.Close()
	// The value is read into a buffer of its announced length, with one
	// byte more for the read that reaches the end: r verifies the body
	// there, and returns io.EOF only if it passed.
	buf := make([]byte, max(r.Length, 0)+1)
	got, err := io.ReadFull(r, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		err = nil // the end, verified
	case err == nil:
		err = fmt.Errorf("%w: body longer than the %d bytes announced", storage.ErrCorrupt, r.Length)
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = ctx.Err()
		case errors.Is(err, storage.ErrCorrupt):
			err = &kindError{kv.ErrCorrupt, err}
		case errors.Is(err, storage.ErrPreconditionFailed):
			// Not kv.ErrConflict: the caller set no condition.
			err = fmt.Errorf("%w: %w", errChangedWhileReading, err)
		}
		return nil, "", false, fmt.Errorf("bucketmap: %s %s: reading: %w", op, n, err)
	}
	return buf[:got], kv.Version(r.Info.ETag), true, nil
}

// Set stores value under key. Set keeps no reference to value.
func (m *BucketMap) Set(ctx context.Context, key string, value []byte) error {
	_, err := m.put(ctx, "Set", key, value, nil)
	return err
}

func (m *BucketMap) put(ctx context.Context, op, key string, value []byte, opts *storage.PutOptions) (kv.Version, error) {
	n, err := m.name(op, key)
	if err != nil {
		return "", err
	}
	info, err := m.st.Put(ctx, n, bytes.NewReader(value), opts)
	if err != nil {
		return "", wrapErr(err)
	}
	return kv.Version(info.ETag), nil
}

// SetIfAbsent stores value only if key has no value (If-None-Match: *) and
// returns the new version; otherwise it returns an error that errors.Is
// kv.ErrConflict and storage.ErrPreconditionFailed.
func (m *BucketMap) SetIfAbsent(ctx context.Context, key string, value []byte) (kv.Version, error) {
	return m.put(ctx, "SetIfAbsent", key, value, &storage.PutOptions{IfNoneMatch: "*"})
}

// CompareAndSwap stores value only if key's version (ETag) is still old
// (If-Match) and returns the new version; otherwise, a missing key
// included, it returns an error that errors.Is kv.ErrConflict.
func (m *BucketMap) CompareAndSwap(ctx context.Context, key string, old kv.Version, value []byte) (kv.Version, error) {
	if old == "" {
		return "", fmt.Errorf("bucketmap: CompareAndSwap %q: %w: empty version", key, kv.ErrConflict)
	}
	return m.put(ctx, "CompareAndSwap", key, value, &storage.PutOptions{IfMatch: string(old)})
}

// CompareAndDelete deletes key only if its version is still old; otherwise
// it returns an error that errors.Is kv.ErrConflict. It needs the server to
// honour If-Match on DELETE: see storage.Storage.DeleteIf (MinIO does not).
func (m *BucketMap) CompareAndDelete(ctx context.Context, key string, old kv.Version) error {
	n, err := m.name("CompareAndDelete", key)
	if err != nil {
		return err
	}
	if old == "" {
		return fmt.Errorf("bucketmap: CompareAndDelete %q: %w: empty version", key, kv.ErrConflict)
	}
	return wrapErr(m.st.DeleteIf(ctx, n, string(old)))
}

// Has reports whether key has a value. A missing key is (false, nil); a
// 403 or a missing bucket is an error.
func (m *BucketMap) Has(ctx context.Context, key string) (bool, error) {
	n, err := m.name("Has", key)
	if err != nil {
		return false, err
	}
	ok, _, err := m.st.Exists(ctx, n)
	return ok, wrapErr(err)
}

// Delete removes key. A missing key is not an error.
func (m *BucketMap) Delete(ctx context.Context, key string) error {
	n, err := m.name("Delete", key)
	if err != nil {
		return err
	}
	return wrapErr(m.st.Delete(ctx, n))
}

// Keys yields the map's keys (prefix stripped) in S3's byte-wise order, a
// page of 1000 at a time, so memory does not grow with the number of keys.
// The error function reports the first failure once the loop is over;
// breaking out early is safe. Each range lists afresh.
func (m *BucketMap) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	return m.KeysWithPrefix(ctx, "")
}

// KeysWithPrefix yields the map's keys that start with prefix, in full,
// with one S3 listing under the map's prefix plus prefix.
func (m *BucketMap) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	infos, errf := m.list(ctx, prefix)
	return func(yield func(string) bool) {
		for info := range infos {
			if !yield(info.Name.Key[len(m.prefix):]) {
				return
			}
		}
	}, errf
}

// list lists the objects under the map's prefix plus prefix, leaving out
// the object named by the map's prefix itself: it is not a key of the map
// (the empty key), as in kv.WithPrefix.
func (m *BucketMap) list(ctx context.Context, prefix string) (iter.Seq[storage.Info], func() error) {
	infos, errf := m.listAll(ctx, prefix)
	return func(yield func(storage.Info) bool) {
		for info := range infos {
			if info.Name.Key == m.prefix {
				continue
			}
			if !yield(info) {
				return
			}
		}
	}, errf
}

// listAll lists every object under the map's prefix plus prefix.
func (m *BucketMap) listAll(ctx context.Context, prefix string) (iter.Seq[storage.Info], func() error) {
	err := m.err
	if err == nil {
		if err = kv.CheckPrefix(m.prefix + prefix); err != nil {
			err = fmt.Errorf("bucketmap: Keys: %w", err)
		}
	}
	if err != nil {
		return func(func(storage.Info) bool) {}, func() error { return err }
	}
	seq, errf := m.st.List(ctx, m.bucket, m.prefix+prefix, nil)
	return seq, func() error { return wrapErr(errf()) }
}

// Len counts the keys (one listing).
func (m *BucketMap) Len(ctx context.Context) (int, error) {
	n := 0
	seq, errf := m.list(ctx, "")
	for range seq {
		n++
	}
	return n, errf()
}

// Clear deletes every key of the map, with DeleteObjects requests of up to
// 1000 keys, as it lists them: the listing goes on while the keys listed
// are deleted (see storage.Storage.DeleteMany). Keys that fail are
// reported in a *storage.BatchError. A listing that names an object
// outside the map's prefix (a reply damaged on the way) ends before that
// object with an error that errors.Is kv.ErrCorrupt (storage.List checks
// every name): Clear never deletes outside the prefix.
func (m *BucketMap) Clear(ctx context.Context) error {
	seq, errf := m.list(ctx, "")
	err := m.st.DeleteMany(ctx, m.bucket, func(yield func(string) bool) {
		for info := range seq {
			if !yield(info.Name.Key) {
				return
			}
		}
	})
	return errors.Join(wrapErr(err), errf())
}

// Stat returns the info of key's object: size, ETag, content type,
// metadata.
func (m *BucketMap) Stat(ctx context.Context, key string) (storage.Info, error) {
	n, err := m.name("Stat", key)
	if err != nil {
		return storage.Info{}, err
	}
	info, err := m.st.Stat(ctx, n)
	return info, wrapErr(err)
}

// Metadata returns the user metadata of key's object.
func (m *BucketMap) Metadata(ctx context.Context, key string) (storage.Metadata, error) {
	info, err := m.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	return info.Metadata, nil
}

// UpdateMetadata replaces the user metadata of key's object with the
// x-amz-meta-* headers in h; the value and standard headers stay (see
// storage.Storage.UpdateMetadata).
func (m *BucketMap) UpdateMetadata(ctx context.Context, key string, h storage.Headers) error {
	n, err := m.name("UpdateMetadata", key)
	if err != nil {
		return err
	}
	return wrapErr(m.st.UpdateMetadata(ctx, n, h))
}

// Copy copies srcKey's object to dstKey on the server, metadata and
// standard headers included.
func (m *BucketMap) Copy(ctx context.Context, srcKey, dstKey string) error {
	src, err := m.name("Copy", srcKey)
	if err != nil {
		return err
	}
	dst, err := m.name("Copy", dstKey)
	if err != nil {
		return err
	}
	return wrapErr(m.st.Copy(ctx, src, dst, nil))
}

// Rename moves oldKey's object to newKey: a server-side copy, then a
// delete of oldKey. It is not atomic: a failure between the two leaves
// both keys, never neither.
func (m *BucketMap) Rename(ctx context.Context, oldKey, newKey string) error {
	if err := m.Copy(ctx, oldKey, newKey); err != nil {
		return err
	}
	if oldKey == newKey {
		return nil
	}
	return m.Delete(ctx, oldKey)
}

// NewReader opens key's value for streaming, for values too large to hold
// in memory. The caller must Close it. Reader.Info has the size, ETag and
// metadata.
func (m *BucketMap) NewReader(ctx context.Context, key string) (*storage.Reader, error) {
	n, err := m.name("NewReader", key)
	if err != nil {
		return nil, err
	}
	r, err := m.st.Get(ctx, n, nil)
	return r, wrapErr(err)
}

// SetFrom stores the bytes of r under key, streaming them (large values go
// up in parts; memory stays bounded). opts may add headers or conditions.
func (m *BucketMap) SetFrom(ctx context.Context, key string, r io.Reader, opts *storage.PutOptions) (storage.Info, error) {
	n, err := m.name("SetFrom", key)
	if err != nil {
		return storage.Info{}, err
	}
	info, err := m.st.Put(ctx, n, r, opts)
	return info, wrapErr(err)
}

// NewWriter returns a writer whose bytes become key's value, uploaded by
// storage.Storage.NewWriter (bounded memory, no parts left behind). The
// value is stored when Close returns nil; Close reports the upload's
// error. Cancel ctx (or call CloseWithError) to abandon it: nothing is
// stored and no parts are left behind. Close or CloseWithError must be
// called.
func (m *BucketMap) NewWriter(ctx context.Context, key string, opts *storage.PutOptions) (*Writer, error) {
	n, err := m.name("NewWriter", key)
	if err != nil {
		return nil, err
	}
	return &Writer{w: m.st.NewWriter(ctx, n, opts)}, nil
}

// Writer streams a value into a key; see BucketMap.NewWriter. Its errors
// are the map's (kv kinds), as Set's are.
type Writer struct {
	w *storage.Writer
}

// Write sends p to the upload.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	return n, wrapErr(err)
}

// Close ends the value and waits for the upload: nil means it is stored.
func (w *Writer) Close() error { return wrapErr(w.w.Close()) }

// CloseWithError abandons the upload; nothing is stored.
func (w *Writer) CloseWithError(err error) error { return wrapErr(w.w.CloseWithError(err)) }
