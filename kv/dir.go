package kv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/s3map/s3map/internal/seqerr"
)

// DirOptions tunes NewDir. A nil *DirOptions means the defaults.
type DirOptions struct {
	// NoSync skips the fsync of each value before it is renamed into place.
	// Writes stay atomic (a reader sees the old value or the new one, never
	// part of one), but after a crash of the machine a value written just
	// before may be missing or empty. Meant for tests and throwaway caches.
	NoSync bool
}

// Dir is a Store[[]byte] in a local directory: one file per key. It is
// meant as a disk tier between a memory cache and S3, and implements
// PrefixLister.
//
// # Files
//
// A key maps to a path below the directory, and the path maps back to
// exactly that key. Each '/' of the key starts a directory, so the tree
// mirrors the key's prefixes (the first 32 of them do: later ones are
// escaped, which bounds the depth of the tree). Bytes other than a-z, 0-9, '-', '_' and '.'
// are escaped: an upper-case letter as '!' and the letter in lower case
// ("Readme" is "!readme", so the mapping holds on case-insensitive file
// systems), any other byte as '%' and two hex digits (a space is "%20",
// "é" is "%c3%a9"). A '.' that would start a file name, or end the key,
// is escaped too, so no name is "." or "..", and no name starts with '.'.
// A directory's name ends in '+' ("users/42" is "users+/42"), so a key may
// also be a prefix of other keys ("users" and "users/42" live side by side).
// An empty part between slashes is the name "%" ("a//b" is "a+/%+/b").
// A part longer than 200 bytes once escaped is cut into several nested
// names, each but the last ending in '='. Every valid key (see CheckKey)
// is storable, names stay under 255 bytes, and no key reaches outside the
// directory: all access goes through an os.Root as a second guard.
//
// Files and directories that are not such names (anything starting with
// '.', such as the temporary files of writes in progress, or with a name
// that does not map back to a key) are never listed as keys.
//
// # Writes
//
// Set writes the value to a temporary file in the same directory, fsyncs
// it (unless DirOptions.NoSync) and renames it over the key's file, so a
// reader sees the old value or the new one. A crash may leave a temporary
// file (".tmp-" and digits) behind; it is never listed and may be removed
// by hand. Delete removes the key's file and any directories it leaves
// empty. Files are created with mode 0600 and directories with 0700.
//
// # Listing
//
// Keys and KeysWithPrefix walk the directory tree (KeysWithPrefix only the
// part its prefix can reach), collect the keys and sort them byte-wise
// before yielding the first, so a listing holds every listed key in memory
// at once: about the keys' length plus 16 bytes each.
//
// A Dir is safe for concurrent use, also by several Dirs on the same
// directory. Close it when done.
type Dir struct {
	root   *os.Root
	noSync bool

	// prune keeps Delete from removing a directory between a Set's
	// MkdirAll and the creation of its temporary file there: Sets hold
	// it shared for that span, pruning holds it alone. (Other processes
	// sharing the directory are covered by Set's retries only.)
	prune sync.RWMutex
}

// Interface checks.
var (
	_ Store[[]byte] = (*Dir)(nil)
	_ PrefixLister  = (*Dir)(nil)
	_ KeyChecker    = (*Dir)(nil)
)

// NewDir returns a Dir keeping its values in the directory at dirPath,
// which it creates (mode 0700, with its parents) when missing.
func NewDir(dirPath string, opts *DirOptions) (*Dir, error) {
	if opts == nil {
		opts = &DirOptions{}
	}
	if dirPath == "" {
		return nil, errors.New("kv: NewDir: empty directory path")
	}
	if err := os.MkdirAll(dirPath, 0o700); err != nil {
		return nil, fmt.Errorf("kv: NewDir: %w", err)
	}
	root, err := os.OpenRoot(dirPath)
	if err != nil {
		return nil, fmt.Errorf("kv: NewDir: %w", err)
	}
	return &Dir{root: root, noSync: opts.NoSync}, nil
}

// Close releases the directory. Methods called after Close return errors.
func (d *Dir) Close() error {
	return d.root.Close()
}

// CheckKey returns an error that errors.Is ErrInvalidKey when key is not
// one that CheckKey accepts: every such key is storable in a Dir.
func (d *Dir) CheckKey(key string) error {
	return CheckKey("", key)
}

// Get returns the value under key, or ErrNotFound.
func (d *Dir) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return nil, err
	}
	data, err := d.root.ReadFile(dirKeyPath(key))
	switch {
	case isNotExist(err):
		return nil, errNotFoundKey(key)
	case err != nil:
		return nil, fmt.Errorf("kv: Dir: reading key %q: %w", key, err)
	}
	return data, nil
}

