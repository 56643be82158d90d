package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	"golang.org/x/term"

	"github.com/s3map/s3map/storage"
)

// Exit codes. Scripts can tell a missing object (3) from any other
// failure (1) and from a command line that was wrong (2).
const (
	exitOK        = 0
	exitFailure   = 1
	exitUsage     = 2
	exitNotFound  = 3
	exitInterrupt = 130
)

// envConfig names the environment variable that gives the config file when
// --config is not set.
const envConfig = "S3MAP_CONFIG"

// progressMin is the smallest transfer that shows a progress bar.
const progressMin = 1 << 20

// app is one run of the command: its streams, what they are connected to,
// the global flags, and the Storage once it is opened.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stdinTTY and stderrTTY tell whether a person is at the terminal:
	// confirmations need stdinTTY, progress bars stderrTTY.
	stdinTTY, stderrTTY bool
	// progressMin is the smallest transfer with a progress bar; tests
	// lower it.
	progressMin int64
	// width is the terminal's width for progress bars (0: ask stderr).
	width int

	g  globals
	st *storage.Storage
	// cmd is the command running, for messages.
	cmd *command
}

// globals are the flags every command takes, before or after its name.
type globals struct {
	config, endpoint, bucket, prefix string
	debug, noProgress                bool
}

// usageError is a command line that cannot be run: exit code 2.
type usageError struct {
	msg    string
	noHint bool // the usage text would not help
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errAborted: the user answered no to a confirmation.
var errAborted = errors.New("aborted")

// errNoTerminal: a confirmation is needed but nobody can answer it.
var errNoTerminal = &usageError{msg: "refusing to delete without --yes: stdin is not a terminal", noHint: true}

// run is the whole command: it parses args, runs the command and returns
// the exit code. Output goes to stdout, messages and errors to stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{
		stdin: stdin, stdout: stdout, stderr: stderr,
		stdinTTY:    isTerminal(stdin),
		stderrTTY:   isTerminal(stderr),
		progressMin: progressMin,
	}
	return a.main(ctx, args)
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// main parses the global flags and the command, then runs it.
func (a *app) main(ctx context.Context, args []string) int {
	top := newFlagSet("s3map")
	a.globalFlags(top)
	var help, version bool
	top.boolVar(&help, "help", "h", "show help")
	top.boolVar(&version, "version", "", "print the version")
	if err := top.Parse(args); err != nil {
		return a.fail(usagef("%v", err))
	}
	rest := top.Args()
	switch {
	case version:
		rest = []string{"version"}
	case help || len(rest) == 0:
		a.printHelp(a.stdout, nil)
		if len(rest) == 0 && !help {
			return exitUsage
		}
		return exitOK
	}
	cmd := lookup(rest[0])
	if cmd == nil {
		return a.fail(usagef("unknown command %q", rest[0]))
	}
	a.cmd = cmd
	fs := newFlagSet(cmd.name)
	a.globalFlags(fs)
	var cmdHelp bool
	fs.boolVar(&cmdHelp, "help", "h", "show help for "+cmd.name)
	exec := cmd.setup(fs)
	pos, err := fs.parseInterleaved(rest[1:])
	if err != nil {
		return a.fail(usagef("%v", err))
	}
	if cmdHelp {
		a.printHelp(a.stdout, cmd)
		return exitOK
	}
	if len(pos) < cmd.minArgs || (cmd.maxArgs >= 0 && len(pos) > cmd.maxArgs) {
		return a.fail(usagef("%s takes %s", cmd.name, argsWord(cmd)))
	}
	return a.fail(exec(ctx, a, pos))
}

func argsWord(c *command) string {
	if c.args == "" {
		return "no arguments"
	}
	return "arguments " + c.args
}

