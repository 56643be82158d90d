package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/s3map/s3map/storage"
)

// command is one subcommand: its help, its arguments and its flags.
type command struct {
	name     string
	args     string // the positional arguments, as usage shows them
	minArgs  int
	maxArgs  int // -1: any number
	short    string
	long     string
	examples []string
	hidden   bool // left out of help and completion
	// setup registers the command's flags and returns the function that
	// runs it with the positional arguments.
	setup func(fs *flagSet) runFunc
}

type runFunc func(ctx context.Context, a *app, args []string) error

var commands []*command

func init() {
	commands = []*command{
		lsCommand(), getCommand(), catCommand(), putCommand(), rmCommand(), statCommand(),
		cpCommand(), mvCommand(), clearCommand(), duCommand(), presignCommand(), bucketsCommand(),
		abortUploadsCommand(), configCommand(), completionCommand(), versionCommand(), helpCommand(), keysCommand(),
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// jsonFlag registers --json.
func jsonFlag(fs *flagSet, p *bool) {
	fs.boolVar(p, "json", "", "print JSON for scripts")
}

// writeFlags registers --header, --meta and --content-type.
func writeFlags(fs *flagSet, hdrs, meta *[]string, ct *string) {
	fs.listVar(hdrs, "header", "H", "NAME=VALUE", "a standard header such as Cache-Control=no-cache (repeatable)")
	fs.listVar(meta, "meta", "m", "NAME=VALUE", "user metadata, stored as x-amz-meta-NAME (repeatable)")
	fs.stringVar(ct, "content-type", "", "TYPE", "the Content-Type")
}

// --- ls

type lsEntry struct {
	Key          string `json:"key"`
	Size         int64  `json:"size"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	Prefix       bool   `json:"prefix,omitempty"`
}

func lsCommand() *command {
	return &command{
		name: "ls", args: "[PREFIX]", maxArgs: 1,
		short: "list the keys of the map",
		long: `List the keys of the map (every key under --prefix), or those that start
with PREFIX, in byte-wise order. Keys show relative to --prefix; with an
s3://bucket/prefix argument they show in full. With -d, list one level:
keys and the sub-prefixes ending in "/", as directories. With --json, one
JSON object per line: key, size, etag, last_modified (and "prefix": true for
a directory).`,
		examples: []string{
			"s3map ls",
			"s3map --prefix app/ ls -l users/",
			"s3map ls -d s3://my-bucket/logs/",
			"s3map ls --json | jq -r .key",
		},
		setup: func(fs *flagSet) runFunc {
			var long, dirs, js bool
			fs.boolVar(&long, "long", "l", "show size, ETag and last-modified time")
			fs.boolVar(&dirs, "dirs", "d", `list one level, with sub-prefixes ending in "/"`)
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				r, st, err := a.openRoot(ctx, firstOr(args, ""))
				if err != nil {
					return err
				}
				var opts *storage.ListOptions
				if dirs {
					opts = &storage.ListOptions{Delimiter: "/"}
				}
				objs, errf := st.List(ctx, r.bucket, r.prefix, opts)
				w := bufio.NewWriter(a.stdout)
				for info := range objs {
					e := lsEntry{Key: r.show(info.Name.Key), Prefix: info.IsPrefix}
					if !info.IsPrefix {
						e.Size, e.ETag, e.LastModified = info.Size, trimETag(info.ETag), timeString(info.LastModified)
					}
					switch {
					case js:
						err = writeJSON(w, e)
					case long && e.Prefix:
						_, err = fmt.Fprintf(w, "%12s  %-34s  %-20s  %s\n", "DIR", "", "", e.Key)
					case long:
						_, err = fmt.Fprintf(w, "%12d  %-34s  %-20s  %s\n", e.Size, e.ETag, e.LastModified, e.Key)
					default:
						_, err = fmt.Fprintln(w, e.Key)
					}
					if err != nil {
						break
					}
				}
				if ferr := w.Flush(); err == nil {
					err = ferr
				}
				if lerr := errf(); lerr != nil {
					return lerr
				}
				return err
			}
		},
	}
}

func firstOr(args []string, def string) string {
	if len(args) > 0 {
		return args[0]
	}
	return def
}

// --- get, cat

type getResult struct {
	Bucket   string            `json:"bucket"`
	Key      string            `json:"key"`
	File     string            `json:"file"`
	Size     int64             `json:"size"`
	Metadata map[string]string `json:"metadata"`
}

func getCommand() *command {
	return &command{
		name: "get", args: "KEY [FILE]", minArgs: 1, maxArgs: 2,
		short: "download an object to a file or stdout",
		long: `Download the object KEY to FILE, or to stdout when FILE is "-" or missing.
A FILE that is a directory (or ends in "/") receives the key's base name.
The download goes to a temporary file beside FILE, verified, then renamed:
on any failure FILE is left as it was.`,
		examples: []string{
			"s3map get report.pdf ./report.pdf",
			"s3map get s3://my-bucket/logs/today.log - | less",
			"s3map get --json photos/cat.jpg /tmp/",
		},
		setup: func(fs *flagSet) runFunc {
			var js bool
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				n, err := a.objectName(args[0])
				if err != nil {
					return err
				}
				file := firstOr(args[1:], "-")
				if file == "-" {
					if js {
						return usagef("--json needs a FILE: the object goes to stdout")
					}
					return a.cat(ctx, n)
				}
				return a.getFile(ctx, n, file, js)
			}
		},
	}
}

func catCommand() *command {
	return &command{
		name: "cat", args: "KEY...", minArgs: 1, maxArgs: -1,
		short: "print objects to stdout",
		long:  `Print the objects to stdout, one after the other.`,
		examples: []string{
			"s3map cat config.json | jq .",
			"s3map cat part-1 part-2 > whole",
		},
		setup: func(fs *flagSet) runFunc {
			return func(ctx context.Context, a *app, args []string) error {
				for _, arg := range args {
					n, err := a.objectName(arg)
					if err != nil {
						return err
					}
					if err := a.cat(ctx, n); err != nil {
						return err
					}
				}
				return nil
			}
		},
	}
}

// cat streams one object to stdout.
func (a *app) cat(ctx context.Context, n storage.Name) error {
	st, err := a.storage(ctx)
	if err != nil {
		return err
	}
	r, err := st.Get(ctx, n, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	p := a.startProgress(path.Base(n.Key), r.Length)
	_, err = io.Copy(p.writer(a.stdout), r)
	p.finish()
	return err
}

func (a *app) getFile(ctx context.Context, n storage.Name, file string, js bool) error {
	if fi, err := os.Stat(file); (err == nil && fi.IsDir()) || strings.HasSuffix(file, string(os.PathSeparator)) || strings.HasSuffix(file, "/") {
		file = filepath.Join(file, path.Base(n.Key))
	}
	st, err := a.storage(ctx)
	if err != nil {
		return err
	}
	var p *progress
	if a.wantProgress(-1) {
		if info, err := st.Stat(ctx, n); err == nil {
			p = a.startProgress(path.Base(n.Key), info.Size)
		}
	}
	md, err := st.Read(p.track(ctx), n, file)
	p.finish()
	if err != nil {
		return err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	if js {
		return a.writeJSON(getResult{Bucket: a.bucketOf(n), Key: n.Key, File: file, Size: fi.Size(), Metadata: nonNil(md)})
	}
	_, err = fmt.Fprintf(a.stdout, "downloaded %s to %s (%s)\n", a.display(n), file, humanBytes(fi.Size()))
	return err
}

func nonNil[M ~map[string]string](m M) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (a *app) bucketOf(n storage.Name) string {
	if n.Bucket == "" && a.st != nil {
		return a.st.DefaultBucket()
	}
	return n.Bucket
}

// --- put

type putResult struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
}

func putCommand() *command {
	return &command{
		name: "put", args: "FILE|- [KEY]", minArgs: 1, maxArgs: 2,
		short: "upload a file or stdin",
		long: `Upload FILE, or stdin when FILE is "-", to KEY. KEY defaults to the file's
base name; a KEY ending in "/" receives the file's base name. The
Content-Type is --content-type, else guessed from the key's or the file's
extension, else from the first bytes. Large uploads go in parts; a failed
upload leaves nothing behind.`,
		examples: []string{
			"s3map put report.pdf",
			"s3map put report.pdf reports/2024.pdf --meta state=final",
			"tar c dir | s3map put - backups/dir.tar --header Cache-Control=no-store",
		},
		setup: func(fs *flagSet) runFunc {
			var hdrs, meta []string
			var ct string
			var js bool
			writeFlags(fs, &hdrs, &meta, &ct)
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				src := args[0]
				key := firstOr(args[1:], "")
				if src == "-" && (key == "" || strings.HasSuffix(key, "/")) {
					return usagef("put from stdin needs a KEY")
				}
				if key == "" || strings.HasSuffix(key, "/") {
					key += filepath.Base(src)
				}
				n, err := a.objectName(key)
				if err != nil {
					return err
				}
				h, err := headersFrom(hdrs, meta, ct)
				if err != nil {
					return err
				}
				var body io.Reader = a.stdin
				size := int64(-1)
				if src != "-" {
					f, err := os.Open(src)
					if err != nil {
						return err
					}
					defer f.Close()
					fi, err := f.Stat()
					if err != nil {
						return err
					}
					if fi.IsDir() {
						return usagef("%s is a directory", src)
					}
					body, size = f, fi.Size()
				}
				br := bufio.NewReader(body)
				if !hasHeader(h, "Content-Type") {
					if t := guessType(n.Key, src, br); t != "" {
						h["Content-Type"] = t
					}
				}
				st, err := a.storage(ctx)
				if err != nil {
					return err
				}
				opts := &storage.PutOptions{Headers: h}
				if size > 0 {
					opts.Size = size
				}
				p := a.startProgress(path.Base(n.Key), size)
				info, err := st.Put(ctx, n, p.reader(br), opts)
				p.finish()
				if err != nil {
					return err
				}
				if js {
					return a.writeJSON(putResult{Bucket: a.bucketOf(n), Key: n.Key, Size: info.Size, ETag: trimETag(info.ETag)})
				}
				_, err = fmt.Fprintf(a.stdout, "uploaded %s (%s)\n", a.display(n), humanBytes(info.Size))
				return err
			}
		},
	}
}

// guessType guesses a Content-Type from the key's extension, the file's,
// or the first bytes of the body; "" leaves S3's default.
func guessType(key, file string, body *bufio.Reader) string {
	for _, p := range []string{key, file} {
		if ext := path.Ext(p); ext != "" {
			if t := mime.TypeByExtension(ext); t != "" {
				return t
			}
		}
	}
	head, _ := body.Peek(512)
	if len(head) == 0 {
		return ""
	}
	if t := http.DetectContentType(head); t != "application/octet-stream" {
		return t
	}
	return ""
}

// --- rm, clear

type rmResult struct {
	Bucket  string   `json:"bucket"`
	Deleted int      `json:"deleted"`
	Keys    []string `json:"keys,omitempty"`
	Prefix  *string  `json:"prefix,omitempty"`
}

func rmCommand() *command {
	return &command{
		name: "rm", args: "KEY... | -r PREFIX", minArgs: 1, maxArgs: -1,
		short: "delete keys, or every key under a prefix",
		long: `Delete the keys. Deleting a key that does not exist is not an error (S3
answers the same either way). With -r, delete every key that starts with
PREFIX, after a confirmation on the terminal; --yes skips it, and without a
terminal on stdin -r refuses to run unless --yes is given.`,
		examples: []string{
			"s3map rm old.txt tmp/x",
			"s3map rm -r tmp/",
			"s3map rm -r --yes s3://my-bucket/cache/",
		},
		setup: func(fs *flagSet) runFunc {
			var recursive, yes, js bool
			fs.boolVar(&recursive, "recursive", "r", "delete every key under each PREFIX")
			fs.boolVar(&yes, "yes", "y", "do not ask for confirmation")
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				if recursive {
					for _, arg := range args {
						r, err := a.listRoot(arg)
						if err != nil {
							return err
						}
						if err := a.deleteUnder(ctx, r, yes, js); err != nil {
							return err
						}
					}
					return nil
				}
				names := make([]storage.Name, len(args))
				for i, arg := range args {
					n, err := a.objectName(arg)
					if err != nil {
						return err
					}
					names[i] = n
				}
				st, err := a.storage(ctx)
				if err != nil {
					return err
				}
				res := rmResult{Bucket: a.bucketOf(names[0])}
				for _, n := range names {
					if err := st.Delete(ctx, n); err != nil {
						return err
					}
					res.Deleted++
					res.Keys = append(res.Keys, n.Key)
					if !js {
						fmt.Fprintf(a.stdout, "deleted %s\n", a.display(n))
					}
				}
				if js {
					return a.writeJSON(res)
				}
				return nil
			}
		},
	}
}

func clearCommand() *command {
	return &command{
		name: "clear", args: "", maxArgs: 0,
		short: "delete every key of the map",
		long: `Delete every key of the map: every object under --prefix in the bucket
(the whole bucket when --prefix is empty). Asks for confirmation on the
terminal unless --yes; without a terminal on stdin it refuses unless --yes.`,
		examples: []string{
			"s3map --prefix cache/ clear",
			"s3map --bucket scratch clear --yes",
		},
		setup: func(fs *flagSet) runFunc {
			var yes, js bool
			fs.boolVar(&yes, "yes", "y", "do not ask for confirmation")
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				return a.deleteUnder(ctx, root{prefix: a.g.prefix, strip: a.g.prefix}, yes, js)
			}
		},
	}
}

// deleteUnder deletes every key under r, after counting them and asking
// unless yes.
func (a *app) deleteUnder(ctx context.Context, r root, yes, js bool) error {
	st, err := a.storage(ctx)
	if err != nil {
		return err
	}
	where := r.displayName(a)
	if !yes {
		if !a.stdinTTY {
			return errNoTerminal
		}
		u, err := a.usage(ctx, r)
		if err != nil {
			return err
		}
		if u.Keys == 0 {
			return a.reportDeleted(r, 0, js)
		}
		if err := a.confirm(fmt.Sprintf("Delete %d keys (%s) under %s?", u.Keys, humanBytes(u.Bytes), where)); err != nil {
			return err
		}
	}
	objs, errf := st.List(ctx, r.bucket, r.prefix, nil)
	count := 0
	keys := func(yield func(string) bool) {
		for info := range objs {
			count++
			if !yield(info.Name.Key) {
				return
			}
		}
	}
	derr := st.DeleteMany(ctx, r.bucket, iter.Seq[string](keys))
	if err := errf(); err != nil {
		return err
	}
	if derr != nil {
		return derr
	}
	return a.reportDeleted(r, count, js)
}

func (a *app) reportDeleted(r root, n int, js bool) error {
	if js {
		p := r.prefix
		return a.writeJSON(rmResult{Bucket: a.bucketOf(storage.Name{Bucket: r.bucket}), Deleted: n, Prefix: &p})
	}
	_, err := fmt.Fprintf(a.stdout, "deleted %d keys under %s\n", n, r.displayName(a))
	return err
}

// --- stat

type statResult struct {
	Bucket       string            `json:"bucket"`
	Key          string            `json:"key"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"`
	LastModified string            `json:"last_modified"`
	ContentType  string            `json:"content_type"`
	Metadata     map[string]string `json:"metadata"`
	Headers      map[string]string `json:"headers"`
}

func statCommand() *command {
	return &command{
		name: "stat", args: "KEY", minArgs: 1, maxArgs: 1,
		short: "show an object's size, ETag, metadata and headers",
		long: `Show the object's size, ETag, last-modified time, Content-Type, user
metadata (x-amz-meta-*) and the standard headers stored with it. Exit code 3
when it does not exist.`,
		examples: []string{
			"s3map stat report.pdf",
			"s3map stat --json report.pdf | jq .metadata",
			"s3map stat k >/dev/null 2>&1; [ $? = 3 ] && echo missing",
		},
		setup: func(fs *flagSet) runFunc {
			var js bool
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				n, st, err := a.openObject(ctx, args[0])
				if err != nil {
					return err
				}
				info, err := st.Stat(ctx, n)
				if err != nil {
					return err
				}
				res := statResult{
					Bucket: a.bucketOf(n), Key: n.Key, Size: info.Size, ETag: trimETag(info.ETag),
					LastModified: timeString(info.LastModified), ContentType: info.ContentType,
					Metadata: nonNil(info.Metadata), Headers: nonNil(info.Headers),
				}
				if js {
					return a.writeJSON(res)
				}
				w := &errWriter{w: a.stdout}
				w.printf("Name:          %s\n", a.display(n))
				w.printf("Size:          %d (%s)\n", res.Size, humanBytes(res.Size))
				w.printf("ETag:          %s\n", res.ETag)
				w.printf("Last-Modified: %s\n", res.LastModified)
				w.printf("Content-Type:  %s\n", res.ContentType)
				for _, sec := range []struct {
					title string
					m     map[string]string
				}{{"Metadata", res.Metadata}, {"Headers", res.Headers}} {
					if len(sec.m) == 0 {
						continue
					}
					w.printf("%s:\n", sec.title)
					for _, k := range slices.Sorted(mapKeys(sec.m)) {
						w.printf("  %s: %s\n", k, sec.m[k])
					}
				}
				return w.err
			}
		},
	}
}

func mapKeys(m map[string]string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// --- cp, mv

type copyResult struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func cpCommand() *command { return copyCommand("cp", false) }
func mvCommand() *command { return copyCommand("mv", true) }

func copyCommand(name string, move bool) *command {
	c := &command{
		name: name, args: "SRC DST", minArgs: 2, maxArgs: 2,
		short: "copy an object on the server",
		long: `Copy SRC to DST on the server: no bytes pass through this machine. A DST
ending in "/" receives SRC's base name. DST's metadata is SRC's, unless
--meta gives new metadata; Content-Type and the other standard headers of
SRC stay unless --header or --content-type give new ones.`,
		examples: []string{
			"s3map cp report.pdf archive/report.pdf",
			"s3map cp a.txt s3://other-bucket/ --meta copied=yes",
		},
	}
	if move {
		c.short = "move (rename) an object: copy on the server, then delete"
		c.long = `Move SRC to DST: a copy on the server, then the deletion of SRC. A DST
ending in "/" receives SRC's base name. Metadata and headers carry over as
for cp, unless --meta, --header or --content-type give new ones.`
		c.examples = []string{"s3map mv draft.txt final.txt", "s3map mv inbox/a.json done/"}
	}
	c.setup = func(fs *flagSet) runFunc {
		var hdrs, meta []string
		var ct string
		var js bool
		writeFlags(fs, &hdrs, &meta, &ct)
		jsonFlag(fs, &js)
		return func(ctx context.Context, a *app, args []string) error {
			src, err := a.objectName(args[0])
			if err != nil {
				return err
			}
			dstArg := args[1]
			if strings.HasSuffix(dstArg, "/") {
				dstArg += path.Base(src.Key)
			}
			dst, err := a.objectName(dstArg)
			if err != nil {
				return err
			}
			h, err := headersFrom(hdrs, meta, ct)
			if err != nil {
				return err
			}
			st, err := a.storage(ctx)
			if err != nil {
				return err
			}
			if move && a.bucketOf(src) == a.bucketOf(dst) && src.Key == dst.Key {
				return usagef("mv: %s and %s are the same object", args[0], args[1])
			}
			var p *progress
			if a.wantProgress(-1) {
				if info, err := st.Stat(ctx, src); err == nil {
					p = a.startProgress(path.Base(src.Key), info.Size)
				}
			}
			err = st.Copy(p.track(ctx), src, dst, h)
			p.finish()
			if err != nil {
				return err
			}
			if move {
				if err := st.Delete(ctx, src); err != nil {
					return fmt.Errorf("copied to %s but could not delete the source: %w", a.display(dst), err)
				}
			}
			if js {
				return a.writeJSON(copyResult{From: a.display(src), To: a.display(dst)})
			}
			verb := "copied"
			if move {
				verb = "moved"
			}
			_, err = fmt.Fprintf(a.stdout, "%s %s to %s\n", verb, a.display(src), a.display(dst))
			return err
		}
	}
	return c
}

// --- du

type duResult struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	Keys   int64  `json:"keys"`
	Bytes  int64  `json:"bytes"`
}

func duCommand() *command {
	return &command{
		name: "du", args: "[PREFIX]", maxArgs: 1,
		short: "count the keys and bytes under a prefix",
		long:  `Count the keys under PREFIX (under --prefix), and their bytes.`,
		examples: []string{
			"s3map du",
			"s3map du --json logs/2024/",
		},
		setup: func(fs *flagSet) runFunc {
			var js bool
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				r, err := a.listRoot(firstOr(args, ""))
				if err != nil {
					return err
				}
				u, err := a.usage(ctx, r)
				if err != nil {
					return err
				}
				if js {
					return a.writeJSON(u)
				}
				_, err = fmt.Fprintf(a.stdout, "%d keys, %d bytes (%s) under %s\n", u.Keys, u.Bytes, humanBytes(u.Bytes), r.displayName(a))
				return err
			}
		},
	}
}

