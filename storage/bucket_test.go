package storage_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

func TestBuckets(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		b := s3test.NewBucketName()
		if ok, err := st.BucketExists(ctx, b); ok || err != nil {
			t.Fatalf("BucketExists before create: %v, %v", ok, err)
		}
		if err := st.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateBucket(ctx, b); err != nil && !errors.Is(err, storage.ErrBucketExists) {
			t.Errorf("creating it again: %v; want nil or ErrBucketExists", err)
		}
		if ok, err := st.BucketExists(ctx, b); !ok || err != nil {
			t.Errorf("BucketExists after create: %v, %v", ok, err)
		}
		all, err := st.Buckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(all, func(bi storage.BucketInfo) bool { return bi.Name == b }) {
			t.Errorf("Buckets does not list %s: %v", b, all)
		}
		st.Put(ctx, storage.Name{Bucket: b, Key: "k"}, strings.NewReader("x"), nil)
		if err := st.DeleteBucket(ctx, b); !errors.Is(err, storage.ErrBucketNotEmpty) {
			t.Errorf("DeleteBucket of a bucket with an object: %v; want ErrBucketNotEmpty", err)
		}
		st.Delete(ctx, storage.Name{Bucket: b, Key: "k"})
		if err := st.DeleteBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.BucketExists(ctx, b); ok || err != nil {
			t.Errorf("BucketExists after delete: %v, %v", ok, err)
		}
		if err := st.CreateBucket(ctx, "Bad_Name"); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("CreateBucket Bad_Name: %v; want ErrInvalidName", err)
		}
	})
}
