package storage

import (
	"fmt"
	"testing"
	"time"

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
