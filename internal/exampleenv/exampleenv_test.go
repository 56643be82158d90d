package exampleenv_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/s3map/s3map/internal/exampleenv"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// Close removes everything the run wrote under its prefix and the buckets
// it created, says so, and leaves everything else.
func TestCloseRemovesWhatTheRunMade(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := t.Context()
		st := tg.Storage
		put := func(n storage.Name) {
			t.Helper()
			if _, err := st.Put(ctx, n, strings.NewReader("v"), nil); err != nil {
				t.Fatal(err)
			}
		}
		outside := storage.Name{Key: "s3map-example/test-outside"}
		put(outside)
		var notes bytes.Buffer
		e := exampleenv.New(st, "test", &notes)
		if other := exampleenv.New(st, "test", nil); other.Prefix == e.Prefix {
			t.Fatalf("two runs share the prefix %s", e.Prefix)
		}
		put(storage.Name{Key: e.Prefix + "a"})
		put(storage.Name{Key: e.Prefix + "b/c"})
		bucket, err := e.NewBucket(ctx)
		if err != nil {
			t.Fatal(err)
		}
		put(storage.Name{Bucket: bucket, Key: "x"})
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		infos, errf := st.List(ctx, "", e.Prefix, nil)
		for info := range infos {
			t.Errorf("left behind: %s", info.Name)
		}
		if err := errf(); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.BucketExists(ctx, bucket); ok || err != nil {
			t.Errorf("BucketExists(%s) after Close = %v, %v; want false, nil", bucket, ok, err)
		}
		if ok, _, err := st.Exists(ctx, outside); !ok || err != nil {
			t.Errorf("Exists(%s) after Close = %v, %v; want true", outside, ok, err)
		}
		for _, want := range []string{"created bucket " + bucket, "removed 2 objects under s3://" + st.DefaultBucket() + "/" + e.Prefix, "removed bucket " + bucket} {
			if !strings.Contains(notes.String(), want) {
				t.Errorf("notes do not say %q:\n%s", want, notes.String())
			}
		}
		if err := st.Delete(context.Background(), outside); err != nil {
			t.Fatal(err)
		}
	})
}
