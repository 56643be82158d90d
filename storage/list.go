package storage

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3map/s3map/internal/seqerr"
)

// ListOptions tune List. A nil *ListOptions lists every key under the
// prefix.
type ListOptions struct {
	// StartAfter lists only keys after this one.
	StartAfter string
	// Delimiter, when set (usually "/"), groups keys that hold it past the
	// prefix into one Info with IsPrefix set, as directories.
	Delimiter string
	// PageSize is the most keys per request (S3's MaxKeys; default 1000).
	PageSize int32
}

// List yields the objects under prefix in bucket ("" for the default
// bucket), in S3's byte-wise key order, one page of requests at a time (so
// memory does not grow with the number of keys). Only Name, Size, ETag and
// LastModified are set. The error function reports the first failure once
// the loop is over; breaking out early is safe. A reply that names a key
// outside prefix (damaged on the way) ends the listing before that key
// with an error that errors.Is ErrCorrupt. Each range lists afresh;
// ranging one sequence from several goroutines at once is safe, and the
// error function then reports the range that ended last (the promise of
// kv.Store.Keys).
func (s *Storage) List(ctx context.Context, bucket, prefix string, opts *ListOptions) (iter.Seq[Info], func() error) {
	const op = "List"
	if opts == nil {
		opts = &ListOptions{}
	}
	n, err := s.resolve(op, Name{Bucket: bucket, Key: prefix}, false)
	if err == nil && (opts.PageSize < 0 || opts.PageSize > 1000) {
		err = inputError(op, n, ErrInvalidConfig, "PageSize %d is not 0 to 1000", opts.PageSize)
	}
	if err != nil {
		_, ob := s.begin(ctx, op, Name{Bucket: bucket, Key: prefix})
		ob.end(err, 0, 0)
		return seqerr.Fail[Info](err)
	}
	return seqerr.New(func(yield func(Info) bool) (err error) {
		ctx, ob := s.begin(ctx, op, n)
		defer func() { ob.end(err, 0, 0) }()
		in := &s3.ListObjectsV2Input{
			Bucket:       &n.Bucket,
			Prefix:       &prefix,
			EncodingType: types.EncodingTypeUrl,
		}
		if opts.StartAfter != "" {
			in.StartAfter = &opts.StartAfter
		}
		if opts.Delimiter != "" {
			in.Delimiter = &opts.Delimiter
		}
		if opts.PageSize > 0 {
			in.MaxKeys = &opts.PageSize
		}
		// The last key yielded: a guard against servers that repeat
		// entries across pages (gofakes3 repeats common prefixes).
		last := ""
		var page []Info // reused from page to page
		for {
			if err := ctx.Err(); err != nil {
				return opError(ctx, op, n, err)
			}
			out, err := s.client.ListObjectsV2(ctx, in)
			if err != nil {
				return opError(ctx, op, n, err)
			}
			page, err = pageInfos(n.Bucket, out, page[:0])
			if err != nil {
				return opError(ctx, op, n, err)
			}
			for _, info := range page {
				if err := ctx.Err(); err != nil {
					return opError(ctx, op, n, err)
				}
				if !strings.HasPrefix(info.Name.Key, prefix) {
					// A reply damaged on the way (or a server bug): no
					// caller may act on a name outside what it listed.
					return &Error{Op: op, Name: n, kinds: []error{ErrCorrupt},
						Err: fmt.Errorf("the listing named %q, outside the prefix", info.Name.Key)}
				}
				if info.Name.Key <= last && last != "" {
					continue
				}
				last = info.Name.Key
				if !yield(info) {
					return nil
				}
			}
			if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
				return nil
			}
			in.ContinuationToken = out.NextContinuationToken
		}
	})
}

// pageInfos appends one ListObjectsV2 page to page as Infos in key order,
// common prefixes merged in, keys decoded when the server URL-encoded
// them. List passes the slice of the page before, so that a listing
// allocates no more than the SDK does for each key.
func pageInfos(bucket string, out *s3.ListObjectsV2Output, page []Info) ([]Info, error) {
	encoded := out.EncodingType == types.EncodingTypeUrl
	decode := func(k string) (string, error) {
		if !encoded {
			return k, nil
		}
		d, err := url.QueryUnescape(k)
		if err != nil {
			return "", fmt.Errorf("listed key %q is not URL-encoded as the reply says: %w", k, err)
		}
		return d, nil
	}
	page = slices.Grow(page, len(out.Contents)+len(out.CommonPrefixes))
	for _, o := range out.Contents {
		key, err := decode(aws.ToString(o.Key))
		if err != nil {
			return nil, err
		}
		page = append(page, Info{
			Name:         Name{Bucket: bucket, Key: key},
			Size:         aws.ToInt64(o.Size),
			ETag:         aws.ToString(o.ETag),
			LastModified: aws.ToTime(o.LastModified),
		})
	}
	for _, p := range out.CommonPrefixes {
		key, err := decode(aws.ToString(p.Prefix))
		if err != nil {
			return nil, err
		}
		page = append(page, Info{Name: Name{Bucket: bucket, Key: key}, IsPrefix: true})
	}
	if len(out.CommonPrefixes) > 0 {
		slices.SortFunc(page, func(a, b Info) int { return strings.Compare(a.Name.Key, b.Name.Key) })
	}
	return page, nil
}

