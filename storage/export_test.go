package storage

import "time"

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