// fail prints err (if any) on stderr, short, and returns its exit code.
func (a *app) fail(err error) int {
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	name := "s3map"
	if a.cmd != nil {
		name += " " + a.cmd.name
	}
	fmt.Fprintf(a.stderr, "%s: %s\n", name, describe(err))
	if code == exitUsage {
		var ue *usageError
		if errors.As(err, &ue) && !ue.noHint {
			help := "s3map --help"
			if a.cmd != nil {
				help = "s3map " + a.cmd.name + " --help"
			}
			fmt.Fprintf(a.stderr, "Run '%s' for usage.\n", help)
		}
	}
	if a.g.debug {
		for e := err; e != nil; e = errors.Unwrap(e) {
			fmt.Fprintf(a.stderr, "  cause: %T: %v\n", e, e)
		}
	}
	return code
}

// exitCode maps an error to the exit code scripts see.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue),
		errors.Is(err, storage.ErrInvalidName),
		errors.Is(err, storage.ErrInvalidHeader),
		errors.Is(err, storage.ErrMetadataTooLarge),
		errors.Is(err, storage.ErrNoBucket):
		return exitUsage
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrBucketNotFound):
		return exitNotFound
	case errors.Is(err, context.Canceled):
		return exitInterrupt
	}
	return exitFailure
}

// describe makes a short message of err: the kind and the name for the
// known kinds, the server's code and message for other server errors.
func describe(err error) string {
	var se *storage.Error
	if !errors.As(err, &se) {
		if errors.Is(err, context.Canceled) {
			return "interrupted"
		}
		return err.Error()
	}
	name := se.Name.String()
	switch {
	case errors.Is(err, storage.ErrBucketNotFound):
		return "bucket not found: " + se.Name.Bucket
	case errors.Is(err, storage.ErrNotFound):
		return "not found: " + name
	case errors.Is(err, storage.ErrForbidden):
		return "access denied: " + name
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("%s %s: %s: %s", se.Op, name, api.ErrorCode(), api.ErrorMessage())
	}
	return err.Error()
}

func (a *app) globalFlags(fs *flagSet) {
	first := len(fs.specs)
	defer func() {
		for i := first; i < len(fs.specs); i++ {
			fs.specs[i].global = true
		}
	}()
	fs.stringVar(&a.g.config, "config", "", "FILE", "config file (default $"+envConfig+", ./s3.yaml, then the user config dir's s3map/s3.yaml)")
	fs.stringVar(&a.g.endpoint, "endpoint", "", "URL", "S3 endpoint, overriding the config's")
	fs.stringVar(&a.g.bucket, "bucket", "", "NAME", "bucket, overriding the config's default_bucket")
	fs.stringVar(&a.g.prefix, "prefix", "", "PREFIX", "the map's key prefix; keys are named relative to it")
	fs.boolVar(&a.g.debug, "debug", "", "print the configuration used (secrets redacted) and full errors on stderr")
	fs.boolVar(&a.g.noProgress, "no-progress", "", "never show progress bars")
}

// configPath returns the config file to read, "" for none (the AWS chain
// alone), and whether it was asked for explicitly.
func (a *app) configPath() (string, bool) {
	if a.g.config != "" {
		return a.g.config, true
	}
	if p := os.Getenv(envConfig); p != "" {
		return p, true
	}
	candidates := []string{"s3.yaml"}
	if dir, err := os.UserConfigDir(); err == nil {
		candidates = append(candidates, filepath.Join(dir, "s3map", "s3.yaml"))
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p, false
		}
	}
	return "", false
}

// loadConfig reads the config file and applies the global flags.
func (a *app) loadConfig() (storage.Config, string, error) {
	var cfg storage.Config
	path, _ := a.configPath()
	if path != "" {
		c, err := storage.LoadConfig(path)
		if err != nil {
			return cfg, path, err
		}
		cfg = c
	}
	if a.g.endpoint != "" {
		cfg.Endpoint = a.g.endpoint
	}
	if a.g.bucket != "" {
		cfg.DefaultBucket = a.g.bucket
	}
	return cfg, path, nil
}