const (
	// deleteBatch is the most keys one DeleteObjects request takes.
	deleteBatch = 1000
	// deletesInFlight is how many DeleteObjects requests DeleteMany
	// keeps out at once. With one, a listing fed in waited for each
	// batch's delete before listing the page after the next, and on
	// versitygw, where deleting a batch takes as long as listing a page,
	// Clear took list + delete time less little; with four, the listing
	// runs ahead while the server deletes.
	deletesInFlight = 4
)

// KeyError is the failure of one key in a batch.
type KeyError struct {
	Key string
	Err error
}

// Error formats the failure as "key: cause".
func (e KeyError) Error() string { return fmt.Sprintf("%q: %v", e.Key, e.Err) }

// Unwrap returns the cause.
func (e KeyError) Unwrap() error { return e.Err }

// BatchError reports the keys of a batch that failed, each with its
// reason; the other keys were done.
type BatchError struct {
	Op     string
	Bucket string
	Failed []KeyError
}

// Error names the first few failed keys.
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "storage: %s s3://%s: %d keys failed", e.Op, e.Bucket, len(e.Failed))
	for i, f := range e.Failed {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-3)
			break
		}
		b.WriteString("; ")
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap returns every key's error, so errors.Is and errors.As look at all.
func (e *BatchError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f
	}
	return errs
}

// DeleteMany deletes every key in keys from bucket ("" for the default
// bucket) with DeleteObjects, 1000 keys a request, up to four requests at
// once. Missing keys are not errors. Keys that fail (invalid, refused by
// the server, or in a request that failed) are reported in a *BatchError,
// each with its reason; the others are deleted. A cancelled context stops
// it and is returned.
//
// keys is read on the caller's goroutine while the batches before it are
// deleted: a listing fed in (as Clear does) goes on to its next pages
// while the keys it listed are deleted, and waits only while four
// requests are out.
func (s *Storage) DeleteMany(ctx context.Context, bucket string, keys iter.Seq[string]) (err error) {
	const op = "DeleteMany"
	ctx, ob := s.begin(ctx, op, Name{Bucket: bucket})
	defer func() { ob.end(err, 0, 0) }()
	n, err := s.resolve(op, Name{Bucket: bucket}, false)
	if err != nil {
		return err
	}
	prog := newProgress(ctx, op, n, -1, Keys)
	defer prog.end() // after the last request: DeleteMany waits for it
	var (
		mu     sync.Mutex // guards failed and stop
		failed []KeyError
		stop   error // a cancelled context: the end
		wg     sync.WaitGroup
		// free holds the batches neither filling nor in flight: taking
		// one waits while deletesInFlight requests are out.
		free = make(chan []types.ObjectIdentifier, deletesInFlight)
		cur  []types.ObjectIdentifier
	)
	for range deletesInFlight {
		free <- nil // allocated when first filled
	}
	fail := func(kerrs ...KeyError) {
		mu.Lock()
		failed = append(failed, kerrs...)
		mu.Unlock()
	}
	sendBatch := func(batch []types.ObjectIdentifier) {
		defer func() {
			clear(batch) // drop the keys
			free <- batch[:0]
		}()
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &n.Bucket,
			Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)},
		})
		if err != nil {
			reqErr := opError(ctx, op, n, err)
			if ctx.Err() != nil {
				mu.Lock()
				stop = reqErr
				mu.Unlock()
				return
			}
			kerrs := make([]KeyError, len(batch))
			for i, o := range batch {
				kerrs[i] = KeyError{Key: aws.ToString(o.Key), Err: reqErr}
			}
			fail(kerrs...)
			prog.add(int64(len(batch)))
			return
		}
		// Quiet is not honoured everywhere: only Errors count.
		for _, e := range out.Errors {
			fail(KeyError{
				Key: aws.ToString(e.Key),
				Err: fmt.Errorf("%s: %s", aws.ToString(e.Code), aws.ToString(e.Message)),
			})
		}
		prog.add(int64(len(batch)))
	}
	// flush starts deleting the current batch.
	flush := func() {
		if len(cur) == 0 {
			return
		}
		batch := cur
		wg.Go(func() { sendBatch(batch) })
		cur = nil
	}
	stopped := func() error {
		mu.Lock()
		defer mu.Unlock()
		return stop
	}
	for key := range keys {
		if err := CheckKey(key); err != nil {
			fail(KeyError{Key: key, Err: err})
			continue
		}
		if cur == nil {
			if cur = <-free; cur == nil {
				cur = make([]types.ObjectIdentifier, 0, deleteBatch)
			}
		}
		cur = append(cur, types.ObjectIdentifier{Key: aws.String(key)})
		if len(cur) == deleteBatch {
			flush()
			if stopped() != nil {
				break
			}
		}
	}
	if ctx.Err() == nil {
		flush()
	}
	wg.Wait() // the last requests are done
	if err := stopped(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return opError(ctx, op, n, err)
	}
	if len(failed) > 0 {
		return &BatchError{Op: op, Bucket: n.Bucket, Failed: failed}
	}
	return nil
}
