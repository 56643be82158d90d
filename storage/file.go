package storage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"mime"
	"os"
	"path/filepath"
	"strings"
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
