package bucketmap

import (
	"context"
	"errors"
	"iter"
	"slices"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/storage"
)

// GetMany returns the values of keys, reading up to kv.BatchConcurrency
// at once: kv.GetMany's fallback, since S3 has no batch read. Missing
// keys are absent from the map. Invalid keys fail the whole batch before
// any request, with a *kv.BatchError naming each. Keys that fail later are
// reported in a *kv.BatchError, each with its reason; the others are
// returned.
func (m *BucketMap) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	return kv.GetMany(ctx, m.single(), keys)
}

// SetMany stores every item, up to kv.BatchConcurrency at once: kv.SetMany's
// fallback, since S3 has no batch write. Invalid keys fail the whole batch
// before any request; keys that fail later, or that a deadline cut short,
// are reported in a *kv.BatchError, and the others are stored.
func (m *BucketMap) SetMany(ctx context.Context, items map[string][]byte) error {
	return kv.SetMany(ctx, m.single(), items)
}

// single returns m with only its single-key methods and its key check, so
// that kv's batch functions fall back to them rather than call m's own
// GetMany and SetMany (as io.Copy callers wrap a writer in struct{ io.Writer }).
func (m *BucketMap) single() kv.Store[[]byte] {
	return struct {
		kv.Store[[]byte]
		kv.KeyChecker
	}{m, m}
}

// DeleteMany deletes keys with DeleteObjects, 1000 keys a request. Missing
// keys are not errors. Invalid keys fail the whole batch before any
// request; keys the server refuses are reported in a *kv.BatchError, and
// the others are deleted.
func (m *BucketMap) DeleteMany(ctx context.Context, keys []string) error {
	if err := m.checkAll("DeleteMany", keys); err != nil {
		return err
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = m.prefix + k
	}
	err := m.st.DeleteMany(ctx, m.bucket, slices.Values(full))
	var sbe *storage.BatchError
	if !errors.As(err, &sbe) {
		return wrapErr(err)
	}
	be := &kv.BatchError{Op: "DeleteMany", Failed: map[string]error{}}
	for _, f := range sbe.Failed {
		be.Failed[f.Key[len(m.prefix):]] = wrapErr(f)
	}
	return be
}

// checkAll refuses a batch holding an invalid key, before anything is
// done, with a *kv.BatchError naming every invalid key.
func (m *BucketMap) checkAll(op string, keys []string) error {
	be := &kv.BatchError{Op: op, Failed: map[string]error{}}
	for _, k := range keys {
		if _, err := m.name(op, k); err != nil {
			be.Failed[k] = err
		}
	}
	if len(be.Failed) > 0 {
		return be
	}
	return nil
}

// All yields every key and its value, in key order, with kv.All: it
// fetches up to Options.Concurrency values ahead, in parallel, so memory
// holds at most that many values. A key deleted between the listing and
// the fetch is passed over. The sequence keeps kv.Store's promise for
// Keys.
func (m *BucketMap) All(ctx context.Context) (iter.Seq2[string, []byte], func() error) {
	return kv.All(ctx, m, m.opts.Concurrency)
}
