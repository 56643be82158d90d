package storage_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// The seed's first flow: write a file, check it exists, read it back,
// compare, delete, check it is gone.
func TestWriteExistsReadDelete(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		st := tg.Storage
		dir := t.TempDir()
		data := randomBytes(t, 100_000)
		src := writeFile(t, dir, "in.bin", data)
		name := storage.Name{Key: "flow/one.bin"}

		if err := st.Write(ctx, src, name, nil); err != nil {
			t.Fatal(err)
		}
		ok, md, err := st.Exists(ctx, name)
		if err != nil || !ok {
			t.Fatalf("Exists after Write = %v, %v, %v; want true", ok, md, err)
		}
		if diff := cmp.Diff(storage.Metadata{}, md); diff != "" {
			t.Errorf("metadata of an object written without any (-want +got):\n%s", diff)
		}
		dst := filepath.Join(dir, "out.bin")
		if _, err := st.Read(ctx, name, dst); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
		}
		if err := st.Delete(ctx, name); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := st.Exists(ctx, name); ok || err != nil {
			t.Fatalf("Exists after Delete = %v, %v; want false, nil", ok, err)
		}
		if err := st.Delete(ctx, name); err != nil {
			t.Errorf("deleting a missing object: %v; want nil", err)
		}
		if diff := cmp.Diff([]string{"in.bin", "out.bin"}, dirNames(t, dir)); diff != "" {
			t.Errorf("files left beside the target (-want +got):\n%s", diff)
		}
	})
}

func TestWriteContentTypeFromExtension(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		dir := t.TempDir()
		for file, want := range map[string]string{"a.json": "application/json", "b.html": "text/html; charset=utf-8"} {
			if err := tg.Storage.Write(ctx, writeFile(t, dir, file, []byte("{}")), storage.Name{Key: file}, nil); err != nil {
				t.Fatal(err)
			}
			info, err := tg.Storage.Stat(ctx, storage.Name{Key: file})
			if err != nil {
				t.Fatal(err)
			}
			if info.ContentType != want {
				t.Errorf("%s: Content-Type %q; want %q", file, info.ContentType, want)
			}
		}
	})
}