// usage counts the keys and bytes under r.
func (a *app) usage(ctx context.Context, r root) (duResult, error) {
	st, err := a.storage(ctx)
	if err != nil {
		return duResult{}, err
	}
	u := duResult{Bucket: a.bucketOf(storage.Name{Bucket: r.bucket}), Prefix: r.prefix}
	objs, errf := st.List(ctx, r.bucket, r.prefix, nil)
	for info := range objs {
		u.Keys++
		u.Bytes += info.Size
	}
	return u, errf()
}

// --- presign

type presignResult struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Expires string            `json:"expires"`
}

func presignCommand() *command {
	return &command{
		name: "presign", args: "KEY", minArgs: 1, maxArgs: 1,
		short: "make a URL that reads (or writes) an object without credentials",
		long: `Print a presigned URL for KEY: a GET by default, a PUT with --put. Anyone
with the URL can use it until it expires (--expires, at most 7 days). For a
PUT, the headers given (--header, --meta, --content-type) are signed, and the
uploader must send them as they are: they are printed on stderr (and in
--json's "headers").`,
		examples: []string{
			"curl -o report.pdf \"$(s3map presign report.pdf)\"",
			"s3map presign --put --expires 10m uploads/photo.jpg --content-type image/jpeg",
		},
		setup: func(fs *flagSet) runFunc {
			var put, js bool
			var hdrs, meta []string
			var ct string
			expires := time.Hour
			fs.boolVar(&put, "put", "", "presign an upload (PUT) instead of a download")
			fs.durationVar(&expires, "expires", "DURATION", "how long the URL works: 90s, 15m, 12h, 7d (default 1h)")
			writeFlags(fs, &hdrs, &meta, &ct)
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				n, err := a.objectName(args[0])
				if err != nil {
					return err
				}
				h, err := headersFrom(hdrs, meta, ct)
				if err != nil {
					return err
				}
				if !put && len(h) > 0 {
					return usagef("--header, --meta and --content-type go with --put")
				}
				if expires <= 0 || expires > 7*24*time.Hour {
					return usagef("--expires %v: want more than 0 and at most 7d", expires)
				}
				st, err := a.storage(ctx)
				if err != nil {
					return err
				}
				var req storage.PresignedRequest
				if put {
					req, err = st.PresignPut(ctx, n, expires, h)
				} else {
					req, err = st.PresignGet(ctx, n, expires)
				}
				if err != nil {
					return err
				}
				res := presignResult{Method: req.Method, URL: req.URL, Headers: map[string]string{},
					Expires: timeString(time.Now().Add(expires).Truncate(time.Second))}
				for k, v := range req.Header {
					if !strings.EqualFold(k, "Host") {
						res.Headers[k] = strings.Join(v, ",")
					}
				}
				if js {
					return a.writeJSON(res)
				}
				if _, err := fmt.Fprintln(a.stdout, res.URL); err != nil {
					return err
				}
				if len(res.Headers) > 0 {
					fmt.Fprintln(a.stderr, "send these headers with the request:")
					for _, k := range slices.Sorted(mapKeys(res.Headers)) {
						fmt.Fprintf(a.stderr, "  %s: %s\n", k, res.Headers[k])
					}
				}
				return nil
			}
		},
	}
}

