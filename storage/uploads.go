package storage

import (
	"iter"

	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/s3map/s3map/internal/seqerr"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// AbortUploads aborts the multipart uploads in bucket under prefix that
// were begun more than olderThan ago, and returns how many it aborted.
// Writes through a Storage leave no upload behind, but a process that
// crashed (or was killed) in the middle of a multipart upload does, and
// S3 keeps (and bills) its parts until the upload is aborted.
//
// Ages are measured on the server's clock (the Date of its listing reply,
// to the second), so a skewed local clock does not abort uploads in
// progress; olderThan 0 aborts every upload under the prefix. A
// server that reports no sensible start time (moto 5.2.1 reports a fixed
// date in 2010) makes every upload look old: use olderThan with care
// there. On AWS, prefer a bucket lifecycle rule as well, which S3 applies
// without any process running:
//
//	<Rule><ID>abort-stale-uploads</ID><Status>Enabled</Status><Filter><Prefix></Prefix></Filter>
//	  <AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
//
// An empty bucket means the default bucket. The first failure to list
// stops the work; failures to abort are reported together, after the
// others were tried.
func (s *Storage) AbortUploads(ctx context.Context, bucket, prefix string, olderThan time.Duration) (_ int, err error) {
	const op = "AbortUploads"
	ctx, ob := s.begin(ctx, op, Name{Bucket: bucket, Key: prefix})
	defer func() { ob.end(err, 0, 0) }()
	n, err := s.resolve(op, Name{Bucket: bucket, Key: prefix}, false)
	if err != nil {
		return 0, err
	}
	if olderThan < 0 {
		return 0, inputError(op, n, ErrInvalidConfig, "negative age %v", olderThan)
	}
	aborted := 0
	var errs []error
	uploads, listErr := s.Uploads(ctx, n.Bucket, prefix)
	for up := range uploads {
		if olderThan > 0 && up.Age < olderThan {
			continue
		}
		if err := s.AbortUpload(ctx, up); err != nil {
			if ctx.Err() != nil {
				return aborted, renameOp(err, op)
			}
			errs = append(errs, err)
			continue
		}
		aborted++
		s.logger().Info("storage: aborted a stale multipart upload", "op", op, "name", up.Name.String(), "upload_id", up.ID, "initiated", up.Initiated)
	}
	if err := listErr(); err != nil {
		return aborted, renameOp(err, op)
	}
	if len(errs) > 0 {
		return aborted, opError(ctx, op, n, errors.Join(errs...))
	}
	return aborted, nil
}

// Upload is a multipart upload in progress, as Uploads lists it.
type Upload struct {
	Name      Name      // the object it will make
	ID        string    // its upload ID
	Initiated time.Time // when it began, as the server says
	// Age is how long ago it began by the server's clock (the Date of the
	// listing reply, to the second, so it may be a little negative), so a
	// skewed local clock does not make an upload in progress look old.
	Age time.Duration
}

// Uploads lists the multipart uploads in progress in bucket (the default
// bucket when empty) whose keys start with prefix, in the server's order,
// a page at a time as the sequence is ranged. The error function reports
// the first failure once the loop is over (see List for the rules of such
// sequences).
//
// MinIO matches ListMultipartUploads' prefix only against whole keys, so
// when a prefix finds nothing Uploads lists the whole bucket and filters.
func (s *Storage) Uploads(ctx context.Context, bucket, prefix string) (iter.Seq[Upload], func() error) {
	const op = "Uploads"
	return seqerr.New(func(yield func(Upload) bool) error {
		n, err := s.resolve(op, Name{Bucket: bucket, Key: prefix}, false)
		if err != nil {
			return err
		}
		in := &s3.ListMultipartUploadsInput{Bucket: &n.Bucket}
		if prefix != "" {
			in.Prefix = &prefix
		}
		for first := true; ; first = false {
			out, err := s.client.ListMultipartUploads(ctx, in)
			if isCode(err, "NoSuchUpload") {
				return nil // the in-process server's answer for none
			}
			if err != nil {
				return opError(ctx, op, n, err)
			}
			if first && len(out.Uploads) == 0 && in.Prefix != nil {
				in.Prefix = nil
				continue
			}
			now := serverTime(out.ResultMetadata)
			for _, u := range out.Uploads {
				key := aws.ToString(u.Key)
				if !strings.HasPrefix(key, prefix) {
					continue
				}
				up := Upload{Name: Name{Bucket: n.Bucket, Key: key}, ID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)}
				if !up.Initiated.IsZero() {
					up.Age = now.Sub(up.Initiated)
				}
				if !yield(up) {
					return nil
				}
			}
			if !aws.ToBool(out.IsTruncated) || (out.NextKeyMarker == nil && out.NextUploadIdMarker == nil) {
				return nil
			}
			in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
		}
	})
}

// AbortUpload aborts one multipart upload, as Uploads listed it, freeing
// its parts. An upload already completed or aborted is not an error.
func (s *Storage) AbortUpload(ctx context.Context, up Upload) (err error) {
	const op = "AbortUpload"
	ctx, ob := s.begin(ctx, op, up.Name)
	defer func() { ob.end(err, 0, 0) }()
	n, err := s.resolve(op, up.Name, true)
	if err != nil {
		return err
	}
	if up.ID == "" {
		return inputError(op, n, ErrInvalidHeader, "empty upload ID")
	}
	_, err = s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &n.Bucket, Key: &n.Key, UploadId: &up.ID})
	if err != nil && !isCode(err, "NoSuchUpload") {
		return opError(ctx, op, n, err)
	}
	return nil
}

// serverTime is the Date of a reply, else the local time.
func serverTime(md middleware.Metadata) time.Time {
	if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && raw != nil {
		if t, err := http.ParseTime(raw.Header.Get("Date")); err == nil {
			return t
		}
	}
	return time.Now()
}
