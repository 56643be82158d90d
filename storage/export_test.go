package storage

// SetVerifyReads turns the checksum part of read verification on or off,
// for the benchmarks that measure its cost. Lengths are always checked.
func SetVerifyReads(on bool) { verifyReads.Store(on) }
