package storage

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Sentinel errors for the kinds of failure. Errors returned by Storage are
// *Error values that match these with errors.Is.
var (
	// ErrNotFound: the object (or its bucket) does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrBucketNotFound: the bucket does not exist. Errors of this kind
	// also match ErrNotFound.
	ErrBucketNotFound = errors.New("storage: bucket not found")
	// ErrNoBucket: a Name had no bucket and the Storage has no default
	// bucket. Returned before any request is sent.
	ErrNoBucket = errors.New("storage: no bucket named and no default bucket")
	// ErrInvalidName: a bucket name or key that S3 cannot hold (empty key,
	// key not UTF-8 or over 1024 bytes, control characters, bad bucket).
	ErrInvalidName = errors.New("storage: invalid name")
	// ErrInvalidHeader: a header that is unknown, malformed, or whose value
	// cannot be sent. Returned before any request is sent.
	ErrInvalidHeader = errors.New("storage: invalid header")
	// ErrMetadataTooLarge: user metadata over MaxMetadataSize bytes.
	ErrMetadataTooLarge = errors.New("storage: metadata too large")
	// ErrPreconditionFailed: a conditional request's condition did not hold
	// (If-Match, If-None-Match). For a conditional write, a 412, a 409
	// conflict and a 404 (If-Match on a missing key) all count as this.
	ErrPreconditionFailed = errors.New("storage: precondition failed")
	// ErrNotModified: a GET with If-None-Match found the object unchanged.
	ErrNotModified = errors.New("storage: not modified")
	// ErrForbidden: the server refused access (403). Never taken as
	// "missing".
	ErrForbidden = errors.New("storage: access denied")
	// ErrBucketExists: CreateBucket found the bucket already there.
	ErrBucketExists = errors.New("storage: bucket already exists")
	// ErrBucketNotEmpty: DeleteBucket on a bucket that still has objects.
	ErrBucketNotEmpty = errors.New("storage: bucket not empty")
	// ErrInvalidConfig: a configuration value that cannot be used.
	ErrInvalidConfig = errors.New("storage: invalid config")
	// ErrCorrupt: an object's body failed verification (its length, or a
	// checksum or the ETag as MD5 did not match what the server reported),
	// or a listing named a key outside the prefix listed. The bytes read
	// are never returned as data.
	ErrCorrupt = errors.New("storage: corrupt object body")
	// ErrOutcomeUnknown: a conditional write or delete whose reply was
	// lost, and whose effect the library could not establish afterwards.
	// The write may or may not have happened; it is never reported as
	// ErrPreconditionFailed.
	ErrOutcomeUnknown = errors.New("storage: outcome of conditional write unknown")
)

// Error reports a failed operation: which one, on which name, and why.
// Unwrap reaches the cause (the SDK's error, a smithy.APIError for server
// replies, or the context's error); errors.Is also matches the sentinel for
// the kind of failure.
type Error struct {
	Op   string // the operation: "Get", "Put", "Copy", ...
	Name Name   // the object or bucket concerned
	Err  error  // the cause

	kinds []error
}

// Error formats the failure briefly, as "storage: Op s3://bucket/key:
// cause". A server's reply reads as its kind, HTTP status and S3 code
// ("not found (404 NoSuchKey)"), without the SDK's request and host IDs;
// a transport failure as its cause and the attempts made. The full SDK
// error stays reachable with errors.As (smithy.APIError,
// *awshttp.ResponseError, *smithy.OperationError).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("storage: ")
	b.WriteString(e.Op)
	if e.Name != (Name{}) {
		b.WriteByte(' ')
		b.WriteString(e.Name.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.cause())
	}
	return b.String()
}

// cause is the short text of e.Err: the SDK's part of it replaced by a
// summary, and a "storage: " of a wrapped sentinel dropped (the message
// already starts with it).
func (e *Error) cause() string {
	msg := e.Err.Error()
	var oe *smithy.OperationError
	if errors.As(e.Err, &oe) {
		msg = strings.Replace(msg, oe.Error(), e.summary(oe), 1)
	}
	return strings.TrimPrefix(msg, "storage: ")
}

