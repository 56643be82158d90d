package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"slices"
	"time"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// A progress bar: the operation calls the function at most every 100 ms
// while it runs, and once more when it ends. Here only the final calls
// are printed, so the output does not depend on timing.
func ExampleWithProgress() {
	srv := s3test.NewServer()
	defer srv.Close()
	st := srv.Storage()

	show := func(p storage.Progress) {
		if p.Final {
			fmt.Printf("%s %s: %d of %d %s\n", p.Op, p.Name.Key, p.Done, p.Total, p.Unit)
		}
	}
	ctx := storage.WithProgress(context.Background(), show, 100*time.Millisecond)

	data := bytes.Repeat([]byte("s3map "), 1000)
	if _, err := st.Put(ctx, storage.Name{Key: "logs/a"}, bytes.NewReader(data), nil); err != nil {
		log.Fatal(err)
	}
	r, err := st.Get(ctx, storage.Name{Key: "logs/a"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		log.Fatal(err)
	}
	r.Close()
	if err := st.DeleteMany(ctx, "", slices.Values([]string{"logs/a", "logs/b"})); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Put logs/a: 6000 of 6000 bytes
	// Get logs/a: 6000 of 6000 bytes
	// DeleteMany : 2 of -1 keys
}
