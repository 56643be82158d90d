package storage

import (
	"sync"
	"time"
)

// SetCleanupTimeouts shortens the clean-up bounds for a test; the returned
// function restores them.
func SetCleanupTimeouts(total, attempt time.Duration) (restore func()) {
	t, a := cleanupTimeout, abortAttemptTimeout
	cleanupTimeout, abortAttemptTimeout = total, attempt
	return func() { cleanupTimeout, abortAttemptTimeout = t, a }
}

// SetVerifyReads turns the checksum part of read verification on or off,
// for the benchmarks that measure its cost. Lengths are always checked.
func SetVerifyReads(on bool) { verifyReads.Store(on) }

// SetSlowStream makes Read's adaptive choice answer slow (parallel ranges)
// or not, without timing; the returned function restores it.
func SetSlowStream(slow bool) (restore func()) {
	old := slowStream
	slowStream = func(int64, time.Duration) bool { return slow }
	return func() { slowStream = old }
}

// SetParallelHooks sets hooks into parallel downloads: beforePart is
// called with a part's offset before its ranged GET, hashed with how many
// bytes of the file the digest has covered while hashing the written
// prefix. The returned function removes them.
func SetParallelHooks(beforePart func(off int64), hashed func(n int64)) (restore func()) {
	beforePartHook, hashedHook = beforePart, hashed
	return func() { beforePartHook, hashedHook = nil, nil }
}

// CountPartBuffers counts the part buffers uploads allocate (and their
// bytes) until the returned function is called, which reports them.
func CountPartBuffers() (stop func() (n int, bytes int64)) {
	var mu sync.Mutex
	var count int
	var total int64
	bufAllocHook = func(size int) {
		mu.Lock()
		count++
		total += int64(size)
		mu.Unlock()
	}
	return func() (int, int64) {
		bufAllocHook = nil
		mu.Lock()
		defer mu.Unlock()
		return count, total
	}
}

// SetWriteback sets how many bytes a download writes before it asks for
// them to be written back (0: never) and a hook told of every range asked
// for (nil: none). The returned function restores both.
func SetWriteback(every int64, hook func(off, n int64)) (restore func()) {
	e, h := writebackEvery, writebackHook
	writebackEvery, writebackHook = every, hook
	return func() { writebackEvery, writebackHook = e, h }
}