// --- buckets

type bucketEntry struct {
	Name    string `json:"name"`
	Created string `json:"created,omitempty"`
}

func bucketsCommand() *command {
	return &command{
		name: "buckets", maxArgs: 0,
		short: "list the buckets",
		long:  `List the buckets the credentials own, by name, with their creation time.`,
		examples: []string{
			"s3map buckets",
			"s3map buckets --json | jq -r .name",
		},
		setup: func(fs *flagSet) runFunc {
			var js bool
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				st, err := a.storage(ctx)
				if err != nil {
					return err
				}
				bs, err := st.Buckets(ctx)
				if err != nil {
					return err
				}
				w := &errWriter{w: a.stdout}
				for _, b := range bs {
					e := bucketEntry{Name: b.Name, Created: timeString(b.Created)}
					if js {
						if w.err == nil {
							w.err = writeJSON(w.w, e)
						}
						continue
					}
					w.printf("%-20s  %s\n", e.Created, e.Name)
				}
				return w.err
			}
		},
	}
}

// --- abort-uploads

type uploadEntry struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	UploadID  string `json:"upload_id"`
	Initiated string `json:"initiated"`
	Aborted   bool   `json:"aborted"`
}

func abortUploadsCommand() *command {
	return &command{
		name: "abort-uploads", args: "[PREFIX]", maxArgs: 1,
		short: "abort stale multipart uploads",
		long: `Abort the multipart uploads under PREFIX (under --prefix) started more than
--older-than ago (default 24h; 0 for all). Parts of an upload that was never
completed or aborted are stored, and billed, until it is. With --dry-run,
only list them. With --json, one JSON object per line.`,
		examples: []string{
			"s3map abort-uploads --dry-run",
			"s3map abort-uploads --older-than 7d backups/",
		},
		setup: func(fs *flagSet) runFunc {
			olderThan := 24 * time.Hour
			var dry, js bool
			fs.durationVar(&olderThan, "older-than", "DURATION", "only uploads started this long ago: 90m, 24h, 7d (default 24h)")
			fs.boolVar(&dry, "dry-run", "n", "list the uploads, abort nothing")
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				r, st, err := a.openRoot(ctx, firstOr(args, ""))
				if err != nil {
					return err
				}
				bucket := a.bucketOf(storage.Name{Bucket: r.bucket})
				if bucket == "" {
					return storage.ErrNoBucket
				}
				return a.abortUploads(ctx, st, bucket, r, olderThan, dry, js)
			}
		},
	}
}