// Has reports whether key has a value.
func (d *Dir) Has(ctx context.Context, key string) (bool, error) {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return false, err
	}
	info, err := d.root.Stat(dirKeyPath(key))
	switch {
	case isNotExist(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("kv: Dir: key %q: %w", key, err)
	}
	return info.Mode().IsRegular(), nil
}

// dirWriteAttempts bounds how often Set starts over when a concurrent
// Delete removed the directory it was writing in, or a concurrent Set made
// it first (os.Root.MkdirAll then fails with "file exists").
const dirWriteAttempts = 8

// Set stores a copy of v under key, atomically.
func (d *Dir) Set(ctx context.Context, key string, v []byte) error {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return err
	}
	name := dirKeyPath(key)
	var err error
	for range dirWriteAttempts {
		err = d.write(ctx, name, v)
		if !isNotExist(err) && !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return err
		}
		return fmt.Errorf("kv: Dir: writing key %q: %w", key, err)
	}
	return nil
}

// write makes name's directory, writes v to a temporary file beside name
// and renames it to name. It returns a "not exist" error when the
// directory vanished meanwhile (a concurrent Delete pruned it), and an
// "exists" one when a concurrent write made a directory first.
func (d *Dir) write(ctx context.Context, name string, v []byte) (err error) {
	dir := path.Dir(name)
	d.prune.RLock()
	if dir != "." {
		if err := d.root.MkdirAll(dir, 0o700); err != nil {
			d.prune.RUnlock()
			return err
		}
	}
	tmp, f, err := d.createTemp(dir)
	// From here the directory holds the temporary file: no pruning
	// removes it.
	d.prune.RUnlock()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = d.root.Remove(tmp) // the write failed; the temporary file is litter
		}
	}()
	_, err = f.Write(v)
	if err == nil && !d.noSync {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.root.Rename(tmp, name)
}

// createTemp creates a new temporary file in dir. Its name starts with '.',
// which no key's file name does.
func (d *Dir) createTemp(dir string) (string, *os.File, error) {
	for {
		name := path.Join(dir, ".tmp-"+strconv.FormatUint(rand.Uint64(), 10))
		f, err := d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // another write picked the same name; pick again
		}
		return name, f, err
	}
}

// Delete removes key and then the directories that this leaves empty.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := checkKeyAndContext(ctx, key); err != nil {
		return err
	}
	name := dirKeyPath(key)
	if err := d.root.Remove(name); err != nil && !isNotExist(err) {
		return fmt.Errorf("kv: Dir: deleting key %q: %w", key, err)
	}
	// Remove fails on a directory that is not empty, which ends the
	// pruning.
	d.prune.Lock()
	defer d.prune.Unlock()
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if d.root.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// Keys yields every key in byte-wise order.
func (d *Dir) Keys(ctx context.Context) (iter.Seq[string], func() error) {
	return d.KeysWithPrefix(ctx, "")
}

// KeysWithPrefix yields every key that starts with prefix, in byte-wise
// order. It walks only the directory that the prefix's last '/' leads to.
func (d *Dir) KeysWithPrefix(ctx context.Context, prefix string) (iter.Seq[string], func() error) {
	return seqerr.New(func(yield func(string) bool) error {
		if err := CheckPrefix(prefix); err != nil {
			return err
		}
		keys, err := d.list(ctx, prefix)
		if err != nil {
			return err
		}
		for _, key := range keys {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !yield(key) {
				return nil
			}
		}
		return nil
	})
}

// list returns the sorted keys that start with prefix.
func (d *Dir) list(ctx context.Context, prefix string) ([]string, error) {
	start := "."
	if parts := strings.SplitN(prefix, "/", dirMaxDepth+1); len(parts) > 1 {
		// The parts of prefix before its last '/' that starts a directory
		// are whole directories; the empty part after that '/' is the
		// name "%", which is dropped.
		dirs := strings.Join(parts[:len(parts)-1], "/") + "/"
		names := dirKeyComponents(dirs)
		start = strings.Join(names[:len(names)-1], "/")
	}
	var keys []string
	err := fs.WalkDir(d.root.FS(), start, func(name string, entry fs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				// Nothing is stored under the prefix, or a Delete pruned
				// this directory while the walk went on.
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		base := entry.Name()
		if entry.IsDir() {
			if strings.HasPrefix(base, ".") || !strings.HasSuffix(base, "+") && !strings.HasSuffix(base, "=") {
				return fs.SkipDir // not a directory of keys
			}
			return nil
		}
		if !entry.Type().IsRegular() || strings.HasPrefix(base, ".") {
			return nil // a temporary file, or not ours
		}
		if key, ok := dirPathKey(name); ok && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, err
		}
		return nil, fmt.Errorf("kv: Dir: listing: %w", err)
	}
	slices.Sort(keys)
	return keys, nil
}

