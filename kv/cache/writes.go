package cache

import "sync"

// writeTracker keeps a read that overlapped a write from filling a cache
// with what may be the old value. Writes bracket themselves with
// writeStart and writeEnd; a read takes a fillTicket before it asks the
// store behind and may fill only if fillAllowed says no write ran since.
// Cache uses one; Tiered one per stripe of keys. The zero value is ready.
type writeTracker struct {
	mu     sync.Mutex
	active int    // writes under way
	epoch  uint64 // writes started so far
}

// writeTicket is what a write learns when it starts.
type writeTicket struct {
	alone bool   // no other write was under way
	epoch uint64 // the epoch the write started
}

// fillTicket is what a read learns before it asks the store behind.
type fillTicket struct {
	ok    bool   // no write was under way
	epoch uint64 // writes started so far
}

// writeStart records a write that starts; writeEnd must follow.
func (w *writeTracker) writeStart() writeTicket {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := writeTicket{alone: w.active == 0}
	w.active++
	w.epoch++
	t.epoch = w.epoch
	return t
}

// writeEnd records that a write ended.
func (w *writeTracker) writeEnd() {
	w.mu.Lock()
	w.active--
	w.mu.Unlock()
}

// overlapped reports whether another write ran during the write of t: one
// was under way when it started, or one started since.
func (w *writeTracker) overlapped(t writeTicket) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !t.alone || w.epoch != t.epoch
}

// fillStart records a read that may fill the cache.
func (w *writeTracker) fillStart() fillTicket {
	w.mu.Lock()
	defer w.mu.Unlock()
	return fillTicket{ok: w.active == 0, epoch: w.epoch}
}

// fillAllowed reports whether a read that started with t may store what it
// read: no write ran at any time since it started.
func (w *writeTracker) fillAllowed(t fillTicket) bool {
	if !t.ok {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.epoch == t.epoch
}