// abortUploads lists the multipart uploads under the root's prefix (ages
// by the server's clock) and aborts those at least olderThan old.
func (a *app) abortUploads(ctx context.Context, st *storage.Storage, bucket string, r root, olderThan time.Duration, dry, js bool) error {
	found, aborted := 0, 0
	uploads, listErr := st.Uploads(ctx, bucket, r.prefix)
	for up := range uploads {
		if olderThan > 0 && up.Age < olderThan {
			continue
		}
		found++
		e := uploadEntry{Bucket: bucket, Key: up.Name.Key, UploadID: up.ID, Initiated: timeString(up.Initiated)}
		if !dry {
			if err := st.AbortUpload(ctx, up); err != nil {
				return err
			}
			e.Aborted = true
			aborted++
		}
		if js {
			if err := a.writeJSON(e); err != nil {
				return err
			}
			continue
		}
		verb := "found"
		if e.Aborted {
			verb = "aborted"
		}
		fmt.Fprintf(a.stdout, "%s %s (upload %s, started %s)\n", verb, r.show(e.Key), e.UploadID, e.Initiated)
	}
	if err := listErr(); err != nil {
		return err
	}
	if !js {
		if dry {
			fmt.Fprintf(a.stdout, "%d uploads to abort under %s\n", found, r.displayName(a))
		} else {
			fmt.Fprintf(a.stdout, "aborted %d uploads under %s\n", aborted, r.displayName(a))
		}
	}
	return nil
}

