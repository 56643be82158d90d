package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config says how to reach S3. Its YAML form (see LoadConfig) uses the
// snake_case names in the yaml tags. Zero values mean defaults.
//
// Formatting or marshalling a Config (fmt's verbs, json.Marshal,
// yaml.Marshal, log/slog's handlers) never shows the secret key or the
// session token: they appear as REDACTED. This holds for a Config nested in
// other values too, except in an unexported struct field, which fmt prints
// without calling its methods (Go's rule): hold it in an exported field or
// behind a pointer.
type Config struct {
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	SessionToken    string `yaml:"session_token"`
	// DefaultBucket is used by names with an empty Bucket.
	DefaultBucket string `yaml:"default_bucket"`
	// Endpoint is the server: "host:port" or an http:// or https:// URL,
	// without user info, path or query. Empty means AWS for the region.
	// "host:port" is https unless TLS is false: for a plain-HTTP server,
	// set tls: false or write the http:// URL.
	Endpoint string `yaml:"endpoint"`
	// Region defaults to the AWS chain's region, then "us-east-1". For
	// AWS (no Endpoint) it has the shape of AWS's names ("eu-west-1");
	// for other servers it is lower-case letters, digits and '-' ("auto").
	Region string `yaml:"region"`
	// Profile selects a shared-config profile for credentials and region
	// when the keys are empty.
	Profile string `yaml:"profile"`
	// TLS selects https (default) or http when Endpoint has no scheme.
	TLS *bool `yaml:"tls"`
	// PathStyle addresses buckets in the path rather than the host name;
	// default true when Endpoint is set, false for AWS.
	PathStyle *bool `yaml:"path_style"`
	// RetryMaxAttempts is the most attempts per request (SDK default 3).
	RetryMaxAttempts int `yaml:"retry_max_attempts"`
	// RetryMode is "standard" or "adaptive" (SDK default standard).
	RetryMode string `yaml:"retry_mode"`
	// Checksums is "when_required" or "when_supported": when request
	// checksums are sent and response checksums checked. The default is
	// when_required for a custom Endpoint (S3-compatible servers differ)
	// and when_supported for AWS.
	Checksums string `yaml:"checksums"`
	// PartSize is the size of the parts of multipart uploads and ranged
	// downloads: bytes, or a string such as "16MiB". From 5 MiB to
	// MaxPartSize (512 MiB). Unset, it is Options.PartSize's default.
	PartSize ByteSize `yaml:"part_size"`
	// Concurrency is how many parts move at once for one object: at most
	// MaxConcurrency (64).
	Concurrency int `yaml:"concurrency"`
}

// ByteSize is a number of bytes. In YAML it is an integer or a string with
// a unit: "512KiB", "16MiB", "1GiB", "10MB".
type ByteSize int64

// UnmarshalYAML reads an integer or a string with a unit.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a size such as 16MiB", n.Line)
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("%w: line %d: %s", ErrInvalidConfig, n.Line, strings.TrimPrefix(err.Error(), ErrInvalidConfig.Error()+": "))
	}
	*b = v
	return nil
}

// ParseByteSize parses "123", "512KiB", "16MiB", "1GiB", "10MB", "1kB".
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%w: size %s is not a non-negative whole number of bytes, KiB, MiB or GiB", ErrInvalidConfig, shown(s))
	}
	return ByteSize(n * mult), nil
}

const minPartSize = 5 << 20

// Validate reports the first unusable value, naming its field. The error
// never shows the secret key or the session token, even when one of them
// was pasted into another field.
func (c Config) Validate() error {
	return scrub(c.validate(), c.SecretAccessKey, c.SessionToken)
}

