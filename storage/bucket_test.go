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
		if err := st.CreateBucket(ctx, b); !errors.Is(err, storage.ErrBucketExists) {
			t.Errorf("creating it again: %v; want ErrBucketExists (moto answers 200)", err)
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

// CreateBucket("") means the default bucket, as BucketExists(""),
// List("") and DeleteMany("") do.
func TestCreateDefaultBucket(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		if err := tg.Storage.CreateBucket(ctx, ""); !errors.Is(err, storage.ErrBucketExists) {
			t.Errorf("CreateBucket(\"\") with the test's bucket as default: %v; want ErrBucketExists", err)
		}
		cfg := tg.Config
		cfg.DefaultBucket = s3test.NewBucketName()
		st, err := storage.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateBucket(ctx, ""); err != nil {
			t.Fatalf("CreateBucket(\"\") with a new default bucket: %v", err)
		}
		t.Cleanup(func() { s3test.RemoveBucket(context.Background(), st, cfg.DefaultBucket) })
		if ok, err := st.BucketExists(ctx, cfg.DefaultBucket); !ok || err != nil {
			t.Errorf("BucketExists after CreateBucket(\"\"): %v, %v", ok, err)
		}
		cfg.DefaultBucket = ""
		none, err := storage.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := none.CreateBucket(ctx, ""); !errors.Is(err, storage.ErrNoBucket) {
			t.Errorf("CreateBucket(\"\") without a default bucket: %v; want ErrNoBucket", err)
		}
	})
}
