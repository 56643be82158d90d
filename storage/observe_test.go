package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/smithy-go/middleware"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// opRecorder is SDK middleware that records the S3 operations sent.
type opRecorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *opRecorder) add(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("test:record",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.mu.Lock()
			r.ops = append(r.ops, middleware.GetOperationName(ctx))
			r.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (r *opRecorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// Options.APIOptions reach every request, of a client Open builds and of
// one given to New (which is left as it was).
func TestAPIOptions(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		var opened opRecorder
		st, err := storage.OpenWith(ctx, tg.Config, &storage.Options{APIOptions: []func(*middleware.Stack) error{opened.add}})
		if err != nil {
			t.Fatal(err)
		}
		if st.DefaultBucket() != tg.Config.DefaultBucket {
			t.Errorf("OpenWith's default bucket %q, want the config's %q", st.DefaultBucket(), tg.Config.DefaultBucket)
		}
		if _, err := st.Put(ctx, storage.Name{Key: "k"}, strings.NewReader("v"), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Stat(ctx, storage.Name{Key: "k"}); err != nil {
			t.Fatal(err)
		}
		if got, want := opened.list(), []string{"PutObject", "HeadObject"}; !slices.Equal(got, want) {
			t.Errorf("OpenWith: middleware saw %v, want %v", got, want)
		}

		var wrapped opRecorder
		st2, err := storage.New(tg.Storage.Client(), &storage.Options{DefaultBucket: tg.Config.DefaultBucket, APIOptions: []func(*middleware.Stack) error{wrapped.add}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st2.Stat(ctx, storage.Name{Key: "k"}); err != nil {
			t.Fatal(err)
		}
		if _, err := tg.Storage.Stat(ctx, storage.Name{Key: "k"}); err != nil {
			t.Fatal(err)
		}
		if got, want := wrapped.list(), []string{"HeadObject"}; !slices.Equal(got, want) {
			t.Errorf("New: middleware saw %v, want %v (the client given to New keeps none)", got, want)
		}
	})
}

// watcher is an Observer that records what it is told.
type watcher struct {
	mu    sync.Mutex
	lines []string
}

func (w *watcher) log(format string, args ...any) {
	w.mu.Lock()
	w.lines = append(w.lines, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

func (w *watcher) Begin(ctx context.Context, op storage.Op) context.Context {
	w.log("begin %s %s", op.Name, op.Object)
	return ctx
}

func (w *watcher) End(_ context.Context, op storage.Op, r storage.Result) {
	w.log("end %s %s in=%d out=%d", op.Name, r.Outcome, r.BytesIn, r.BytesOut)
}

func (w *watcher) Event(_ context.Context, e storage.Event) {
	w.log("event %s %s %d %s", e.Kind, e.Request, e.Attempt, e.Verdict)
}

// The Observer sees one Begin and one End per operation (not for the
// Stat inside Exists), with outcomes and bytes; a Get ends with its
// Reader; a bad name is the outcome invalid; an SDK retry is an event.
func TestObserver(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		inj := s3test.NewInjector(nil)
		var w watcher
		st, err := storage.OpenWith(ctx, tg.WithFaults(t, inj).Config, &storage.Options{Observer: &w})
		if err != nil {
			t.Fatal(err)
		}
		b := tg.Config.DefaultBucket
		if _, err := st.Put(ctx, storage.Name{Key: "k"}, strings.NewReader("hello"), nil); err != nil {
			t.Fatal(err)
		}
		inj.Script("GetObject", s3test.SlowDownBefore)
		r, err := st.Get(ctx, storage.Name{Key: "k"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 16)
		for err == nil {
			_, err = r.Read(buf)
		}
		r.Close()
		st.Exists(ctx, storage.Name{Key: "nope"})
		st.Stat(ctx, storage.Name{Key: ""})
		want := []string{
			"begin Put s3://" + b + "/k", "end Put ok in=0 out=5",
			"begin Get s3://" + b + "/k", "event retry GetObject 2 ", "end Get ok in=5 out=0",
			"begin Exists s3://" + b + "/nope", "end Exists ok in=0 out=0",
			"begin Stat s3://" + b, "end Stat invalid in=0 out=0",
		}
		if !slices.Equal(w.lines, want) {
			t.Errorf("observed:\n%s\nwant:\n%s", strings.Join(w.lines, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestOutcome(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{&storage.Error{Op: "Get", Err: storage.ErrNotFound}, "not_found"},
		{&storage.Error{Op: "Put", Err: fmt.Errorf("%w: %w", storage.ErrOutcomeUnknown, storage.ErrPreconditionFailed)}, "outcome_unknown"},
		{fmt.Errorf("x: %w", context.Canceled), "canceled"},
		{errors.New("boom"), "error"},
	} {
		if got := storage.Outcome(c.err); got != c.want {
			t.Errorf("Outcome(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