func (c Config) validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: "+format, append([]any{ErrInvalidConfig, field}, args...)...)
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return bad("access_key_id", "access_key_id and secret_access_key go together: set both or neither")
	}
	if c.SessionToken != "" && c.AccessKeyID == "" {
		return bad("session_token", "a session token needs access_key_id and secret_access_key")
	}
	if c.DefaultBucket != "" {
		if err := CheckBucket(c.DefaultBucket); err != nil {
			return bad("default_bucket", "%s is not a bucket name (3 to 255 letters, digits, '.', '-', '_')", shown(c.DefaultBucket))
		}
	}
	if c.Endpoint != "" {
		if _, err := c.endpointURL(); err != nil {
			return err
		}
	}
	if c.Region != "" {
		if err := c.checkRegion(); err != nil {
			return bad("region", "%s", err)
		}
	}
	if c.RetryMaxAttempts < 0 {
		return bad("retry_max_attempts", "%d is negative", c.RetryMaxAttempts)
	}
	switch c.RetryMode {
	case "", "standard", "adaptive":
	default:
		return bad("retry_mode", "%s is not standard or adaptive", shown(c.RetryMode))
	}
	switch c.Checksums {
	case "", "when_required", "when_supported":
	default:
		return bad("checksums", "%s is not when_required or when_supported", shown(c.Checksums))
	}
	if c.PartSize != 0 && c.PartSize < minPartSize {
		return bad("part_size", "%d bytes is under S3's minimum part of 5 MiB", c.PartSize)
	}
	if c.PartSize > MaxPartSize {
		return bad("part_size", "%d bytes is over the largest part, %d (512 MiB)", c.PartSize, MaxPartSize)
	}
	if c.Concurrency < 0 {
		return bad("concurrency", "%d is negative", c.Concurrency)
	}
	if c.Concurrency > MaxConcurrency {
		return bad("concurrency", "%d is over the most, %d", c.Concurrency, MaxConcurrency)
	}
	return nil
}

// endpointURL returns Endpoint with its scheme: the one written, or https
// unless TLS is false. It refuses what the SDK would only fail on at
// request time: another scheme, user info, a path, a query or fragment, no
// host, a bad port.
func (c Config) endpointURL() (string, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: endpoint: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	e := c.Endpoint
	if strings.Contains(e, "@") {
		// Never shown: the part before '@' may be a password.
		return "", bad("holds user info (user:password@): put the keys in access_key_id and secret_access_key")
	}
	switch {
	case strings.HasPrefix(e, "http://"), strings.HasPrefix(e, "https://"):
		tlsScheme := strings.HasPrefix(e, "https://")
		if c.TLS != nil && *c.TLS != tlsScheme {
			return "", bad("%s disagrees with tls: %v", shown(e), *c.TLS)
		}
	case strings.Contains(e, "://"):
		return "", bad("%s: scheme must be http or https", shown(e))
	default:
		if c.TLS != nil && !*c.TLS {
			e = "http://" + e
		} else {
			e = "https://" + e
		}
	}
	host := e[strings.Index(e, "://")+3:]
	if host == "" || strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", bad("%s has no host or holds spaces", shown(c.Endpoint))
	}
	u, err := url.Parse(e)
	if err != nil {
		return "", bad("%s is not a URL", shown(c.Endpoint))
	}
	switch {
	case u.Path != "" && u.Path != "/":
		return "", bad("%s has a path; give the server's scheme, host and port only", shown(u.Path))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(host, "#"):
		return "", bad("%s has a query or fragment; give the server's scheme, host and port only", shown(c.Endpoint))
	case u.Hostname() == "":
		return "", bad("%s has no host", shown(c.Endpoint))
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", bad("port %s is not a number from 1 to 65535", shown(port))
		}
	}
	return u.Scheme + "://" + u.Host, nil
}

// checkRegion refuses what cannot be a region: for AWS (no Endpoint) the
// shape of AWS's names ("us-east-1", "ap-southeast-2", "us-gov-west-1");
// for other servers lower-case letters, digits and '-', as in "auto",
// "nyc3" or "fr-par".
func (c Config) checkRegion() error {
	r := c.Region
	if c.Endpoint == "" {
		if !awsRegion.MatchString(r) {
			return fmt.Errorf("%s is not an AWS region such as us-east-1", shown(r))
		}
		return nil
	}
	if !anyRegion.MatchString(r) {
		return fmt.Errorf("%s is not a region: lower-case letters, digits and '-', at most 64", shown(r))
	}
	return nil
}