// storage opens the Storage once.
func (a *app) storage(ctx context.Context) (*storage.Storage, error) {
	if a.st != nil {
		return a.st, nil
	}
	cfg, path, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	if a.g.debug {
		if path == "" {
			path = "none (AWS chain)"
		}
		fmt.Fprintf(a.stderr, "debug: config file: %s\ndebug: %s\n", path, cfg)
	}
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.st = st
	return st, nil
}

// name resolves an argument to an object name: "s3://bucket/key" as it
// is, anything else as a key under --prefix in the default bucket.
func (a *app) name(arg string) (storage.Name, error) {
	if strings.HasPrefix(arg, "s3://") {
		n, err := storage.ParseName(arg)
		if err != nil {
			return n, &usageError{msg: err.Error()}
		}
		return n, nil
	}
	return storage.Name{Key: a.g.prefix + arg}, nil
}

// objectName is name for an argument that must name an object (a key).
func (a *app) objectName(arg string) (storage.Name, error) {
	n, err := a.name(arg)
	if err == nil && n.Key == "" {
		err = usagef("%q names no key", arg)
	}
	return n, err
}

// openObject resolves arg to an object name and opens the Storage.
func (a *app) openObject(ctx context.Context, arg string) (storage.Name, *storage.Storage, error) {
	n, err := a.objectName(arg)
	if err != nil {
		return n, nil, err
	}
	st, err := a.storage(ctx)
	return n, st, err
}

// openRoot resolves a listing argument and opens the Storage.
func (a *app) openRoot(ctx context.Context, arg string) (root, *storage.Storage, error) {
	r, err := a.listRoot(arg)
	if err != nil {
		return r, nil, err
	}
	st, err := a.storage(ctx)
	return r, st, err
}

// root is where a listing starts, and what is cut from the keys shown.
type root struct {
	bucket, prefix string
	strip          string
}

// listRoot resolves a listing argument: a key prefix under --prefix, or
// "s3://bucket/prefix" (whose keys show in full).
func (a *app) listRoot(arg string) (root, error) {
	if strings.HasPrefix(arg, "s3://") {
		n, err := storage.ParseName(arg)
		if err != nil {
			return root{}, &usageError{msg: err.Error()}
		}
		return root{bucket: n.Bucket, prefix: n.Key}, nil
	}
	return root{prefix: a.g.prefix + arg, strip: a.g.prefix}, nil
}

// show is how a key appears: relative to --prefix when named so.
func (r root) show(key string) string { return strings.TrimPrefix(key, r.strip) }

// display names an object for messages, with its bucket.
func (a *app) display(n storage.Name) string {
	if n.Bucket == "" && a.st != nil {
		n.Bucket = a.st.DefaultBucket()
	}
	return n.String()
}

func (r root) displayName(a *app) string {
	return a.display(storage.Name{Bucket: r.bucket, Key: r.prefix})
}