// summary says what an SDK operation error amounts to.
func (e *Error) summary(err error) string {
	var ma *retry.MaxAttemptsError
	attempts := 0
	if errors.As(err, &ma) && ma.Attempt > 1 {
		attempts = ma.Attempt
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		what := api.ErrorMessage()
		if len(e.kinds) > 0 {
			what = strings.TrimPrefix(e.kinds[len(e.kinds)-1].Error(), "storage: ")
		}
		if what == "" {
			what = "server error"
		}
		detail := api.ErrorCode()
		if code := httpStatus(err); code != 0 {
			detail = strconv.Itoa(code) + " " + detail
		}
		if attempts > 0 {
			detail += fmt.Sprintf(", %d attempts", attempts)
		}
		return what + " (" + detail + ")"
	}
	var send *smithyhttp.RequestSendError
	if !errors.As(err, &send) {
		var oe *smithy.OperationError
		if errors.As(err, &oe) {
			return oe.Err.Error()
		}
		return err.Error()
	}
	msg := innermost(err)
	if attempts > 0 {
		msg += fmt.Sprintf(" (%d attempts)", attempts)
	}
	if plainHTTP(err) {
		msg += "; the server speaks plain HTTP: set tls: false in the config or use an http:// endpoint"
	}
	return msg
}

// plainHTTP reports a TLS handshake answered in plain HTTP: net/http says
// so in a message of its own (no sentinel) when the reply starts like
// HTTP, crypto/tls with a RecordHeaderError otherwise.
func plainHTTP(err error) bool {
	var rhe tls.RecordHeaderError
	return errors.As(err, &rhe) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// innermost is the text of the cause under an SDK transport error, without
// the URL and the SDK's framing: "dial tcp 127.0.0.1:1: connect:
// connection refused", "tls: first record does not look like a TLS
// handshake".
func innermost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is one of the sentinels for this error's kind.
func (e *Error) Is(target error) bool {
	for _, k := range e.kinds {
		if k == target {
			return true
		}
	}
	return false
}

// opError builds the *Error for a failed operation, classifying err. A
// failure while ctx is done reports the context's error, as it is.
func opError(ctx context.Context, op string, name Name, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) && se.Op == op {
		return err
	}
	kinds := classify(err)
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		// The context's error first; the SDK's stays reachable, but its
		// kind does not count: the caller gave up.
		err, kinds = fmt.Errorf("%w (%w)", ctxErr, err), nil
	}
	return &Error{Op: op, Name: name, Err: err, kinds: kinds}
}

// inputError builds the *Error for input refused before sending.
func inputError(op string, name Name, kind error, format string, args ...any) error {
	return &Error{Op: op, Name: name, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...), kinds: []error{kind}}
}

// classify returns the sentinels matching an SDK error.
func classify(err error) []error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchUpload":
			return []error{ErrNotFound}
		case "NoSuchBucket":
			return []error{ErrNotFound, ErrBucketNotFound}
		case "PreconditionFailed", "ConditionalRequestConflict":
			return []error{ErrPreconditionFailed}
		case "NotModified":
			return []error{ErrNotModified}
		case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			return []error{ErrForbidden}
		case "BucketAlreadyExists", "BucketAlreadyOwnedByYou":
			return []error{ErrBucketExists}
		case "BucketNotEmpty":
			return []error{ErrBucketNotEmpty}
		}
	}
	switch httpStatus(err) {
	case http.StatusNotFound:
		return []error{ErrNotFound}
	case http.StatusPreconditionFailed:
		return []error{ErrPreconditionFailed}
	case http.StatusNotModified:
		return []error{ErrNotModified}
	case http.StatusForbidden:
		return []error{ErrForbidden}
	}
	return nil
}

// httpStatus returns the HTTP status of a server's error reply, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// conditionalWriteError classifies the failure of a conditional write: a
// 404 (If-Match on a missing key: MinIO, versitygw, moto) and a 409
// (concurrent conditional writes: AWS) mean the condition failed, as a 412
// does.
func conditionalWriteError(ctx context.Context, op string, name Name, err error) error {
	e := opError(ctx, op, name, err)
	if ctx.Err() != nil {
		return e
	}
	switch httpStatus(err) {
	case http.StatusNotFound, http.StatusConflict:
		if se, ok := e.(*Error); ok {
			se.kinds = append(se.kinds, ErrPreconditionFailed)
		}
	}
	return e
}