var (
	awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	anyRegion = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
)

// shown quotes a config value for an error message, unless it could hold
// more than the value, or looks like a secret key pasted into the wrong
// field. A YAML value with an unclosed quote or a block scalar swallows the
// lines after it, secrets included. Such values are described, not shown.
func shown(v string) string {
	if looksSecret(v) {
		return fmt.Sprintf("a value of %d bytes that looks like a secret key (not shown)", len(v))
	}
	// A swallowed line brings at least its key ("secret_access_key: ")
	// and a space or line break: short values, and longer ones without
	// any blank, are safe to show.
	blank := strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f })
	lineBreak := strings.ContainsAny(v, "\r\n")
	if (len(v) <= 16 && !lineBreak) || (len(v) <= 64 && !blank) {
		return strconv.Quote(v)
	}
	return fmt.Sprintf("a value of %d bytes with spaces or line breaks (not shown: it may hold the lines after it)", len(v))
}

// looksSecret reports a value shaped like an AWS secret key or session
// token: 20 or more characters of base64 with upper case, lower case and
// digits (two, two and one at least). No bucket, region or endpoint looks so (they hold '-', '.' or
// ':', or no upper case).
func looksSecret(v string) bool {
	if len(v) < 20 {
		return false
	}
	var upper, lower, digit int
	for _, r := range v {
		switch {
		case r >= 'A' && r <= 'Z':
			upper++
		case r >= 'a' && r <= 'z':
			lower++
		case r >= '0' && r <= '9':
			digit++
		case r == '+' || r == '/' || r == '=':
		default:
			return false
		}
	}
	return upper >= 2 && lower >= 2 && digit >= 1
}

// scrubbed is a config error whose text had secrets replaced. It unwraps
// to the sentinel only, so no error in the chain shows them.
type scrubbed struct {
	msg  string
	kind error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.kind }

// scrub replaces every secret (of 4 bytes or more; shorter ones would
// garble the message and hide little) in err's text with REDACTED.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, redacted)
		}
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, kind: ErrInvalidConfig}
}

// redacted is what formatting shows for a secret that is set.
const redacted = "REDACTED"

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// String shows the config with secrets redacted.
func (c Config) String() string {
	opt := func(p *bool) string {
		if p == nil {
			return "default"
		}
		return strconv.FormatBool(*p)
	}
	return fmt.Sprintf("storage.Config{AccessKeyID:%q SecretAccessKey:%q SessionToken:%q DefaultBucket:%q Endpoint:%q Region:%q Profile:%q TLS:%s PathStyle:%s RetryMaxAttempts:%d RetryMode:%q Checksums:%q PartSize:%d Concurrency:%d}",
		c.AccessKeyID, redact(c.SecretAccessKey), redact(c.SessionToken), c.DefaultBucket, c.Endpoint, c.Region, c.Profile,
		opt(c.TLS), opt(c.PathStyle), c.RetryMaxAttempts, c.RetryMode, c.Checksums, c.PartSize, c.Concurrency)
}

// GoString is String: %#v redacts secrets too.
func (c Config) GoString() string { return c.String() }

// Format makes every fmt verb print String, so no verb shows a secret.
func (c Config) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// LogValue shows the config to log/slog with secrets redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_key_id", c.AccessKeyID),
		slog.String("secret_access_key", redact(c.SecretAccessKey)),
		slog.String("session_token", redact(c.SessionToken)),
		slog.String("default_bucket", c.DefaultBucket),
		slog.String("endpoint", c.Endpoint),
		slog.String("region", c.Region),
		slog.String("profile", c.Profile),
	)
}

// plainConfig is Config without its methods, for marshalling.
type plainConfig Config

func (c Config) redacted() plainConfig {
	p := plainConfig(c)
	p.SecretAccessKey, p.SessionToken = redact(c.SecretAccessKey), redact(c.SessionToken)
	return p
}

