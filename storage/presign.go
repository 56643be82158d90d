package storage

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PresignedRequest is a request anyone can make, without credentials,
// until it expires.
type PresignedRequest struct {
	Method string
	URL    string
	// Header holds the headers that were signed: send them with the
	// request, or it is refused.
	Header http.Header
}

// maxPresignTTL is the longest validity SigV4 allows.
const maxPresignTTL = 7 * 24 * time.Hour

// checkTTL refuses a validity SigV4 cannot sign: it counts whole seconds,
// from 1 to 7 days. The error matches ErrInvalidConfig.
func checkTTL(op string, n Name, ttl time.Duration) error {
	if ttl < time.Second || ttl > maxPresignTTL {
		return &Error{Op: op, Name: n, Err: fmt.Errorf("expiry must be between 1s and 7 days, got %v", ttl), kinds: []error{ErrInvalidConfig}}
	}
	return nil
}

// PresignGet returns a GET request for the object, valid for ttl (1s to 7
// days; other values are an ErrInvalidConfig error). No request is sent.
func (s *Storage) PresignGet(ctx context.Context, n Name, ttl time.Duration) (_ PresignedRequest, err error) {
	const op = "PresignGet"
	ctx, ob := s.begin(ctx, op, n)
	defer func() { ob.end(err, 0, 0) }()
	n, err = s.resolve(op, n, true)
	if err != nil {
		return PresignedRequest{}, err
	}
	if err := checkTTL(op, n, ttl); err != nil {
		return PresignedRequest{}, err
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &n.Bucket, Key: &n.Key}, s3.WithPresignExpires(ttl))
	if err != nil {
		return PresignedRequest{}, opError(ctx, op, n, err)
	}
	return PresignedRequest{Method: req.Method, URL: req.URL, Header: req.SignedHeader}, nil
}

// PresignPut returns a PUT request that uploads the object, valid for ttl
// (1s to 7 days, as PresignGet). Headers given in h (metadata,
// Content-Type, server-side encryption...) are signed: the uploader must
// send them as they are in the result's Header.
func (s *Storage) PresignPut(ctx context.Context, n Name, ttl time.Duration, h Headers) (_ PresignedRequest, err error) {
	const op = "PresignPut"
	ctx, ob := s.begin(ctx, op, n)
	defer func() { ob.end(err, 0, 0) }()
	n, err = s.resolve(op, n, true)
	if err != nil {
		return PresignedRequest{}, err
	}
	if err := checkTTL(op, n, ttl); err != nil {
		return PresignedRequest{}, err
	}
	a, err := parseHeaders(h)
	if err != nil {
		return PresignedRequest{}, &Error{Op: op, Name: n, Err: err, kinds: classifyInput(err)}
	}
	in := &s3.PutObjectInput{Bucket: &n.Bucket, Key: &n.Key}
	if err := a.putObjectInput(in); err != nil {
		return PresignedRequest{}, &Error{Op: op, Name: n, Err: err, kinds: classifyInput(err)}
	}
	req, err := s.presign.PresignPutObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return PresignedRequest{}, opError(ctx, op, n, fmt.Errorf("presigning: %w", err))
	}
	return PresignedRequest{Method: req.Method, URL: req.URL, Header: req.SignedHeader}, nil
}
