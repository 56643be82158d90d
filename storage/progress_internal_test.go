package storage

import (
	"context"
	"sync"
	"testing"
)

// With no interval, every step reports, also when steps end at once on
// several goroutines (the parts of one transfer): none is lost to
// another's report.
func TestProgressEveryStepWithoutInterval(t *testing.T) {
	var (
		mu    sync.Mutex
		calls int
	)
	ctx := WithProgress(context.Background(), func(Progress) {
		mu.Lock()
		calls++
		mu.Unlock()
	}, 0)
	p := newProgress(ctx, "Copy", Name{Key: "k"}, -1, Bytes)
	const goroutines, steps = 8, 20000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range steps {
				p.add(1)
			}
		})
	}
	wg.Wait()
	if calls != goroutines*steps {
		t.Errorf("%d steps made %d reports; want one each", goroutines*steps, calls)
	}
}
