package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

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
func (s *Storage) AbortUploads(ctx context.Context, bucket, prefix string, olderThan time.Duration) (int, error) {
	const op = "AbortUploads"
	n, err := s.resolve(op, Name{Bucket: bucket, Key: prefix}, false)
	if err != nil {
		return 0, err
	}
	if olderThan < 0 {
		return 0, inputError(op, n, ErrInvalidConfig, "negative age %v", olderThan)
	}
	in := &s3.ListMultipartUploadsInput{Bucket: &n.Bucket}
	if prefix != "" {
		in.Prefix = &prefix
	}
	aborted := 0
	var errs []error
	for first := true; ; first = false {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if isCode(err, "NoSuchUpload") {
			break // the in-process server's answer for none
		}
		if err != nil {
			return aborted, opError(ctx, op, n, err)
		}
		if first && len(out.Uploads) == 0 && in.Prefix != nil {
			// MinIO lists uploads only for an empty prefix or a
			// whole key: list them all and filter here.
			in.Prefix = nil
			first = true
			continue
		}
		now := serverTime(out.ResultMetadata)
		for _, up := range out.Uploads {
			if !strings.HasPrefix(aws.ToString(up.Key), prefix) {
				continue
			}
			if olderThan > 0 && up.Initiated != nil && now.Sub(*up.Initiated) < olderThan {
				continue
			}
			key := aws.ToString(up.Key)
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &n.Bucket, Key: up.Key, UploadId: up.UploadId})
			switch {
			case err == nil || isCode(err, "NoSuchUpload"):
				aborted++
				s.logger().Info("storage: aborted a stale multipart upload", "op", op, "name", Name{Bucket: n.Bucket, Key: key}.String(), "upload_id", aws.ToString(up.UploadId), "initiated", aws.ToTime(up.Initiated))
			case ctx.Err() != nil:
				return aborted, opError(ctx, op, n, err)
			default:
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			}
		}
		if !aws.ToBool(out.IsTruncated) || (out.NextKeyMarker == nil && out.NextUploadIdMarker == nil) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	if len(errs) > 0 {
		return aborted, opError(ctx, op, n, errors.Join(errs...))
	}
	return aborted, nil
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
