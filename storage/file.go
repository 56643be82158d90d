package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
)

// Write uploads the local file at localPath to dst. Headers starting with
// "x-amz-meta-" become user metadata; the standard headers (see Headers)
// are stored with the object; any other header is an error, before
// anything is sent. Content-Type defaults from the file's extension. Large
// files go up in parts, concurrently; a failed or cancelled upload is
// aborted, leaving no parts behind.
func (s *Storage) Write(ctx context.Context, localPath string, dst Name, h Headers) error {
	const op = "Write"
	dst, err := s.resolve(op, dst, true)
	if err != nil {
		return err
	}
	f, err := os.Open(localPath)
	if err != nil {
		return &Error{Op: op, Name: dst, Err: err}
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return &Error{Op: op, Name: dst, Err: err}
	} else if st.IsDir() {
		return &Error{Op: op, Name: dst, Err: fmt.Errorf("%s is a directory", localPath)}
	}
	if !hasHeader(h, hContentType) {
		if ct := mime.TypeByExtension(filepath.Ext(localPath)); ct != "" {
			h = maps.Clone(h)
			if h == nil {
				h = Headers{}
			}
			h[hContentType] = ct
		}
	}
	_, err = s.put(ctx, op, dst, f, &PutOptions{Headers: h})
	return err
}

// hasHeader reports whether h holds name, in any case.
func hasHeader(h Headers, name string) bool {
	for k := range h {
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return true
		}
	}
	return false
}

// Read downloads src to the local file localPath, large objects in
// parallel byte ranges, and returns the object's user metadata. It writes
// to a temporary file beside localPath and renames it into place, so on any
// failure or cancellation localPath is exactly as it was and no temporary
// file remains. If the object changes during the download, Read fails
// (every range is pinned to the ETag seen first).
func (s *Storage) Read(ctx context.Context, src Name, localPath string) (Metadata, error) {
	const op = "Read"
	src, err := s.resolve(op, src, true)
	if err != nil {
		return nil, err
	}
	info, err := s.Stat(ctx, src)
	if err != nil {
		return nil, renameOp(err, op)
	}
	tmp, err := os.CreateTemp(filepath.Dir(localPath), "."+filepath.Base(localPath)+".s3map-*.tmp")
	if err != nil {
		return nil, &Error{Op: op, Name: src, Err: err}
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	_, err = s.tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{
		Bucket:   &src.Bucket,
		Key:      &src.Key,
		WriterAt: tmp,
		IfMatch:  &info.ETag,
	})
	if err != nil {
		return nil, opError(ctx, op, src, err)
	}
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(localPath); err == nil {
		mode = st.Mode().Perm()
	}
	for _, step := range []func() error{
		func() error { return tmp.Chmod(mode) },
		tmp.Sync,
		tmp.Close,
		func() error { return os.Rename(tmp.Name(), localPath) },
	} {
		if err := step(); err != nil {
			return nil, &Error{Op: op, Name: src, Err: err}
		}
	}
	done = true
	return info.Metadata, nil
}

// renameOp relabels an *Error from a step of a larger operation.
func renameOp(err error, op string) error {
	var se *Error
	if errors.As(err, &se) {
		c := *se
		c.Op = op
		return &c
	}
	return err
}
