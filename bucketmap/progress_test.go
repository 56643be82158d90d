package bucketmap_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// Clear reports the keys it deletes, SetFrom and NewReader the bytes they
// move, through storage.WithProgress.
func TestProgressThroughBucketMap(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		m := newMap(t, tg, nil, nil)
		var (
			mu    sync.Mutex
			final []storage.Progress
		)
		ctx := storage.WithProgress(context.Background(), func(p storage.Progress) {
			if p.Final {
				mu.Lock()
				final = append(final, p)
				mu.Unlock()
			}
		}, 0)
		data := bytes.Repeat([]byte("x"), 1000)
		if _, err := m.SetFrom(ctx, "big", bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		r, err := m.NewReader(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Fatal(err)
		}
		r.Close()
		for i := range 11 {
			if err := m.Set(context.Background(), fmt.Sprintf("k%d", i), []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		want := []string{"Put 1000/1000 bytes", "Get 1000/1000 bytes", "DeleteMany 12/-1 keys"}
		var got []string
		for _, p := range final {
			got = append(got, fmt.Sprintf("%s %d/%d %s", p.Op, p.Done, p.Total, p.Unit))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("final reports %q, want %q", got, want)
		}
	})
}