// MarshalJSON encodes the config with the secret key and the session token
// as REDACTED, so json.Marshal (and slog's JSON handler) never shows them.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.redacted()) }

// MarshalYAML encodes the config in LoadConfig's form with the secret key
// and the session token as REDACTED: yaml.Marshal never shows them, so a
// marshalled config loads back without its secrets.
func (c Config) MarshalYAML() (any, error) { return c.redacted(), nil }

// LoadConfig reads a YAML config file: the fields of Config by their yaml
// names, either at the top level or under a top-level "s3:" key:
//
//	s3:
//	  access_key_id: "XXXXX"
//	  secret_access_key: "YYYYYYY"
//	  default_bucket: "ZZZZZZZ"
//	  endpoint: ""
//
// With no keys in the file, credentials come from the standard AWS chain
// (environment, shared config, profile). A missing file, bad YAML, an
// unknown field or a bad value is an error naming the file, and the line
// and field where YAML tells them.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("storage: config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("storage: config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses a config in LoadConfig's YAML form: one document,
// the fields at the top level or under a non-empty "s3:". Errors name the
// line and the field, and never show the secret key or session token.
func ParseConfig(data []byte) (Config, error) {
	var secrets []string
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil {
		secrets = secretValues(&doc)
	}
	cfg, err := parseConfig(data, &doc)
	if err != nil {
		return Config{}, scrub(err, secrets...)
	}
	return cfg, nil
}

func parseConfig(data []byte, doc *yaml.Node) (Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, second yaml.Node
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("%w: the file is empty", ErrInvalidConfig)
		}
		return Config{}, fmt.Errorf("%w: %s", ErrInvalidConfig, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	switch err := dec.Decode(&second); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return Config{}, fmt.Errorf("%w: %s", ErrInvalidConfig, strings.TrimPrefix(err.Error(), "yaml: "))
	default:
		return Config{}, fmt.Errorf("%w: line %d: a second YAML document (after ---): a config is one document", ErrInvalidConfig, max(second.Line, 1))
	}
	if err := checkFields(doc); err != nil {
		return Config{}, err
	}
	var file struct {
		S3     *Config `yaml:"s3"`
		Config `yaml:",inline"`
	}
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return Config{}, decodeError(doc, err)
	}
	cfg := file.Config
	if file.S3 != nil {
		if cfg != (Config{}) {
			return Config{}, fmt.Errorf("%w: fields both under s3: and at the top level; use one", ErrInvalidConfig)
		}
		cfg = *file.S3
	}
	if err := cfg.validate(); err != nil {
		return Config{}, withLine(data, err)
	}
	return cfg, nil
}

// configFields are the yaml names of Config's fields.
var configFields = func() []string {
	t := reflect.TypeFor[Config]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
	}
	return names
}()

// checkFields refuses unknown fields and an "s3:" section that is empty or
// not a mapping, naming the line. Other shapes are left to the decoder.
func checkFields(doc *yaml.Node) error {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return fmt.Errorf("%w: the file is empty", ErrInvalidConfig)
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%w: line %d: want the config's fields (name: value), not %s", ErrInvalidConfig, root.Line, nodeKind(root))
	}
	check := func(m *yaml.Node) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" || slices.Contains(configFields, k.Value) {
				continue
			}
			if m == root && k.Value == "s3" {
				continue
			}
			msg := fmt.Sprintf("line %d: unknown field %s", k.Line, shown(k.Value))
			if near := closest(k.Value, configFields); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			return fmt.Errorf("%w: %s", ErrInvalidConfig, msg)
		}
		return nil
	}
	if err := check(root); err != nil {
		return err
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "s3" {
			continue
		}
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null", v.Kind == yaml.MappingNode && len(v.Content) == 0:
			return fmt.Errorf("%w: line %d: s3: the section is empty; put the fields under it, indented, or remove it", ErrInvalidConfig, k.Line)
		case v.Kind == yaml.MappingNode:
			if err := check(v); err != nil {
				return err
			}
		case v.Kind != yaml.AliasNode:
			return fmt.Errorf("%w: line %d: s3: want the config's fields under it, not %s", ErrInvalidConfig, k.Line, nodeKind(v))
		}
	}
	return nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return "the value " + shown(n.Value)
	}
	return "an alias"
}

