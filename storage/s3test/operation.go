package s3test

import (
	"net"
	"net/http"
	"strings"
)

// Operation names the S3 operation of a request, as S3's API reference
// names it ("PutObject", "GetObject", "CompleteMultipartUpload",
// "ListObjectsV2" ...), from its method, path and query; "Unknown" for a
// request it does not recognise. Requests are taken to be path-style
// ("/bucket/key"), except that a host "bucket.s3....amazonaws.com" is read
// as virtual-hosted style.
func Operation(r *http.Request) string {
	q := r.URL.Query()
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	if virtualHosted(r.Host) {
		bucket, key = "virtual", path
	}
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
	case key == "":
		return bucketOperation(r.Method, q.Has)
	default:
		return objectOperation(r, q.Has)
	}
	return "Unknown"
}

// virtualHosted reports whether host names a bucket, as
// "bucket.s3.us-east-1.amazonaws.com" does.
func virtualHosted(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	first, rest, ok := strings.Cut(host, ".")
	return ok && first != "" && strings.HasPrefix(rest, "s3") && strings.HasSuffix(host, ".amazonaws.com")
}

func bucketOperation(method string, has func(string) bool) string {
	switch method {
	case http.MethodGet:
		switch {
		case has("uploads"):
			return "ListMultipartUploads"
		case has("versions"):
			return "ListObjectVersions"
		case has("location"):
			return "GetBucketLocation"
		case has("versioning"):
			return "GetBucketVersioning"
		case has("lifecycle"):
			return "GetBucketLifecycleConfiguration"
		case has("policy"):
			return "GetBucketPolicy"
		case has("tagging"):
			return "GetBucketTagging"
		case has("list-type"):
			return "ListObjectsV2"
		}
		return "ListObjects"
	case http.MethodHead:
		return "HeadBucket"
	case http.MethodPut:
		switch {
		case has("versioning"):
			return "PutBucketVersioning"
		case has("lifecycle"):
			return "PutBucketLifecycleConfiguration"
		case has("policy"):
			return "PutBucketPolicy"
		case has("tagging"):
			return "PutBucketTagging"
		}
		return "CreateBucket"
	case http.MethodDelete:
		switch {
		case has("lifecycle"):
			return "DeleteBucketLifecycle"
		case has("policy"):
			return "DeleteBucketPolicy"
		case has("tagging"):
			return "DeleteBucketTagging"
		}
		return "DeleteBucket"
	case http.MethodPost:
		if has("delete") {
			return "DeleteObjects"
		}
	}
	return "Unknown"
}

func objectOperation(r *http.Request, has func(string) bool) string {
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	switch r.Method {
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return "ListParts"
		case has("tagging"):
			return "GetObjectTagging"
		case has("acl"):
			return "GetObjectAcl"
		case has("attributes"):
			return "GetObjectAttributes"
		}
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		switch {
		case has("uploadId") && copySource:
			return "UploadPartCopy"
		case has("uploadId"):
			return "UploadPart"
		case has("tagging"):
			return "PutObjectTagging"
		case has("acl"):
			return "PutObjectAcl"
		case copySource:
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "AbortMultipartUpload"
		case has("tagging"):
			return "DeleteObjectTagging"
		}
		return "DeleteObject"
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		case has("restore"):
			return "RestoreObject"
		case has("select"):
			return "SelectObjectContent"
		}
	}
	return "Unknown"
}

// operations are the names Operation returns, for checking the names a
// test gives.
var operations = map[string]bool{}

func init() {
	for _, op := range []string{
		"ListBuckets", "ListMultipartUploads", "ListObjectVersions", "GetBucketLocation",
		"GetBucketVersioning", "GetBucketLifecycleConfiguration", "GetBucketPolicy",
		"GetBucketTagging", "ListObjectsV2", "ListObjects", "HeadBucket",
		"PutBucketVersioning", "PutBucketLifecycleConfiguration", "PutBucketPolicy",
		"PutBucketTagging", "CreateBucket", "DeleteBucketLifecycle", "DeleteBucketPolicy",
		"DeleteBucketTagging", "DeleteBucket", "DeleteObjects", "ListParts",
		"GetObjectTagging", "GetObjectAcl", "GetObjectAttributes", "GetObject",
		"HeadObject", "UploadPartCopy", "UploadPart", "PutObjectTagging", "PutObjectAcl",
		"CopyObject", "PutObject", "AbortMultipartUpload", "DeleteObjectTagging",
		"DeleteObject", "CreateMultipartUpload", "CompleteMultipartUpload",
		"RestoreObject", "SelectObjectContent", "Unknown",
	} {
		operations[op] = true
	}
}

// hasBody reports whether a 2xx reply to a request of this method and
// operation carries a body: GETs and POSTs do, and copies (their result
// is XML); HEAD, PUT and DELETE replies do not.
func hasBody(method, op string) bool {
	return method == http.MethodGet || method == http.MethodPost || op == "CopyObject" || op == "UploadPartCopy"
}
