package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// progRecorder keeps every progress report.
type progRecorder struct {
	mu    sync.Mutex
	calls []storage.Progress
}

func (r *progRecorder) record(p storage.Progress) {
	r.mu.Lock()
	r.calls = append(r.calls, p)
	r.mu.Unlock()
}

// ctx returns a context reporting to r every interval.
func (r *progRecorder) ctx(interval time.Duration) context.Context {
	return storage.WithProgress(context.Background(), r.record, interval)
}

// check verifies the reports of one operation: all of op in unit, Done
// never going backwards nor past a known Total, one Final call, last, whose
// Done is wantDone and Total wantTotal.
func (r *progRecorder) check(t *testing.T, op string, unit storage.Unit, wantDone, wantTotal int64) []storage.Progress {
	t.Helper()
	r.mu.Lock()
	calls := slices.Clone(r.calls)
	r.calls = nil
	r.mu.Unlock()
	if len(calls) == 0 {
		t.Fatalf("%s: no progress reported", op)
	}
	var last int64
	for i, c := range calls {
		if c.Op != op || c.Unit != unit {
			t.Errorf("%s: call %d is %+v", op, i, c)
		}
		if c.Done < last {
			t.Errorf("%s: Done went back from %d to %d", op, last, c.Done)
		}
		if c.Total >= 0 && c.Done > c.Total {
			t.Errorf("%s: Done %d over Total %d", op, c.Done, c.Total)
		}
		if c.Final != (i == len(calls)-1) {
			t.Errorf("%s: call %d of %d has Final %v", op, i+1, len(calls), c.Final)
		}
		last = c.Done
	}
	end := calls[len(calls)-1]
	if end.Done != wantDone || end.Total != wantTotal {
		t.Errorf("%s: final call %d of %d %s, want %d of %d", op, end.Done, end.Total, unit, wantDone, wantTotal)
	}
	return calls
}

// onlyReader hides every method but Read (a stream that cannot seek).
type onlyReader struct{ io.Reader }

func TestProgress(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		const size = 11 << 20 // three parts of 5 MiB
		st := withTransport(t, tg, func(rt http.RoundTripper) http.RoundTripper { return rt },
			&storage.Options{PartSize: 5 << 20, MultipartThreshold: 5 << 20, ParallelReadThreshold: 5 << 20, Concurrency: 2})
		data := randomBytes(t, size)
		var r progRecorder
		n := storage.Name{Key: "big"}

		if _, err := st.Put(r.ctx(0), n, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		if calls := r.check(t, "Put", storage.Bytes, size, size); len(calls) != 4 {
			t.Errorf("Put in 3 parts: %d calls, want one per part and a final one: %+v", len(calls), calls)
		}
		if _, err := st.Put(r.ctx(0), n, onlyReader{bytes.NewReader(data)}, nil); err != nil {
			t.Fatal(err)
		}
		r.check(t, "Put", storage.Bytes, size, -1)
		if _, err := st.Put(r.ctx(0), n, onlyReader{bytes.NewReader(data)}, &storage.PutOptions{Size: size}); err != nil {
			t.Fatal(err)
		}
		r.check(t, "Put", storage.Bytes, size, size)

		w := st.NewWriter(r.ctx(0), n, nil)
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r.check(t, "NewWriter", storage.Bytes, size, -1)

		dir := t.TempDir()
		local := writeFile(t, dir, "up", data)
		if err := st.Write(r.ctx(0), local, n, nil); err != nil {
			t.Fatal(err)
		}
		r.check(t, "Write", storage.Bytes, size, size)

		// Read in parallel ranges (the threshold is one part).
		if _, err := st.Read(r.ctx(0), n, filepath.Join(dir, "down")); err != nil {
			t.Fatal(err)
		}
		if calls := r.check(t, "Read", storage.Bytes, size, size); len(calls) < 3 {
			t.Errorf("Read: %d calls, want more than the final one and one other", len(calls))
		}

		rd, err := st.Get(r.ctx(0), n, &storage.GetOptions{Offset: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rd); err != nil {
			t.Fatal(err)
		}
		rd.Close()
		r.check(t, "Get", storage.Bytes, size-1<<20, size-1<<20)

		// A Get closed early: its final call says how far it got.
		rd, err = st.Get(r.ctx(0), n, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, rd, 1000); err != nil {
			t.Fatal(err)
		}
		rd.Close()
		if end := r.check(t, "Get", storage.Bytes, 1000, size); len(end) == 0 {
			t.Fatal("no calls")
		}

		if err := st.Copy(r.ctx(0), n, storage.Name{Key: "copy"}, nil); err != nil {
			t.Fatal(err)
		}
		r.check(t, "Copy", storage.Bytes, size, size)

		if !tg.Caps.NoUploadPartCopy {
			st2 := withTransport(t, tg, func(rt http.RoundTripper) http.RoundTripper { return rt },
				&storage.Options{CopyThreshold: 1, CopyPartSize: 5 << 20})
			if err := st2.Copy(r.ctx(0), n, storage.Name{Key: "copy"}, nil); err != nil {
				t.Fatal(err)
			}
			if calls := r.check(t, "Copy", storage.Bytes, size, size); len(calls) != 4 {
				t.Errorf("Copy in 3 parts: %d calls, want 4: %+v", len(calls), calls)
			}
		}
	})
}