// writeJSON prints v on stdout as one line of JSON.
func (a *app) writeJSON(v any) error { return writeJSON(a.stdout, v) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// confirm asks a yes/no question on the terminal. Without a terminal it
// refuses: a script must say --yes.
func (a *app) confirm(question string) error {
	if !a.stdinTTY {
		return errNoTerminal
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, err := readLine(a.stdin)
	if err != nil && line == "" {
		return errAborted
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errAborted
}

// readLine reads one line byte by byte, so nothing past it is consumed.
func readLine(r io.Reader) (string, error) {
	var b []byte
	var c [1]byte
	for {
		n, err := r.Read(c[:])
		if n == 1 {
			if c[0] == '\n' {
				return string(b), nil
			}
			b = append(b, c[0])
		}
		if err != nil {
			return string(b), err
		}
	}
}

// keyValues parses repeated K=V flags.
func keyValues(flagName string, list []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--%s %q: want NAME=VALUE", flagName, kv)
		}
		m[k] = v
	}
	return m, nil
}

// headers builds the write headers from --header, --meta and
// --content-type.
func headersFrom(hdrs, meta []string, contentType string) (storage.Headers, error) {
	h, err := keyValues("header", hdrs)
	if err != nil {
		return nil, err
	}
	m, err := keyValues("meta", meta)
	if err != nil {
		return nil, err
	}
	out := storage.Headers{}
	for k, v := range h {
		out[k] = v
	}
	for k, v := range m {
		k = strings.ToLower(k)
		if !strings.HasPrefix(k, storage.MetaPrefix) {
			k = storage.MetaPrefix + k
		}
		out[k] = v
	}
	if contentType != "" {
		for k := range out {
			if strings.EqualFold(k, "content-type") {
				delete(out, k)
			}
		}
		out["Content-Type"] = contentType
	}
	return out, nil
}

func hasHeader(h storage.Headers, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// parseExpiry reads a duration, allowing a "d" suffix for days.
func parseExpiry(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && fmt.Sprint(n) == d {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, usagef("bad duration %q: want 90s, 15m, 12h or 7d", s)
	}
	return v, nil
}

// durationValue is a flag.Value for durations that also takes days.
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := parseExpiry(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("negative duration %q", s)
	}
	*v.d = d
	return nil
}

// humanBytes writes n bytes as "12.3 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func trimETag(etag string) string { return strings.Trim(etag, `"`) }

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// flagSet is a flag.FlagSet that remembers its flags' long and short
// names, for help and completion.
type flagSet struct {
	*flag.FlagSet
	specs []flagSpec
}

// flagSpec describes one flag for help and completion.
type flagSpec struct {
	long, short string
	arg         string // the value's placeholder; "" for a switch
	usage       string
	global      bool
}

func newFlagSet(name string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagSet{FlagSet: fs}
}

func (f *flagSet) add(s flagSpec, v flag.Value) {
	f.Var(v, s.long, s.usage)
	if s.short != "" {
		f.Var(v, s.short, s.usage)
	}
	f.specs = append(f.specs, s)
}

// boolVar registers a switch; the variable keeps its current value.
func (f *flagSet) boolVar(p *bool, long, short, usage string) {
	f.add(flagSpec{long: long, short: short, usage: usage}, (*boolValue)(p))
}

// stringVar registers a string flag with its value's placeholder.
func (f *flagSet) stringVar(p *string, long, short, arg, usage string) {
	f.add(flagSpec{long: long, short: short, arg: arg, usage: usage}, (*stringValue)(p))
}

// listVar registers a repeatable flag.
func (f *flagSet) listVar(p *[]string, long, short, arg, usage string) {
	f.add(flagSpec{long: long, short: short, arg: arg, usage: usage}, (*listValue)(p))
}

// durationVar registers a duration flag (with days: "7d").
func (f *flagSet) durationVar(p *time.Duration, long, arg, usage string) {
	f.add(flagSpec{long: long, arg: arg, usage: usage}, durationValue{p})
}

type boolValue bool

func (b *boolValue) Set(s string) error {
	switch s {
	case "true", "1":
		*b = true
	case "false", "0":
		*b = false
	default:
		return fmt.Errorf("want true or false, not %q", s)
	}
	return nil
}
func (b *boolValue) String() string {
	if b == nil {
		return "false"
	}
	return fmt.Sprint(bool(*b))
}
func (b *boolValue) IsBoolFlag() bool { return true }

type stringValue string

func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }
func (s *stringValue) String() string {
	if s == nil {
		return ""
	}
	return string(*s)
}

type listValue []string

func (l *listValue) Set(v string) error { *l = append(*l, v); return nil }
func (l *listValue) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

// parseInterleaved parses flags anywhere among the arguments, as users of
// gh and the aws CLI expect ("s3map rm -r dir/ --yes"); everything after
// "--" is an argument.
func (f *flagSet) parseInterleaved(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, err
		}
		rest := f.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
