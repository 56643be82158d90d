package storage

import "os"

// Read makes its download durable (an fsync of the temporary file before
// the rename), which on its own would wait at the end for the disk to take
// every byte: about 130 ms for 256 MiB here, a third of a loopback
// download. So a download asks the kernel to start writing each
// writebackEvery bytes back as soon as they are written (Linux:
// sync_file_range), and the disk works while the network does; the final
// fsync, still the only guarantee, has little left to do.

// writebackEvery is how many bytes a download writes before it asks for
// them to be written back; 0 never asks. A variable for tests and
// benchmarks only.
var writebackEvery int64 = 8 << 20

// writeback asks for bytes [off, off+n) of f to start going to disk,
// without waiting for them. It is a hint: a failure changes nothing, as
// the fsync at the end still decides.
func writeback(f *os.File, off, n int64) {
	if writebackHook != nil {
		writebackHook(off, n)
	}
	startWriteback(f, off, n)
}

// writebackHook, when set (by tests: export_test.go), is told of every
// range a download asks to be written back.
var writebackHook func(off, n int64)
