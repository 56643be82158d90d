package seqerr_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/s3map/s3map/internal/seqerr"
)

var errRun = errors.New("run failed")

// TestNew: each range runs afresh; the error function reports the range
// that ended last; a break is not a failure.
func TestNew(t *testing.T) {
	fail := false
	seq, errf := seqerr.New(func(yield func(int) bool) error {
		for i := range 3 {
			if !yield(i) {
				return nil
			}
		}
		if fail {
			return errRun
		}
		return nil
	})
	if got := slices.Collect(seq); !slices.Equal(got, []int{0, 1, 2}) || errf() != nil {
		t.Fatalf("first range = %v, %v", got, errf())
	}
	fail = true
	if got := slices.Collect(seq); len(got) != 3 || !errors.Is(errf(), errRun) {
		t.Fatalf("failing range = %v, %v; want 3 values and errRun", got, errf())
	}
	for range seq {
		break
	}
	if err := errf(); err != nil {
		t.Errorf("after a break: %v; want nil", err)
	}
}

// TestNewConcurrentRanges: ranges from several goroutines at once each
// see every value (run with -race).
func TestNewConcurrentRanges(t *testing.T) {
	seq, errf := seqerr.New(func(yield func(int) bool) error {
		for i := range 100 {
			if !yield(i) {
				return nil
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if n := len(slices.Collect(seq)); n != 100 {
				t.Errorf("a range saw %d values; want 100", n)
			}
			_ = errf()
		})
	}
	wg.Wait()
}

func TestFail(t *testing.T) {
	seq, errf := seqerr.Fail[string](errRun)
	if got := slices.Collect(seq); len(got) != 0 || !errors.Is(errf(), errRun) {
		t.Errorf("Fail = %v, %v", got, errf())
	}
}
