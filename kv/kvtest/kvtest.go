package kvtest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/s3map/s3map/kv"
)

// Options tunes Run. A nil *Options means the defaults.
type Options struct {
	// KeyPrefixLen is how many bytes the store puts before every key (for
	// example the length of a bucket map's root prefix). Run uses it to
	// build the longest key the store must accept. Default 0.
	KeyPrefixLen int

	// ManyKeys is how many keys the listing tests write. Default 2500, so
	// that a listing spans several pages of 1000.
	ManyKeys int

	// FailingKeys returns a store whose listing fails: its Keys error
	// function must report a non-nil error. Nil skips that test.
	FailingKeys func(t *testing.T) kv.Store[[]byte]

	// UnsupportedKeys names keys of the odd-keys tests that the store
	// cannot hold, each with the reason (for example "a//b": "MinIO
	// refuses // in keys with 400"). Their tests skip with the reason.
	UnsupportedKeys map[string]string

	// Skip names subtests, by their path below Run's test (for example
	// "Versioned/CompareAndDelete"), that the store cannot pass, each with
	// the reason. They skip with the reason, under WithPrefix too.
	Skip map[string]string
}

// Run checks that stores made by newStore meet the kv.Store contract and
// the contract of each optional ability they have. Each subtest gets a
// fresh store from newStore, which should register its own cleanup with
// t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) kv.Store[[]byte], opts *Options) {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		if err := s.Set(ctx, "k", []byte("v")); err != nil {
			t.Fatalf("Set: %v", err)
		}
		got, err := s.Get(ctx, "k")
		if err != nil || !bytes.Equal(got, []byte("v")) {
			t.Fatalf("Get = %q, %v; want \"v\", nil", got, err)
		}
		if _, err := s.Get(ctx, "missing"); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("Get(missing) error = %v; want ErrNotFound", err)
		}
	})
}
