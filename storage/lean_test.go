package storage_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// stackIDs lists the IDs of every step of a request's stack.
func stackIDs(st *middleware.Stack) []string {
	var ids []string
	for _, l := range [][]string{st.Initialize.List(), st.Serialize.List(), st.Build.List(), st.Finalize.List(), st.Deserialize.List()} {
		ids = append(ids, l...)
	}
	return ids
}

// Storage's own requests go without the steps it does not need (the SDK's
// response checksum validation, the invocation ID, Lambda's recursion
// detection) and still sign, reach the server and verify; the caller's
// APIOptions still run on them; Client() keeps the SDK's whole stack.
func TestLeanStack(t *testing.T) {
	removed := []string{"AWSChecksum:ValidateOutputPayloadChecksum", "AWSChecksum:SetupOutputContext", "ClientRequestID", "RecursionDetection"}
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		var mu sync.Mutex
		seen := map[string][]string{} // operation → the step IDs of its stack
		record := func(st *middleware.Stack) error {
			mu.Lock()
			defer mu.Unlock()
			seen[st.ID()] = stackIDs(st)
			return nil
		}
		st, err := storage.New(tg.Storage.Client(), &storage.Options{
			DefaultBucket: tg.Config.DefaultBucket,
			APIOptions:    []func(*middleware.Stack) error{record},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		n := storage.Name{Key: "lean"}
		data := []byte("a small value")
		if _, err := st.Put(ctx, n, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		r, err := st.Get(ctx, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get = %q, %v; want %q", got, err, data)
		}
		if ok, _, err := st.Exists(ctx, n); !ok || err != nil {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
		for _, op := range []string{"PutObject", "GetObject", "HeadObject"} {
			ids, ok := seen[op]
			if !ok {
				t.Errorf("%s: the caller's APIOptions did not run", op)
				continue
			}
			if !slices.Contains(ids, "Signing") || !slices.Contains(ids, "Retry") {
				t.Errorf("%s: stack lacks Signing or Retry: %v", op, ids)
			}
			for _, id := range removed {
				if slices.Contains(ids, id) {
					t.Errorf("%s: storage's request still has %s", op, id)
				}
			}
		}
		clear(seen)
		out, err := st.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tg.Config.DefaultBucket), Key: aws.String(n.Key)})
		if err != nil {
			t.Fatal(err)
		}
		out.Body.Close()
		for _, id := range []string{"AWSChecksum:ValidateOutputPayloadChecksum", "ClientRequestID", "RecursionDetection"} {
			if !slices.Contains(seen["GetObject"], id) {
				t.Errorf("Client().GetObject lacks %s: Client() must keep the SDK's stack", id)
			}
		}
	})
}
