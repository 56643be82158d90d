package kv_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3map/s3map/kv"
)

// alwaysConflicts is a Versioned store whose conditional writes always
// lose the race, counting the attempts.
type alwaysConflicts struct {
	*kv.Memory[[]byte]
	attempts atomic.Int64
}

func (s *alwaysConflicts) SetIfAbsent(ctx context.Context, key string, v []byte) (kv.Version, error) {
	s.attempts.Add(1)
	return "", kv.ErrConflict
}

func (s *alwaysConflicts) CompareAndSwap(ctx context.Context, key string, old kv.Version, v []byte) (kv.Version, error) {
	s.attempts.Add(1)
	return "", kv.ErrConflict
}

// fastRetries keeps the conflict tests quick.
var fastRetries = &kv.UpdateOptions{MaxAttempts: 5, MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond}

func TestUpdate(t *testing.T) {
	m := kv.NewMemory[[]byte]()
	ctx := t.Context()
	var calls []string
	fn := func(old []byte, exists bool) ([]byte, error) {
		if !exists {
			calls = append(calls, "missing")
			return []byte("a"), nil
		}
		calls = append(calls, string(old))
		return append(old, 'a'), nil
	}
	for range 3 {
		if err := kv.Update(ctx, m, "k", fn); err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.Get(ctx, "k")
	if err != nil || string(got) != "aaa" {
		t.Errorf("after three updates Get = %q, %v; want \"aaa\", nil", got, err)
	}
	if want := "missing,a,aa"; strings.Join(calls, ",") != want {
		t.Errorf("fn saw %q; want %q", strings.Join(calls, ","), want)
	}
}

func TestUpdateFnErrorAborts(t *testing.T) {
	m := kv.NewMemory[[]byte]()
	ctx := t.Context()
	if err := m.Set(ctx, "k", []byte("old")); err != nil {
		t.Fatal(err)
	}
	errRefused := errors.New("refused")
	for _, fnErr := range []error{errRefused, kv.ErrConflict} { // even a conflict from fn is not retried
		calls := 0
		err := kv.UpdateWithOptions(ctx, m, "k", func([]byte, bool) ([]byte, error) {
			calls++
			return []byte("new"), fnErr
		}, fastRetries)
		if !errors.Is(err, fnErr) || !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("Update with fn failing with %v: error = %v; want it wrapped, naming the key", fnErr, err)
		}
		if calls != 1 {
			t.Errorf("fn failing with %v was called %d times; want 1", fnErr, calls)
		}
	}
	if got, _ := m.Get(ctx, "k"); string(got) != "old" {
		t.Errorf("after failed updates Get = %q; want \"old\"", got)
	}
}

func TestUpdateNeedsVersioned(t *testing.T) {
	store := onlyS{kv.NewMemory[[]byte]()}
	called := false
	err := kv.Update(t.Context(), store, "k", func([]byte, bool) ([]byte, error) {
		called = true
		return nil, nil
	})
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "Versioned") {
		t.Errorf("Update on a store without Versioned: error = %v; want ErrUnsupported saying Versioned is needed", err)
	}
	if called {
		t.Error("fn was called on a store that cannot update")
	}
	// The message names what is missing, never a wrapper's internal type
	// (a layer over a plain store is an unexported type).
	for _, s := range []kv.Store[[]byte]{store, kv.WithPrefix[[]byte](store, "p/")} {
		err := kv.Update(t.Context(), s, "k", func([]byte, bool) ([]byte, error) { return nil, nil })
		if msg := err.Error(); strings.Contains(msg, "kv_test.") || strings.Contains(msg, "struct {") || strings.Contains(msg, "kv.prefix") || strings.Contains(msg, "*kv.") {
			t.Errorf("Update's error names an internal type: %s", msg)
		}
	}
}

