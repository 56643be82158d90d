package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config says how to reach S3. Its YAML form (see LoadConfig) uses the
// snake_case names in the yaml tags. Zero values mean defaults.
//
// Formatting a Config (fmt's verbs, slog) never shows the secret key or the
// session token.
type Config struct {
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	SessionToken    string `yaml:"session_token"`
	// DefaultBucket is used by names with an empty Bucket.
	DefaultBucket string `yaml:"default_bucket"`
	// Endpoint is the server: "host:port" or a URL. Empty means AWS for
	// the region.
	Endpoint string `yaml:"endpoint"`
	// Region defaults to the AWS chain's region, then "us-east-1".
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
	// MaxPartSize (512 MiB).
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
		return fmt.Errorf("line %d: %w", n.Line, err)
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

// Validate reports the first unusable value, naming its field.
func (c Config) Validate() error {
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
		if err := checkBucket(c.DefaultBucket); err != nil {
			return bad("default_bucket", "%s is not a bucket name (3 to 255 letters, digits, '.', '-', '_')", shown(c.DefaultBucket))
		}
	}
	if c.Endpoint != "" {
		if _, err := c.endpointURL(); err != nil {
			return err
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
// unless TLS is false.
func (c Config) endpointURL() (string, error) {
	e := c.Endpoint
	switch {
	case strings.HasPrefix(e, "http://"), strings.HasPrefix(e, "https://"):
		tlsScheme := strings.HasPrefix(e, "https://")
		if c.TLS != nil && *c.TLS != tlsScheme {
			return "", fmt.Errorf("%w: endpoint: %s disagrees with tls: %v", ErrInvalidConfig, shown(e), *c.TLS)
		}
	case strings.Contains(e, "://"):
		return "", fmt.Errorf("%w: endpoint: %s: scheme must be http or https", ErrInvalidConfig, shown(e))
	default:
		if c.TLS != nil && !*c.TLS {
			e = "http://" + e
		} else {
			e = "https://" + e
		}
	}
	host := e[strings.Index(e, "://")+3:]
	if host == "" || strings.ContainsAny(host, " \t\r\n") {
		return "", fmt.Errorf("%w: endpoint: %s has no host or holds spaces", ErrInvalidConfig, shown(c.Endpoint))
	}
	return strings.TrimSuffix(e, "/"), nil
}

// shown quotes a config value for an error message, unless it could hold
// more than the value: a YAML value with an unclosed quote or a block
// scalar swallows the lines after it, secrets included. Such values are
// described, not shown.
func shown(v string) string {
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

// ParseConfig parses a config in LoadConfig's YAML form.
func ParseConfig(data []byte) (Config, error) {
	var file struct {
		S3     *Config `yaml:"s3"`
		Config `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("%w: the file is empty", ErrInvalidConfig)
		}
		return Config{}, fmt.Errorf("%w: %s", ErrInvalidConfig, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	cfg := file.Config
	if file.S3 != nil {
		if cfg != (Config{}) {
			return Config{}, fmt.Errorf("%w: fields both under s3: and at the top level; use one", ErrInvalidConfig)
		}
		cfg = *file.S3
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, withLine(data, err)
	}
	return cfg, nil
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
	if line := find(&root); line > 0 {
		return fmt.Errorf("line %d: %w", line, err)
	}
	return err
}