// closest returns the one name in names within a small edit distance of
// s (a typo), or "" when none or several are.
func closest(s string, names []string) string {
	best, bestD, ties := "", 3, 0
	for _, n := range names {
		d := editDistance(strings.ToLower(s), n)
		switch {
		case d < bestD:
			best, bestD, ties = n, d, 1
		case d == bestD:
			ties++
		}
	}
	if ties != 1 || bestD > len(best)/3 {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours, one each.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// decodeError rewrites the decoder's error: yaml.v3 names Go types
// ("into int", "in type struct { S3 *storage.Config ... }") and quotes the
// start of long values, which may be a secret pasted in the wrong place.
func decodeError(doc *yaml.Node, err error) error {
	if errors.Is(err, ErrInvalidConfig) {
		return err // from ByteSize.UnmarshalYAML
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		msgs[i] = typeErrorText(doc, e)
	}
	return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(msgs, "; "))
}

var (
	lineRE         = regexp.MustCompile(`^line (\d+): `)
	unknownFieldRE = regexp.MustCompile(`field (\S+) not found in type`)
	intoRE         = regexp.MustCompile(`into (\S+)$`)
)

// typeErrorText rewrites one of yaml.v3's type errors.
func typeErrorText(doc *yaml.Node, e string) string {
	m := lineRE.FindStringSubmatch(e)
	if m == nil {
		return "a value of the wrong type"
	}
	line, _ := strconv.Atoi(m[1])
	if u := unknownFieldRE.FindStringSubmatch(e); u != nil {
		return fmt.Sprintf("line %d: unknown field %s", line, shown(u[1]))
	}
	want := "of another type"
	if t := intoRE.FindStringSubmatch(e); t != nil {
		switch t[1] {
		case "bool":
			want = "true or false (bool)"
		case "int", "int64":
			want = "a whole number (int)"
		case "string":
			want = "a single text value (string)"
		default:
			want = "the config's fields (name: value)"
		}
	}
	key, value := nodeAt(doc, line)
	if value == nil {
		return fmt.Sprintf("line %d: want %s", line, want)
	}
	return fmt.Sprintf("line %d: %s: %s is not %s", line, key, describe(value), want)
}

// describe says what a value is, quoting it only as shown does.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return shown(n.Value)
	}
	return nodeKind(n)
}

// nodeAt finds the mapping entry whose key is on line.
func nodeAt(n *yaml.Node, line int) (string, *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Line == line {
				return n.Content[i].Value, n.Content[i+1]
			}
		}
	}
	for _, c := range n.Content {
		if k, v := nodeAt(c, line); v != nil {
			return k, v
		}
	}
	return "", nil
}

// secretValues collects the scalars under secret_access_key and
// session_token anywhere in the document, so errors can hide them.
func secretValues(n *yaml.Node) []string {
	var out []string
	var all func(n *yaml.Node)
	all = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			out = append(out, n.Value)
		}
		for _, c := range n.Content {
			all(c)
		}
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := n.Content[i].Value; k == "secret_access_key" || k == "session_token" {
					all(n.Content[i+1])
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return out
}

// withLine adds the line of the field an error names, found in the YAML.
func withLine(data []byte, err error) error {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return err
	}
	var find func(n *yaml.Node) int
	find = func(n *yaml.Node) int {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if strings.Contains(err.Error(), ": "+n.Content[i].Value+":") {
					return n.Content[i].Line
				}
			}
		}
		for _, c := range n.Content {
			if l := find(c); l > 0 {
				return l
			}
		}
		return 0
	}
	line := find(&root)
	rest, ok := strings.CutPrefix(err.Error(), ErrInvalidConfig.Error()+": ")
	if line == 0 || !ok {
		return err
	}
	return fmt.Errorf("%w: line %d: %s", ErrInvalidConfig, line, rest)
}
