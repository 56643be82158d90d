package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// A listing's pages reuse one slice: turning a page of 1000 keys into
// Infos allocates nothing once the first page is done, so a listing
// adds nothing per key to what the SDK allocates.
func TestPageInfosReusesThePage(t *testing.T) {
	out := &s3.ListObjectsV2Output{EncodingType: types.EncodingTypeUrl}
	for i := range 1000 {
		out.Contents = append(out.Contents, types.Object{
			Key: aws.String(fmt.Sprintf("p/k%04d", i)), Size: aws.Int64(1), ETag: aws.String(`"e"`), LastModified: aws.Time(time.Unix(1, 0)),
		})
	}
	page, err := pageInfos("b", out, nil)
	if err != nil || len(page) != 1000 || page[999].Name.Key != "p/k0999" {
		t.Fatalf("pageInfos: %d infos, %v", len(page), err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		page, _ = pageInfos("b", out, page[:0])
	})
	if allocs != 0 {
		t.Errorf("a page of 1000 keys allocates %v times, want 0", allocs)
	}
}

// listReplies are ListObjectsV2 reply bodies as servers write them, and
// with the XML a decoder must also read: entities, CDATA, comments,
// namespaces, self-closing and unknown elements, other letter case.
var listReplies = []string{
	``,
	`<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType><ContinuationToken>c1</ContinuationToken><NextContinuationToken>Y29udA==</NextContinuationToken><StartAfter>p/a</StartAfter>` +
		`<Contents><Key>p/a%20b</Key><LastModified>2024-05-06T07:08:09.123Z</LastModified><ETag>&#34;0cc175b9c0f1b6a831c399e269772661&#34;</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><Size>1024</Size><Owner><ID>o</ID><DisplayName>d</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>` +
		`<Contents><Key>p/c</Key><LastModified>2024-05-06T07:08:09Z</LastModified><ETag>&quot;abc-2&quot;</ETag><Size>0</Size><StorageClass>GLACIER</StorageClass><RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress></RestoreStatus></Contents>` +
		`<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>p/e&amp;f/</Prefix></CommonPrefixes></ListBucketResult>`,
	"<ListBucketResult>\r\n  <!-- a comment -->\r\n  <Contents>\r\n    <Key><![CDATA[a<b>&c]]></Key>\r\n    <Size>7</Size>\r\n    <Key>line\r\nend &lt;&gt;&apos;&#x41;&#9731;</Key>\r\n  </Contents>\r\n  <IsTruncated>false</IsTruncated>\r\n</ListBucketResult>\r\n",
	`<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Contents><s3:Key>k</s3:Key><s3:ETag/></s3:Contents><s3:Contents/><CommonPrefixes/><isTruncated>FALSE</isTruncated><KEY>ignored</KEY><Unknown a="x>y" b='/>'><Nested><Key>no</Key></Nested><Empty/></Unknown><Name></Name></s3:ListBucketResult>`,
	`<ListBucketResult/>`,
	`<ListBucketResult><Contents><Key>a</Key><LastModified>2024-05-06T07:08:09.5</LastModified><Size>12x</Size></Contents></ListBucketResult>`,
	`<ListBucketResult><Contents><Key>a&bogus;</Key></Contents></ListBucketResult>`,
	`<ListBucketResult><Contents><Key>a</Key>`,
	`<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>`,
	// A byte changed on the way: an error, not a shorter listing.
	`<ListBucketResult><Contents><Key>a</Key></Contents>xContents><Key>b</Key></Contents><Contents><Key>c</Key></Contents></ListBucketResult>`,
	`<ListBucketResult><Contents><Key>a</Key></Contents><Contents><Key>b</Key></Contants></ListBucketResult>`,
}

// decodeList decodes body as a ListObjectsV2 reply of status code with the
// SDK's decoder, or with List's when lean.
func decodeList(t testing.TB, body string, code int, lean bool) (*s3.ListObjectsV2Output, error) {
	t.Helper()
	var opts []func(*s3.Options)
	if lean {
		opts = append(opts, func(o *s3.Options) {
			o.APIOptions = append(o.APIOptions, swapListDecoder)
		})
	}
	ctx := context.WithValue(context.Background(), cannedReply{}, cannedReply{code, body})
	return cannedClient.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b")}, opts...)
}

// cannedReply is the reply cannedClient gives, from the request's context.
type cannedReply struct {
	code int
	body string
}