// A long interval leaves only the final call; the same transfer with no
// interval reports every part.
func TestProgressThrottled(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		const size = 26 << 20 // six parts of 5 MiB
		st := withTransport(t, tg, func(rt http.RoundTripper) http.RoundTripper { return rt },
			&storage.Options{PartSize: 5 << 20, MultipartThreshold: 5 << 20})
		data := randomBytes(t, size)
		n := storage.Name{Key: "big"}
		var r progRecorder
		if _, err := st.Put(r.ctx(time.Hour), n, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		if calls := r.check(t, "Put", storage.Bytes, size, size); len(calls) != 1 {
			t.Errorf("Put with an interval of an hour: %d calls, want 1 (the final one)", len(calls))
		}
		rd, err := st.Get(r.ctx(time.Hour), n, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rd); err != nil {
			t.Fatal(err)
		}
		rd.Close()
		if calls := r.check(t, "Get", storage.Bytes, size, size); len(calls) != 1 {
			t.Errorf("Get with an interval of an hour: %d calls, want 1", len(calls))
		}
		rd, err = st.Get(r.ctx(0), n, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rd); err != nil {
			t.Fatal(err)
		}
		rd.Close()
		if calls := r.check(t, "Get", storage.Bytes, size, size); len(calls) < 10 {
			t.Errorf("Get with no interval: %d calls, want one per read", len(calls))
		}
	})
}

// Parts sent again and bodies resumed count once: with an unknown total
// (nothing caps Done), the final Done is still the size.
func TestProgressUnderFaults(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		const size = 11 << 20
		inj := newInjector()
		st := withTransport(t, tg, inj.Transport, &storage.Options{PartSize: 5 << 20, MultipartThreshold: 5 << 20})
		data := randomBytes(t, size)
		n := storage.Name{Key: "big"}
		var r progRecorder
		inj.Script("UploadPart", s3test.ResetAfter, s3test.InternalErrorAfter)
		if _, err := st.Put(r.ctx(0), n, onlyReader{bytes.NewReader(data)}, nil); err != nil {
			t.Fatal(err)
		}
		if inj.Pending() != 0 {
			t.Fatal("the UploadPart faults did not hit")
		}
		r.check(t, "Put", storage.Bytes, size, -1)

		inj.Script("GetObject", s3test.ResetMidBody)
		rd, err := st.Get(r.ctx(0), n, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rd)
		rd.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get after a reset: %d bytes, %v", len(got), err)
		}
		if inj.Pending() != 0 {
			t.Fatal("the GetObject fault did not hit")
		}
		calls := r.check(t, "Get", storage.Bytes, size, size)
		// Without the cap at Total, a resumed body counted twice shows.
		var sum int64
		for i := 1; i < len(calls); i++ {
			sum += calls[i].Done - calls[i-1].Done
		}
		if sum+calls[0].Done != size {
			t.Errorf("Get: steps add up to %d, want %d", sum+calls[0].Done, size)
		}
	})
}

func TestProgressDeleteMany(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		const count = 25
		keys := make([]string, count)
		for i := range keys {
			keys[i] = fmt.Sprintf("k/%02d", i)
			if _, err := tg.Storage.Put(ctx, storage.Name{Key: keys[i]}, bytes.NewReader(nil), nil); err != nil {
				t.Fatal(err)
			}
		}
		var r progRecorder
		if err := tg.Storage.DeleteMany(r.ctx(0), "", slices.Values(keys)); err != nil {
			t.Fatal(err)
		}
		calls := r.check(t, "DeleteMany", storage.Keys, count, -1)
		if got := calls[0].Name; got.Key != "" || got.Bucket == "" {
			t.Errorf("DeleteMany reports name %+v, want the bucket only", got)
		}
	})
}

// A context without WithProgress, or with a nil function, reports nothing
// and costs nothing; the Unit prints as a word.
func TestProgressOff(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	ctx := storage.WithProgress(context.Background(), nil, 0)
	if _, err := srv.Storage().Put(ctx, storage.Name{Key: "a"}, bytes.NewReader([]byte("x")), nil); err != nil {
		t.Fatal(err)
	}
	if b, k := storage.Bytes.String(), storage.Keys.String(); b != "bytes" || k != "keys" {
		t.Errorf("Unit strings %q, %q", b, k)
	}
}
