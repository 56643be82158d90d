package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name    string
	Created time.Time
}

// CreateBucket creates a bucket ("" for the default bucket) in the
// client's region. A bucket that exists already, whoever owns it, is an
// error that errors.Is ErrBucketExists.
//
// Some servers (moto, and AWS in us-east-1) answer a CreateBucket for a
// bucket the caller owns with success, so CreateBucket first asks whether
// the bucket exists. Two callers creating the same bucket at the same
// moment on such a server may therefore both succeed.
func (s *Storage) CreateBucket(ctx context.Context, bucket string) (err error) {
	const op = "CreateBucket"
	ctx, ob := s.begin(ctx, op, Name{Bucket: bucket})
	defer func() { ob.end(err, 0, 0) }()
	n, err := s.resolve(op, Name{Bucket: bucket}, false)
	if err != nil {
		return err
	}
	if err := checkNewBucket(n.Bucket); err != nil {
		return &Error{Op: op, Name: n, Err: err, kinds: []error{ErrInvalidName}}
	}
	// Only a yes counts: a 403 (someone else's bucket), a redirect or any
	// other failure is left for CreateBucket to answer.
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &n.Bucket}); err == nil {
		return &Error{Op: op, Name: n, Err: ErrBucketExists, kinds: []error{ErrBucketExists}}
	} else if ctx.Err() != nil {
		return opError(ctx, op, n, err)
	}
	in := &s3.CreateBucketInput{Bucket: &n.Bucket}
	if region := s.client.Options().Region; region != "" && region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	}
	_, err = s.client.CreateBucket(ctx, in)
	return opError(ctx, op, n, err)
}

// DeleteBucket deletes an empty bucket. A bucket with objects is an error
// that errors.Is ErrBucketNotEmpty.
func (s *Storage) DeleteBucket(ctx context.Context, bucket string) (err error) {
	const op = "DeleteBucket"
	ctx, ob := s.begin(ctx, op, Name{Bucket: bucket})
	defer func() { ob.end(err, 0, 0) }()
	n, err := s.resolve(op, Name{Bucket: bucket}, false)
	if err != nil {
		return err
	}
	s.knownBuckets.Delete(n.Bucket)
	_, err = s.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &n.Bucket})
	return opError(ctx, op, n, err)
}

// BucketExists reports whether the bucket exists ("" for the default
// bucket). A 404 is (false, nil); a 403 or any other failure is an error.
func (s *Storage) BucketExists(ctx context.Context, bucket string) (_ bool, err error) {
	const op = "BucketExists"
	ctx, ob := s.begin(ctx, op, Name{Bucket: bucket})
	defer func() { ob.end(err, 0, 0) }()
	n, err := s.resolve(op, Name{Bucket: bucket}, false)
	if err != nil {
		return false, err
	}
	_, err = s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &n.Bucket})
	if err == nil {
		s.knownBuckets.Store(n.Bucket, true)
		return true, nil
	}
	err = opError(ctx, op, n, err)
	if ctx.Err() == nil && errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return false, err
}

// Buckets lists the buckets the credentials own, sorted by name.
func (s *Storage) Buckets(ctx context.Context) (_ []BucketInfo, err error) {
	const op = "Buckets"
	ctx, ob := s.begin(ctx, op, Name{})
	defer func() { ob.end(err, 0, 0) }()
	var all []BucketInfo
	p := s3.NewListBucketsPaginator(s.client, &s3.ListBucketsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, opError(ctx, op, Name{}, err)
		}
		for _, b := range out.Buckets {
			bi := BucketInfo{Name: *b.Name}
			if b.CreationDate != nil {
				bi.Created = *b.CreationDate
			}
			all = append(all, bi)
		}
	}
	slices.SortFunc(all, func(a, b BucketInfo) int { return strings.Compare(a.Name, b.Name) })
	return all, nil
}

// bucketKnown reports whether BucketExists found the bucket before.
func (s *Storage) bucketKnown(bucket string) bool {
	_, ok := s.knownBuckets.Load(bucket)
	return ok
}
