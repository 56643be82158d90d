package s3test_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3map/s3map/storage/s3test"
)

// statusOf is the HTTP status of an SDK error, 0 for none.
func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// multipart uploads data to key in one part and completes it with the
// given conditions. It may run on any goroutine: a failure before the
// Complete is returned too, wrapped.
func multipart(tg *s3test.Target, key, data string, ifMatch, ifNoneMatch *string) (*s3.CompleteMultipartUploadOutput, error) {
	ctx := context.Background()
	c := tg.Storage.Client()
	bucket := aws.String(tg.Config.DefaultBucket)
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("CreateMultipartUpload: %w", err)
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader(data)})
	if err != nil {
		return nil, fmt.Errorf("UploadPart: %w", err)
	}
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}},
		IfMatch:         ifMatch, IfNoneMatch: ifNoneMatch,
	})
	if err != nil {
		c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: &key, UploadId: up.UploadId})
	}
	return out, err
}

func get(t *testing.T, tg *s3test.Target, key string) (string, string) {
	t.Helper()
	out, err := tg.Storage.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(tg.Config.DefaultBucket), Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), aws.ToString(out.ETag)
}

func put(t *testing.T, tg *s3test.Target, key, data string) string {
	t.Helper()
	out, err := tg.Storage.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(tg.Config.DefaultBucket), Key: &key, Body: strings.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ETag)
}

// CompleteMultipartUpload's conditions and ETag, as Caps says each server
// honours them: the in-process server's corrections, and Caps kept true
// (a Caps field set where the server does behave like S3 fails too).
func TestCompleteMultipartConditions(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		put(t, tg, "k", "old")

		_, err := multipart(tg, "k", "new", nil, aws.String("*"))
		if tg.Caps.IgnoresMultipartIfNoneMatch {
			if err == nil {
				put(t, tg, "k", "old") // restore
			} else {
				t.Errorf("Caps.IgnoresMultipartIfNoneMatch is set, but Complete with If-None-Match * on an existing key failed: %v", err)
			}
		} else if statusOf(err) != http.StatusPreconditionFailed {
			t.Errorf("Complete If-None-Match * on an existing key: %v; want 412", err)
		}
		_, old := get(t, tg, "k")

		_, err = multipart(tg, "k", "new", aws.String(`"0123456789abcdef0123456789abcdef"`), nil)
		if tg.Caps.IgnoresMultipartIfMatch {
			if err != nil {
				t.Errorf("Caps.IgnoresMultipartIfMatch is set, but Complete with a stale If-Match failed: %v", err)
			}
			old = put(t, tg, "k", "old")
		} else if statusOf(err) != http.StatusPreconditionFailed {
			t.Errorf("Complete with a stale If-Match: %v; want 412", err)
		}
		if got, _ := get(t, tg, "k"); got != "old" {
			t.Fatalf("after refused Completes, k = %q; want old", got)
		}

		if !tg.Caps.IgnoresMultipartIfMatch {
			_, err = multipart(tg, "missing", "new", aws.String(old), nil)
			if statusOf(err) != http.StatusNotFound {
				t.Errorf("Complete with If-Match on a missing key: %v; want 404", err)
			}
		}

		out, err := multipart(tg, "k", "new", aws.String(old), nil)
		if err != nil {
			t.Fatalf("Complete with the current If-Match: %v", err)
		}
		got, etag := get(t, tg, "k")
		if got != "new" {
			t.Fatalf("after Complete, k = %q; want new", got)
		}
		if same := aws.ToString(out.ETag) == etag; same == tg.Caps.MultipartETagDiffers {
			t.Errorf("Complete answered ETag %s, GET reports %s; Caps.MultipartETagDiffers = %v", aws.ToString(out.ETag), etag, tg.Caps.MultipartETagDiffers)
		}

		out, err = multipart(tg, "fresh", "x", nil, aws.String("*"))
		if err != nil {
			t.Fatalf("Complete If-None-Match * on a new key: %v", err)
		}
		if _, etag := get(t, tg, "fresh"); !tg.Caps.MultipartETagDiffers && aws.ToString(out.ETag) != etag {
			t.Errorf("Complete answered ETag %s, GET reports %s", aws.ToString(out.ETag), etag)
		}
	})
}

// GET and HEAD with If-Match: 412 for another ETag, the object for its
// own, 404 for a missing key.
func TestGetIfMatch(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		c := tg.Storage.Client()
		bucket := aws.String(tg.Config.DefaultBucket)
		stale := put(t, tg, "k", "1")
		etag := put(t, tg, "k", "22")

		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("k"), IfMatch: &stale})
		if err == nil {
			g.Body.Close()
		}
		h, herr := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("k"), IfMatch: &stale})
		if tg.Caps.IgnoresGetIfMatch {
			if err != nil || herr != nil {
				t.Errorf("Caps.IgnoresGetIfMatch is set, but GET/HEAD with a stale If-Match failed: %v, %v", err, herr)
			}
			return
		}
		if statusOf(err) != http.StatusPreconditionFailed {
			t.Errorf("GET with a stale If-Match: %v; want 412", err)
		}
		if statusOf(herr) != http.StatusPreconditionFailed {
			t.Errorf("HEAD with a stale If-Match: %+v, %v; want 412", h, herr)
		}

		g, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("k"), IfMatch: &etag})
		if err != nil {
			t.Fatalf("GET with the current If-Match: %v", err)
		}
		b, err := io.ReadAll(g.Body)
		g.Body.Close()
		if err != nil || !bytes.Equal(b, []byte("22")) {
			t.Errorf("GET with the current If-Match read %q, %v; want 22", b, err)
		}
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("k"), IfMatch: &etag}); err != nil {
			t.Errorf("HEAD with the current If-Match: %v", err)
		}
		_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("missing"), IfMatch: &etag})
		if statusOf(err) != http.StatusNotFound {
			t.Errorf("GET with If-Match of a missing key: %v; want 404", err)
		}
	})
}

// PutObject with If-Match on a missing key answers 404 NoSuchKey on every
// server, the in-process one included.
func TestPutIfMatchMissing(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		_, err := tg.Storage.Client().PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(tg.Config.DefaultBucket), Key: aws.String("missing"),
			Body: strings.NewReader("x"), IfMatch: aws.String(`"0123456789abcdef0123456789abcdef"`),
		})
		if statusOf(err) != http.StatusNotFound {
			t.Errorf("PutObject If-Match on a missing key: %v; want 404", err)
		}
		var nsk *types.NoSuchKey
		var ae interface{ ErrorCode() string }
		if !errors.As(err, &nsk) && !(errors.As(err, &ae) && ae.ErrorCode() == "NoSuchKey") {
			t.Errorf("PutObject If-Match on a missing key: %v; want NoSuchKey", err)
		}
	})
}

// Concurrent Completes with If-None-Match "*" on one key: exactly one
// succeeds, the others answer 412.
func TestCompleteIfNoneMatchAtomic(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		tg.SkipIf(t, tg.Caps.IgnoresMultipartIfNoneMatch, "CompleteMultipartUpload If-None-Match")
		tg.SkipIf(t, tg.Caps.NonAtomicConditionalWrites, "atomic conditional writes")
		const n = 6
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := multipart(tg, "race", strings.Repeat("x", i+1), nil, aws.String("*"))
				errs <- err
			}()
		}
		won := 0
		for range n {
			switch err := <-errs; {
			case err == nil:
				won++
			case statusOf(err) != http.StatusPreconditionFailed:
				t.Errorf("Complete If-None-Match *: %v; want nil or 412", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent Completes with If-None-Match * succeeded; want 1", won, n)
		}
	})
}