var cannedClient = s3.New(s3.Options{
	Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true,
	Credentials:      aws.AnonymousCredentials{},
	RetryMaxAttempts: 1,
	HTTPClient: httpDoer(func(r *http.Request) (*http.Response, error) {
		c := r.Context().Value(cannedReply{}).(cannedReply)
		return &http.Response{StatusCode: c.code, Header: http.Header{"Content-Type": {"application/xml"}},
			Body: io.NopCloser(strings.NewReader(c.body)), Request: r}, nil
	}),
})

type httpDoer func(*http.Request) (*http.Response, error)

func (f httpDoer) Do(r *http.Request) (*http.Response, error) { return f(r) }

var listCmp = []cmp.Option{
	cmpopts.IgnoreFields(s3.ListObjectsV2Output{}, "ResultMetadata"),
	cmpopts.IgnoreUnexported(s3.ListObjectsV2Output{}, types.Object{}, types.CommonPrefix{}, types.Owner{}, types.RestoreStatus{}),
	cmpopts.EquateEmpty(),
	// What List does not read, the decoder passes over.
	cmpopts.IgnoreFields(types.Object{}, "ChecksumAlgorithm", "ChecksumType", "Owner", "RestoreStatus"),
}

// checkListDecoder fails unless List's decoder reads body as the SDK's
// does: the same output, or an error where the SDK errs.
func checkListDecoder(t *testing.T, body string) {
	t.Helper()
	want, wantErr := decodeList(t, body, 200, false)
	got, err := decodeList(t, body, 200, true)
	if wantErr != nil {
		if err == nil {
			// Reading more than the SDK is no defect only where the SDK
			// stumbles on a token it could skip; every case here errs on
			// a value.
			t.Errorf("List's decoder read %q, which the SDK refuses (%v):\n%+v", body, wantErr, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("List's decoder: %v; the SDK's read %q", err, body)
	}
	if d := cmp.Diff(want, got, listCmp...); d != "" {
		t.Errorf("List's decoder differs from the SDK's on %q (-sdk +lean):\n%s", body, d)
	}
}

func TestListDecoderReadsAsTheSDK(t *testing.T) {
	for i, body := range listReplies {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkListDecoder(t, body) })
	}
	// Error replies go to the SDK's decoder: the same error.
	const errBody = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>no such bucket</Message></Error>`
	_, want := decodeList(t, errBody, 404, false)
	_, got := decodeList(t, errBody, 404, true)
	var nsb *types.NoSuchBucket
	if !errors.As(got, &nsb) || want.Error() != got.Error() {
		t.Errorf("error reply: %v; want %v", got, want)
	}
}

// A page of 1000 keys costs the decoder two allocations per key (the key
// and the ETag), where the SDK's makes dozens.
func TestListDecoderAllocations(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType>`)
	for i := range 1000 {
		fmt.Fprintf(&b, `<Contents><Key>p/k%04d</Key><LastModified>2024-05-06T07:08:09.123Z</LastModified><ETag>&#34;0cc175b9c0f1b6a831c399e269772661&#34;</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>`, i, i)
	}
	b.WriteString(`</ListBucketResult>`)
	body := []byte(b.String())
	var out s3.ListObjectsV2Output
	allocs := testing.AllocsPerRun(5, func() {
		out = s3.ListObjectsV2Output{}
		if err := parseListV2(body, &out); err != nil {
			t.Fatal(err)
		}
	})
	if len(out.Contents) != 1000 || aws.ToString(out.Contents[999].Key) != "p/k0999" || aws.ToInt64(out.Contents[999].Size) != 999 {
		t.Fatalf("decoded %d keys, the last %+v", len(out.Contents), out.Contents[len(out.Contents)-1])
	}
	if perKey := allocs / 1000; perKey > 2.1 {
		t.Errorf("%.2f allocations per key; want 2", perKey)
	}
}

// FuzzListDecoder: List's decoder never reads a document otherwise than
// the SDK's. Where the SDK reads a malformed document (it stops at the
// end of the body, and reads "<!" directives loosely), List's may refuse
// it instead: an error, never other data.
func FuzzListDecoder(f *testing.F) {
	for _, body := range listReplies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		want, wantErr := decodeList(t, body, 200, false)
		got, err := decodeList(t, body, 200, true)
		if wantErr != nil || err != nil {
			return
		}
		if d := cmp.Diff(want, got, listCmp...); d != "" {
			t.Errorf("List's decoder differs from the SDK's on %q (-sdk +lean):\n%s", body, d)
		}
	})
}
