// Package seqerr is the one way s3map's packages return a sequence with an
// error function, (iter.Seq[T], func() error), as kv.Store.Keys,
// storage.Storage.List and kv.All do.
//
// The promise, written once here and in kv.Store's documentation: each
// range over the sequence runs afresh; the error function reports the
// failure of the range that ended last (nil when it ended without one,
// including by a break); one sequence may be ranged from several
// goroutines at once without a data race, and then the error function
// reports the outcome of whichever range ended last. For one error per
// goroutine, ask for a sequence per goroutine.
package seqerr

import (
	"iter"
	"sync"
)

// state holds the outcome of the latest range to end.
type state struct {
	mu  sync.Mutex
	err error
}

func (s *state) set(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *state) get() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// New returns a sequence that calls run on each range, and an error
// function that reports what the range that ended last returned. run
// yields values and returns nil when it ended normally or yield returned
// false, and the failure otherwise; it must stop calling yield once yield
// returns false.
func New[T any](run func(yield func(T) bool) error) (iter.Seq[T], func() error) {
	var s state
	seq := func(yield func(T) bool) {
		s.set(run(yield))
	}
	return seq, s.get
}

// New2 is New for a sequence of pairs.
func New2[K, V any](run func(yield func(K, V) bool) error) (iter.Seq2[K, V], func() error) {
	var s state
	seq := func(yield func(K, V) bool) {
		s.set(run(yield))
	}
	return seq, s.get
}

// Fail returns a sequence that yields nothing and whose error function
// reports err once it has been ranged over (and before, so that a caller
// that never ranges still sees it).
func Fail[T any](err error) (iter.Seq[T], func() error) {
	return func(func(T) bool) {}, func() error { return err }
}

// Fail2 is Fail for a sequence of pairs.
func Fail2[K, V any](err error) (iter.Seq2[K, V], func() error) {
	return func(func(K, V) bool) {}, func() error { return err }
}