// --- config

type configResult struct {
	File            string `json:"file"`
	Endpoint        string `json:"endpoint"`
	Region          string `json:"region"`
	Profile         string `json:"profile"`
	Bucket          string `json:"bucket"`
	Prefix          string `json:"prefix"`
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`
}

func configCommand() *command {
	return &command{
		name: "config", maxArgs: 0,
		short: "show the configuration in use (secrets redacted)",
		long: `Show which config file is read and the settings that apply after the
global flags. Secrets show as REDACTED when set; empty keys mean the AWS
chain (environment, shared config, profile) provides the credentials.
Nothing is sent to the server.`,
		examples: []string{"s3map config", "s3map --config prod.yaml config --json"},
		setup: func(fs *flagSet) runFunc {
			var js bool
			jsonFlag(fs, &js)
			return func(ctx context.Context, a *app, args []string) error {
				cfg, file, err := a.loadConfig()
				if err != nil {
					return err
				}
				red := func(s string) string {
					if s == "" {
						return ""
					}
					return "REDACTED"
				}
				res := configResult{File: file, Endpoint: cfg.Endpoint, Region: cfg.Region, Profile: cfg.Profile,
					Bucket: cfg.DefaultBucket, Prefix: a.g.prefix, AccessKeyID: cfg.AccessKeyID,
					SecretAccessKey: red(cfg.SecretAccessKey), SessionToken: red(cfg.SessionToken)}
				if js {
					return a.writeJSON(res)
				}
				or := func(s, def string) string {
					if s == "" {
						return def
					}
					return s
				}
				w := &errWriter{w: a.stdout}
				w.printf("config file:       %s\n", or(res.File, "none"))
				w.printf("endpoint:          %s\n", or(res.Endpoint, "AWS"))
				w.printf("region:            %s\n", or(res.Region, "from the AWS chain"))
				w.printf("profile:           %s\n", or(res.Profile, "default"))
				w.printf("bucket:            %s\n", or(res.Bucket, "none"))
				w.printf("prefix:            %s\n", or(res.Prefix, "none"))
				w.printf("access_key_id:     %s\n", or(res.AccessKeyID, "from the AWS chain"))
				w.printf("secret_access_key: %s\n", or(res.SecretAccessKey, "from the AWS chain"))
				if res.SessionToken != "" {
					w.printf("session_token:     %s\n", res.SessionToken)
				}
				return w.err
			}
		},
	}
}

// --- version, help, completion

func versionCommand() *command {
	return &command{
		name: "version", maxArgs: 0,
		short:    "print the version",
		long:     `Print the version of s3map, as go install recorded it.`,
		examples: []string{"s3map version"},
		setup: func(fs *flagSet) runFunc {
			return func(ctx context.Context, a *app, args []string) error {
				v := "(devel)"
				if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
					v = bi.Main.Version
				}
				_, err := fmt.Fprintf(a.stdout, "s3map %s\n", v)
				return err
			}
		},
	}
}

func helpCommand() *command {
	return &command{
		name: "help", args: "[COMMAND]", maxArgs: 1,
		short:    "show help for s3map or a command",
		long:     `Show the list of commands, or the help of one.`,
		examples: []string{"s3map help", "s3map help put"},
		setup: func(fs *flagSet) runFunc {
			return func(ctx context.Context, a *app, args []string) error {
				if len(args) == 0 {
					a.printHelp(a.stdout, nil)
					return nil
				}
				c := lookup(args[0])
				if c == nil {
					return usagef("unknown command %q", args[0])
				}
				a.printHelp(a.stdout, c)
				return nil
			}
		},
	}
}
