package storage

import (
	"context"
	"errors"
	"io"
)

// Writer streams bytes into an object: see Storage.NewWriter. It is the
// same upload as Put from a reader that cannot seek (parts through a
// bounded pool of buffers, conditions, exactly-once resolution, no upload
// left behind).
type Writer struct {
	pw   *io.PipeWriter
	done chan struct{}
	info Info
	err  error
}

var (
	errUploadEnded    = errors.New("storage: the upload has ended")
	errWriteAbandoned = errors.New("storage: write abandoned")
)

// NewWriter returns a writer whose bytes become dst's object, uploaded as
// Put uploads a stream (opts as for Put; give opts.Size when known). The
// object is stored when Close returns nil; Close reports the upload's
// error. Cancel ctx or call CloseWithError to abandon it: nothing is
// stored and no parts are left behind. Close or CloseWithError must be
// called. A bad name or header is reported by the first Write and by
// Close, before anything is sent.
func (s *Storage) NewWriter(ctx context.Context, dst Name, opts *PutOptions) *Writer {
	pr, pw := io.Pipe()
	w := &Writer{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.info, w.err = s.put(ctx, "NewWriter", dst, pr, opts)
		// Whatever put did not read fails the writer's next Write.
		pr.CloseWithError(errUploadEnded)
	}()
	return w
}

// Write sends p to the upload. After the upload failed, it returns the
// upload's error.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.pw.Write(p)
	if errors.Is(err, errUploadEnded) {
		<-w.done
		if w.err != nil {
			return n, w.err
		}
	}
	return n, err
}

// Close ends the object and waits for the upload: nil means it is stored.
func (w *Writer) Close() error {
	w.pw.Close()
	<-w.done
	return w.err
}

// CloseWithError abandons the upload and waits for it to end: nothing is
// stored and no parts are left behind.
func (w *Writer) CloseWithError(err error) error {
	if err == nil {
		err = errWriteAbandoned
	}
	w.pw.CloseWithError(err)
	<-w.done
	return nil
}

// Info describes the stored object (Name, Size, ETag) once Close has
// returned nil.
func (w *Writer) Info() Info {
	select {
	case <-w.done:
		return w.info
	default:
		return Info{}
	}
}