func TestUpdateGivesUpAfterMaxAttempts(t *testing.T) {
	for _, exists := range []bool{false, true} {
		s := &alwaysConflicts{Memory: kv.NewMemory[[]byte]()}
		if exists {
			if err := s.Set(t.Context(), "k", []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		err := kv.UpdateWithOptions(t.Context(), s, "k", func([]byte, bool) ([]byte, error) {
			return []byte("new"), nil
		}, fastRetries)
		if !errors.Is(err, kv.ErrConflict) || !strings.Contains(err.Error(), "5 attempts") {
			t.Errorf("exists=%v: error = %v; want ErrConflict saying 5 attempts", exists, err)
		}
		if got := s.attempts.Load(); got != 5 {
			t.Errorf("exists=%v: %d conditional writes; want 5", exists, got)
		}
	}
}

func TestUpdateDefaultAttempts(t *testing.T) {
	s := &alwaysConflicts{Memory: kv.NewMemory[[]byte]()}
	err := kv.UpdateWithOptions(t.Context(), s, "k", func([]byte, bool) ([]byte, error) {
		return nil, nil
	}, &kv.UpdateOptions{MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond})
	if !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("error = %v; want ErrConflict", err)
	}
	if got := s.attempts.Load(); got != kv.DefaultUpdateMaxAttempts {
		t.Errorf("%d attempts; want DefaultUpdateMaxAttempts = %d", got, kv.DefaultUpdateMaxAttempts)
	}
}

func TestUpdateContext(t *testing.T) {
	// A cancelled context is returned as it is, before fn runs.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := kv.Update(ctx, kv.NewMemory[[]byte](), "k", func([]byte, bool) ([]byte, error) {
		t.Error("fn called with a cancelled context")
		return nil, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v; want context.Canceled", err)
	}

	// Cancelled while waiting after a conflict: no more attempts.
	ctx, cancel = context.WithCancel(t.Context())
	s := &alwaysConflicts{Memory: kv.NewMemory[[]byte]()}
	err = kv.UpdateWithOptions(ctx, s, "k", func([]byte, bool) ([]byte, error) {
		cancel()
		return nil, nil
	}, &kv.UpdateOptions{MaxAttempts: 100, MinBackoff: time.Hour, MaxBackoff: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during backoff: error = %v; want context.Canceled", err)
	}
	if got := s.attempts.Load(); got != 1 {
		t.Errorf("cancelled during backoff: %d attempts; want 1", got)
	}
}

func TestUpdateInvalidKey(t *testing.T) {
	err := kv.Update(t.Context(), kv.NewMemory[[]byte](), "bad\xff", func([]byte, bool) ([]byte, error) {
		t.Error("fn called for an invalid key")
		return nil, nil
	})
	if !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("error = %v; want ErrInvalidKey", err)
	}
}

// lostReply is a Versioned store whose conditional writes happen but whose
// replies are lost: each returns err (ErrOutcomeUnknown), as a store that
// cannot tell whether its write landed does.
type lostReply struct {
	*kv.Memory[[]byte]
	err error
}

func (s *lostReply) SetIfAbsent(ctx context.Context, key string, v []byte) (kv.Version, error) {
	if _, err := s.Memory.SetIfAbsent(ctx, key, v); err != nil {
		return "", err
	}
	return "", s.err
}

func (s *lostReply) CompareAndSwap(ctx context.Context, key string, old kv.Version, v []byte) (kv.Version, error) {
	if _, err := s.Memory.CompareAndSwap(ctx, key, old, v); err != nil {
		return "", err
	}
	return "", s.err
}

// TestUpdateStopsOnOutcomeUnknown: a write whose outcome is unknown is
// never followed by a new read and a second call of fn (which would apply
// fn on top of its own write), even when the error also says conflict.
func TestUpdateStopsOnOutcomeUnknown(t *testing.T) {
	for name, storeErr := range map[string]error{
		"unknown":              kv.ErrOutcomeUnknown,
		"unknown and conflict": errors.Join(kv.ErrOutcomeUnknown, kv.ErrConflict),
	} {
		t.Run(name, func(t *testing.T) {
			s := &lostReply{Memory: kv.NewMemory[[]byte](), err: storeErr}
			calls := 0
			err := kv.UpdateWithOptions(t.Context(), s, "k", func(old []byte, _ bool) ([]byte, error) {
				calls++
				return append(old, '+'), nil
			}, fastRetries)
			if !errors.Is(err, kv.ErrOutcomeUnknown) {
				t.Errorf("error = %v; want ErrOutcomeUnknown", err)
			}
			if calls != 1 {
				t.Errorf("fn called %d times; want once", calls)
			}
			if v, _ := s.Memory.Get(t.Context(), "k"); string(v) != "+" {
				t.Errorf("stored %q; want %q: applied exactly once", v, "+")
			}
		})
	}
}