// isNotExist reports whether err says a file, or a directory on its path,
// is missing.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// The mapping of keys to paths, described at Dir.

const (
	// dirNameMax is the most bytes of a name before its marker.
	dirNameMax = 200
	// dirSegmentEnd ends the name of a directory that a '/' of the key ends.
	dirSegmentEnd = '+'
	// dirContinued ends the name of a directory that holds the first bytes
	// of a long part of the key; the names below it continue it.
	dirContinued = '='
	// dirEmptyPart is the name of an empty part of the key.
	dirEmptyPart = "%"
	// dirMaxDepth is how many of a key's '/' start a directory; later ones
	// are escaped ("%2f"). It bounds the depth of the tree, and so the
	// work of resolving a path, whatever the key.
	dirMaxDepth = 32
)

// dirKeyPath returns the slash-separated path of key's file.
func dirKeyPath(key string) string {
	return strings.Join(dirKeyComponents(key), "/")
}

// dirKeyComponents returns the names on the path of key's file, the file's
// own name last.
func dirKeyComponents(key string) []string {
	parts := strings.SplitN(key, "/", dirMaxDepth+1)
	var names []string
	for i, part := range parts {
		last := i == len(parts)-1
		pieces := dirEncodePart(part, last)
		for j, piece := range pieces {
			switch {
			case j < len(pieces)-1:
				names = append(names, piece+string(dirContinued))
			case !last:
				names = append(names, piece+string(dirSegmentEnd))
			default:
				names = append(names, piece)
			}
		}
	}
	return names
}

// dirEncodePart escapes one '/'-separated part of a key and cuts it into
// pieces of at most dirNameMax bytes. endsKey says whether the part is the
// key's last.
func dirEncodePart(part string, endsKey bool) []string {
	if part == "" {
		return []string{dirEmptyPart}
	}
	var pieces []string
	piece := make([]byte, 0, min(len(part)*3, dirNameMax))
	for i := 0; i < len(part); i++ {
		atEnd := endsKey && i == len(part)-1
		n := len(piece)
		piece = dirAppendByte(piece, part[i], n == 0, atEnd)
		if len(piece) > dirNameMax {
			pieces = append(pieces, string(piece[:n]))
			piece = dirAppendByte(piece[:0], part[i], true, atEnd)
		}
	}
	return append(pieces, string(piece))
}

// dirAppendByte appends the text of b in a name to dst. startsName and
// endsKey say whether b is the first byte of a name and the last byte of
// the key.
func dirAppendByte(dst []byte, b byte, startsName, endsKey bool) []byte {
	switch {
	case 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '_':
		return append(dst, b)
	case 'A' <= b && b <= 'Z':
		return append(dst, '!', b-'A'+'a')
	case b == '.' && !startsName && !endsKey:
		return append(dst, b)
	}
	const hex = "0123456789abcdef"
	return append(dst, '%', hex[b>>4], hex[b&0xf])
}

// dirPathKey returns the key whose file is at the slash-separated path
// name, and false when no key's file is there.
func dirPathKey(name string) (string, bool) {
	names := strings.Split(name, "/")
	var key strings.Builder
	for i, n := range names {
		if i < len(names)-1 {
			if n == "" {
				return "", false
			}
			body, marker := n[:len(n)-1], n[len(n)-1]
			if marker != dirSegmentEnd && marker != dirContinued {
				return "", false
			}
			if !dirUnescape(&key, body) {
				return "", false
			}
			if marker == dirSegmentEnd {
				key.WriteByte('/')
			}
			continue
		}
		if !dirUnescape(&key, n) {
			return "", false
		}
	}
	k := key.String()
	// Only the one name that k maps to is k's: this refuses names that
	// unescape to a key but are not how the key is written (such as "%61"
	// for "a"), and keys that CheckKey refuses.
	if CheckKey("", k) != nil || dirKeyPath(k) != name {
		return "", false
	}
	return k, true
}

// dirUnescape writes the bytes that the name body stands for to key.
func dirUnescape(key *strings.Builder, body string) bool {
	if body == dirEmptyPart {
		return true
	}
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case b == '!':
			if i+1 >= len(body) || body[i+1] < 'a' || body[i+1] > 'z' {
				return false
			}
			key.WriteByte(body[i+1] - 'a' + 'A')
			i++
		case b == '%':
			if i+2 >= len(body) {
				return false
			}
			n, err := strconv.ParseUint(body[i+1:i+3], 16, 8)
			if err != nil {
				return false
			}
			key.WriteByte(byte(n))
			i += 2
		case 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '_', b == '.':
			key.WriteByte(b)
		default:
			return false
		}
	}
	return body != ""
}
