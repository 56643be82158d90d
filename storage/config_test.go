package storage

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// plainConfig (config.go) is Config without its methods, so cmp shows
// every field (Config's String would redact the secrets in a diff).
func diffConfig(want, got Config) string {
	return cmp.Diff(plainConfig(want), plainConfig(got))
}

func ptr[T any](v T) *T { return &v }

// writeConfig writes a config file into a fresh directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s3.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The seed's s3.yaml, under "s3:" and flat, loads as it is.
func TestLoadConfigSeedForms(t *testing.T) {
	want := Config{AccessKeyID: "XXXXX", SecretAccessKey: "YYYYYYY", DefaultBucket: "ZZZZZZZ"}
	files := map[string]string{
		"under s3": `s3:
  access_key_id: "XXXXX"
  secret_access_key: "YYYYYYY"
  default_bucket: "ZZZZZZZ"
  endpoint: ""
`,
		"flat": `access_key_id: "XXXXX"
secret_access_key: "YYYYYYY"
default_bucket: "ZZZZZZZ"
endpoint: ""
`,
		"flat, unquoted, with comments": `# the seed's file
access_key_id: XXXXX      # key
secret_access_key: YYYYYYY
default_bucket: ZZZZZZZ
`,
	}
	for name, text := range files {
		got, err := LoadConfig(writeConfig(t, text))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if diff := diffConfig(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestParseConfigFields(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want Config
	}{
		{
			name: "every field",
			yaml: `s3:
  access_key_id: AKID
  secret_access_key: SECRET
  session_token: TOKEN
  default_bucket: my-bucket
  endpoint: http://127.0.0.1:9000
  region: eu-central-1
  profile: work
  tls: false
  path_style: true
  retry_max_attempts: 7
  retry_mode: adaptive
  checksums: when_supported
  part_size: 16MiB
  concurrency: 12
`,
			want: Config{
				AccessKeyID: "AKID", SecretAccessKey: "SECRET", SessionToken: "TOKEN",
				DefaultBucket: "my-bucket", Endpoint: "http://127.0.0.1:9000", Region: "eu-central-1",
				Profile: "work", TLS: ptr(false), PathStyle: ptr(true), RetryMaxAttempts: 7,
				RetryMode: "adaptive", Checksums: "when_supported", PartSize: 16 << 20, Concurrency: 12,
			},
		},
		{
			name: "part size in bytes",
			yaml: "part_size: 8388608\n",
			want: Config{PartSize: 8 << 20},
		},
		{
			name: "part size in decimal units",
			yaml: "part_size: 10MB\n",
			want: Config{PartSize: 10_000_000},
		},
		{
			name: "part size quoted",
			yaml: `part_size: "256MiB"` + "\n",
			want: Config{PartSize: 256 << 20},
		},
		{
			name: "endpoint without scheme, tls on",
			yaml: "endpoint: s3.example.com\ntls: true\npath_style: false\n",
			want: Config{Endpoint: "s3.example.com", TLS: ptr(true), PathStyle: ptr(false)},
		},
		{
			name: "profile only",
			yaml: "profile: dev\nregion: us-west-2\n",
			want: Config{Profile: "dev", Region: "us-west-2"},
		},
		{
			name: "standard retries, checksums when required",
			yaml: "retry_mode: standard\nchecksums: when_required\nretry_max_attempts: 1\n",
			want: Config{RetryMode: "standard", Checksums: "when_required", RetryMaxAttempts: 1},
		},
		{
			name: "an empty mapping",
			yaml: "{}\n",
			want: Config{},
		},
		{
			name: "flow style under s3",
			yaml: "s3: {region: us-east-1, concurrency: 3}\n",
			want: Config{Region: "us-east-1", Concurrency: 3},
		},
	}
	for _, tt := range tests {
		got, err := ParseConfig([]byte(tt.yaml))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := diffConfig(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nowhere.yaml")
	_, err := LoadConfig(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadConfig of a missing file: %v; want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file %s", err, path)
	}
}

// Every refusal names the file, and the line and field where there is one.
func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		line    int      // 0: no line to name
		mention []string // the error holds each
	}{
		// yaml.v3 numbers some syntax errors off by one, so only "line".
		{"bad YAML", "s3:\n  region: [unclosed\n", 0, []string{"line "}},
		{"tab indentation", "s3:\n\tregion: eu-west-1\n", 2, nil},
		{"unknown field under s3", "s3:\n  access_key_id: a\n  acess_key_id: x\n", 3, []string{"acess_key_id"}},
		{"unknown field, flat", "region: eu-west-1\nacess_key_id: x\n", 2, []string{"acess_key_id"}},
		{"field of the wrong type", "s3:\n  tls: maybe\n", 2, []string{"maybe", "bool"}},
		{"not a number", "concurrency: lots\n", 1, []string{"lots"}},
		{"s3 not a mapping", "s3: 5\n", 1, nil},
		{"retry_mode", "s3:\n  region: eu-west-1\n  retry_mode: bogus\n", 3, []string{"retry_mode", "bogus"}},
		{"part_size too small", "part_size: 1KiB\n", 1, []string{"part_size"}},
		{"part_size not a size", "region: eu-west-1\npart_size: lots\n", 2, []string{"lots"}},
		{"part_size a list", "part_size: [1]\n", 1, []string{"size"}},
		{"checksums", "checksums: x\n", 1, []string{"checksums", `"x"`}},
		{"endpoint scheme", "endpoint: ftp://x\n", 1, []string{"endpoint", "ftp://x"}},
		{"endpoint without host", "endpoint: http://\n", 1, []string{"endpoint"}},
		{"tls false with https", "tls: false\nendpoint: https://s3.example.com\n", 2, []string{"endpoint", "tls"}},
		{"tls true with http", "s3:\n  endpoint: http://127.0.0.1:9000\n  tls: true\n", 2, []string{"endpoint", "tls"}},
		{"negative retries", "retry_max_attempts: -1\n", 1, []string{"retry_max_attempts"}},
		{"negative concurrency", "concurrency: -2\n", 1, []string{"concurrency"}},
		{"bad default bucket", "default_bucket: a b\n", 1, []string{"default_bucket"}},
		{"key without secret", "region: eu-west-1\naccess_key_id: AKID\n", 2, []string{"access_key_id", "secret_access_key"}},
		{"token without keys", "session_token: T\n", 1, []string{"session_token"}},
		{"under s3 and flat", "s3:\n  region: eu-west-1\nregion: eu-west-2\n", 0, []string{"s3"}},
		{"a second document", "region: us-east-1\n---\nregion: eu-west-1\n", 2, []string{"second YAML document"}},
		{"a second, empty document", "s3:\n  region: us-east-1\n---\n", 0, []string{"second YAML document"}},
		{"empty s3 section", "s3:\n", 1, []string{"s3:", "empty"}},
		{"empty s3 mapping", "# keys\ns3: {}\n", 2, []string{"s3:", "empty"}},
		{"typo, flat", "region: us-east-1\ndefualt_bucket: b\n", 2, []string{`unknown field "defualt_bucket"`, "did you mean default_bucket?"}},
		{"typo under s3", "s3:\n  Region: us-east-1\n", 2, []string{`unknown field "Region"`, "did you mean region?"}},
		{"unknown field, nothing close", "colour: blue\n", 1, []string{`unknown field "colour"`}},
		{"endpoint user info", "endpoint: http://user:pw@127.0.0.1:9000\n", 1, []string{"endpoint", "user info"}},
		{"endpoint path", "endpoint: http://127.0.0.1:9000/bucket\n", 1, []string{"endpoint", "path"}},
		{"endpoint query", "endpoint: http://127.0.0.1:9000?x=1\n", 1, []string{"endpoint", "query"}},
		{"endpoint port", "endpoint: 127.0.0.1:99999\n", 1, []string{"endpoint", "port", "99999"}},
		{"endpoint port not a number", "endpoint: http://127.0.0.1:http\n", 1, []string{"endpoint"}},
		{"endpoint empty host", "endpoint: http://:9000\n", 1, []string{"endpoint", "host"}},
		{"region shape", "region: US East 1\n", 1, []string{"region", "US East 1"}},
		{"region with endpoint", "endpoint: http://127.0.0.1:9000\nregion: us_east_1\n", 2, []string{"region", "us_east_1"}},
		{"empty file", "", 0, []string{"empty"}},
		{"only a comment", "# nothing here\n", 0, []string{"empty"}},
	}
	for _, tt := range tests {
		path := writeConfig(t, tt.yaml)
		_, err := LoadConfig(path)
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: LoadConfig = %v; want ErrInvalidConfig", tt.name, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, path) {
			t.Errorf("%s: error %q does not name the file", tt.name, msg)
		}
		if strings.Contains(msg, "storage.") || strings.Contains(msg, "struct {") {
			t.Errorf("%s: error %q names an internal type", tt.name, msg)
		}
		if tt.line > 0 && !strings.Contains(msg, fmt.Sprintf("line %d:", tt.line)) {
			t.Errorf("%s: error %q does not name line %d", tt.name, msg, tt.line)
		}
		for _, m := range tt.mention {
			if !strings.Contains(msg, m) {
				t.Errorf("%s: error %q does not mention %q", tt.name, msg, m)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	valid := []Config{
		{},
		{AccessKeyID: "a", SecretAccessKey: "s"},
		{AccessKeyID: "a", SecretAccessKey: "s", SessionToken: "t"},
		{Endpoint: "localhost:9000", TLS: ptr(false)},
		{Endpoint: "https://s3.example.com/", TLS: ptr(true)},
		{PartSize: 5 << 20, Concurrency: 1, RetryMaxAttempts: 10},
		{DefaultBucket: "Legacy_Bucket"},
		{Region: "us-gov-west-1"},
		{Region: "ap-southeast-2"},
		{Endpoint: "https://r2.example.com", Region: "auto"},
		{Endpoint: "nyc3.example.com", Region: "nyc3"},
		{Endpoint: "http://[::1]:9000", TLS: ptr(false)},
		{Endpoint: "https://s3.example.com:443/"},
	}
	for _, c := range valid {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%v): %v", c, err)
		}
	}
	invalid := []struct {
		c     Config
		field string
	}{
		{Config{SecretAccessKey: "s"}, "access_key_id"},
		{Config{AccessKeyID: "a"}, "access_key_id"},
		{Config{SessionToken: "t"}, "session_token"},
		{Config{DefaultBucket: "x"}, "default_bucket"},
		{Config{Endpoint: "gopher://x"}, "endpoint"},
		{Config{Endpoint: "https://"}, "endpoint"},
		{Config{Endpoint: "http://a b"}, "endpoint"},
		{Config{Endpoint: "https://x", TLS: ptr(false)}, "endpoint"},
		{Config{RetryMaxAttempts: -1}, "retry_max_attempts"},
		{Config{RetryMode: "Standard"}, "retry_mode"},
		{Config{Checksums: "always"}, "checksums"},
		{Config{PartSize: 5<<20 - 1}, "part_size"},
		{Config{PartSize: -1}, "part_size"},
		{Config{Concurrency: -1}, "concurrency"},
		{Config{Endpoint: "http://u:p@x"}, "endpoint"},
		{Config{Endpoint: "http://x/p"}, "endpoint"},
		{Config{Endpoint: "http://x?q"}, "endpoint"},
		{Config{Endpoint: "http://x#f"}, "endpoint"},
		{Config{Endpoint: "x:0"}, "endpoint"},
		{Config{Endpoint: "x:65536"}, "endpoint"},
		{Config{Endpoint: "x:"}, "endpoint"},
		{Config{Endpoint: "http://:80"}, "endpoint"},
		{Config{Region: "auto"}, "region"}, // not an AWS region
		{Config{Region: "us-east-1 "}, "region"},
		{Config{Region: "EU-WEST-1"}, "region"},
		{Config{Endpoint: "x", Region: "eu west"}, "region"},
		{Config{Endpoint: "x", Region: "-a"}, "region"},
	}
	for _, tt := range invalid {
		err := tt.c.Validate()
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Validate(%v) = %v; want ErrInvalidConfig", tt.c, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.field+":") {
			t.Errorf("Validate(%v) error %q does not name %s", tt.c, err, tt.field)
		}
	}
}

func TestEndpointURL(t *testing.T) {
	tests := []struct {
		endpoint string
		tls      *bool
		want     string
	}{
		{"s3.example.com", nil, "https://s3.example.com"},
		{"s3.example.com", ptr(true), "https://s3.example.com"},
		{"127.0.0.1:9000", ptr(false), "http://127.0.0.1:9000"},
		{"http://127.0.0.1:9000/", nil, "http://127.0.0.1:9000"},
		{"https://s3.example.com", nil, "https://s3.example.com"},
		{"http://127.0.0.1:9000", ptr(false), "http://127.0.0.1:9000"},
	}
	for _, tt := range tests {
		got, err := Config{Endpoint: tt.endpoint, TLS: tt.tls}.endpointURL()
		if err != nil || got != tt.want {
			t.Errorf("endpointURL(%q, tls %v) = %q, %v; want %q", tt.endpoint, tt.tls, got, err, tt.want)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
	}{
		{"0", 0},
		{"123", 123},
		{"1B", 1},
		{"5 B", 5},
		{"512KiB", 512 << 10},
		{"16MiB", 16 << 20},
		{" 16MiB ", 16 << 20},
		{"16 MiB", 16 << 20},
		{"1GiB", 1 << 30},
		{"1kB", 1000},
		{"2KB", 2000},
		{"10MB", 10_000_000},
		{"3GB", 3_000_000_000},
		{"8388608", 8388608},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	bad := []string{"", " ", "MiB", "-1", "-1MiB", "1.5MiB", "16mib", "16Mi", "16 M", "1TiB", "abc", "0x10", "1e6", "16MiBs", "9223372036854775807", "9223372036854775808", "9223372036854775807GiB", "8589934592GiB"}
	for _, s := range bad {
		got, err := ParseByteSize(s)
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseByteSize(%q) = %d, %v; want ErrInvalidConfig", s, got, err)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
			t.Errorf("ParseByteSize(%q) error %q does not quote the input", s, err)
		}
	}
}

// Test secrets: values that appear nowhere else in a config or a message.
const (
	testSecret = "SECRETVALUE"
	testToken  = "TOKENVALUE"
)

func secretConfig() Config {
	return Config{
		AccessKeyID:     "AKIDVISIBLE",
		SecretAccessKey: testSecret,
		SessionToken:    testToken,
		DefaultBucket:   "bucket",
		Endpoint:        "http://127.0.0.1:9000",
		Region:          "us-east-1",
		TLS:             ptr(false),
		PathStyle:       ptr(true),
		PartSize:        8 << 20,
	}
}

// awsShapedSecret is AWS's documented example secret key: a value that
// errors must not quote even where the config's secret field is empty.
const awsShapedSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

// leaks reports which secret s shows, in plain text or hex (for %x), or
// the start of, as yaml.v3 quotes long values.
func leaks(s string) []string {
	var found []string
	if strings.Contains(s, awsShapedSecret[:7]) {
		found = append(found, awsShapedSecret[:7])
	}
	for _, secret := range []string{testSecret, testToken} {
		for _, form := range []string{secret, hex.EncodeToString([]byte(secret)), strings.ToUpper(hex.EncodeToString([]byte(secret)))} {
			if strings.Contains(s, form) {
				found = append(found, form)
			}
		}
	}
	return found
}

// No channel shows a secret: fmt's verbs, json and yaml marshalling, slog's
// text and JSON handlers, each with the Config alone, behind a pointer,
// nested in a struct, slice, map or slog group; and the config errors that
// quote a value, when a secret was pasted into another field.
//
// (A Config in an unexported struct field is printed by fmt without its
// methods, by Go's rules; the package doc says so.)
func TestConfigFormattingHidesSecrets(t *testing.T) {
	c := secretConfig()
	type holder struct {
		Name string
		C    Config
		P    *Config
	}
	outputs := map[string]string{
		"String":   c.String(),
		"GoString": c.GoString(),
		"Sprint":   fmt.Sprint(c),
		"Sprintln": fmt.Sprintln(c),
		"pointer":  fmt.Sprintf("%v %+v %#v %s", &c, &c, &c, &c),
		"holder":   fmt.Sprintf("%v %+v %#v", holder{"h", c, &c}, holder{"h", c, &c}, holder{"h", c, &c}),
		"slice":    fmt.Sprintf("%v %+v", []Config{c}, []Config{c}),
		"map":      fmt.Sprintf("%v", map[string]Config{"c": c}),
		"error":    fmt.Errorf("opening with %v: %w", c, errors.New("x")).Error(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v", "%T %v"} {
		outputs[verb] = fmt.Sprintf(verb, c)
	}
	var text, js bytes.Buffer
	h := holder{"h", c, &c}
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "cfg", c, "ptr", &c, "group", slog.Group("g", "c", c),
		"nested", h, slog.Group("g2", slog.Any("h", h)))
	slog.New(slog.NewJSONHandler(&js, nil)).Info("config", "cfg", c, "ptr", &c, slog.Any("any", c),
		"nested", h, slog.Group("g", slog.Any("h", h), "c", c))
	outputs["slog text"] = text.String()
	outputs["slog JSON"] = js.String()
	for name, v := range map[string]any{"value": c, "pointer": &c, "holder": h, "slice": []Config{c}, "map": map[string]Config{"c": c}} {
		j, err := json.Marshal(v)
		if err != nil {
			t.Errorf("json.Marshal(%s): %v", name, err)
		}
		y, err := yaml.Marshal(v)
		if err != nil {
			t.Errorf("yaml.Marshal(%s): %v", name, err)
		}
		outputs["json "+name], outputs["yaml "+name] = string(j), string(y)
	}
	// Config errors that quote a value: the secrets pasted into other
	// fields, with the secret fields set (the values are known) and with
	// them empty (an AWS-shaped key is recognised).
	for _, field := range []string{"region", "default_bucket", "endpoint", "profile", "retry_mode", "checksums", "concurrency", "part_size", "tls", testSecret} {
		var docs []string
		if field != testSecret {
			docs = append(docs, field+": "+awsShapedSecret+"\n", "s3:\n  "+field+": "+awsShapedSecret+"\n")
		}
		for _, secret := range []string{testSecret, testToken} {
			keys := "secret_access_key: " + testSecret + "\nsession_token: " + testToken + "\naccess_key_id: a\n"
			docs = append(docs, keys+field+": "+secret+"\n", "s3:\n"+strings.ReplaceAll(keys, "\n", "\n  ")+field+": "+secret+"\n")
		}
		{
			for _, doc := range docs {
				if _, err := ParseConfig([]byte(doc)); err != nil {
					outputs["error "+doc] = err.Error()
				}
			}
		}
	}
	for _, c := range []Config{
		{SecretAccessKey: testSecret, AccessKeyID: "a", Region: testSecret},
		{SecretAccessKey: testSecret, AccessKeyID: "a", SessionToken: testToken, Region: testToken},
		{SecretAccessKey: testSecret, AccessKeyID: "a", Endpoint: "http://" + testSecret + "@host"},
		{SecretAccessKey: testSecret, AccessKeyID: "a", Endpoint: "http://host/" + testSecret},
		{Region: awsShapedSecret},
		{Endpoint: awsShapedSecret},
		{Endpoint: "http://x:" + awsShapedSecret + "@host"},
		{DefaultBucket: awsShapedSecret},
	} {
		if err := c.Validate(); err != nil {
			outputs[fmt.Sprintf("Validate %d", len(outputs))] = err.Error()
		} else {
			t.Errorf("Validate accepted %#v", plainConfig(c))
		}
	}

	for name, out := range outputs {
		if found := leaks(out); len(found) > 0 {
			t.Errorf("%s shows %q: %s", name, found, out)
		}
	}
	// The rest is there: redaction, not an empty string.
	for _, name := range []string{"String", "%+v", "slog text", "slog JSON"} {
		if !strings.Contains(outputs[name], "AKIDVISIBLE") || !strings.Contains(outputs[name], "127.0.0.1:9000") {
			t.Errorf("%s lost the fields that are not secret: %s", name, outputs[name])
		}
		if !strings.Contains(outputs[name], redacted) {
			t.Errorf("%s does not say the secrets are set: %s", name, outputs[name])
		}
	}
	// An unset secret shows as unset, not as REDACTED.
	if s := (Config{Region: "r"}).String(); strings.Contains(s, redacted) {
		t.Errorf("a config without secrets shows %q: %s", redacted, s)
	}
}

// Errors about a config that holds secrets never show them, whatever else
// is wrong with it.
func TestConfigErrorsHideSecrets(t *testing.T) {
	base := "s3:\n  access_key_id: AKIDVISIBLE\n  secret_access_key: " + testSecret + "\n  session_token: " + testToken + "\n"
	flat := "access_key_id: AKIDVISIBLE\nsecret_access_key: " + testSecret + "\nsession_token: " + testToken + "\n"
	docs := []string{
		base + "  retry_mode: bogus\n",
		base + "  checksums: x\n",
		base + "  part_size: 1KiB\n",
		base + "  part_size: nonsense\n",
		base + "  endpoint: ftp://x\n",
		base + "  endpoint: https://x\n  tls: false\n",
		base + "  default_bucket: a\n",
		base + "  concurrency: -1\n",
		base + "  acess_key_id: typo\n",
		base + "  tls: maybe\n",
		base + "  region: [\n",
		base + "region: flat-too\n",
		base + "  secret_access_key: again\n",
		base + "\tbad: indentation\n",
		flat + "retry_mode: bogus\n",
		flat + "unknown: 1\n",
		flat + "s3:\n  region: eu-west-1\n",
		"s3:\n  secret_access_key: " + testSecret + "\n",
		"s3:\n  session_token: " + testToken + "\n",
		"secret_access_key: " + testSecret + "\nsession_token: " + testToken + "\n",
		"s3:\n  secret_access_key: [" + testSecret + "]\n",
		"s3:\n  secret_access_key: {v: " + testSecret + "}\n",
	}
	for _, doc := range docs {
		path := writeConfig(t, doc)
		_, err := LoadConfig(path)
		if err == nil {
			t.Errorf("LoadConfig accepted:\n%s", doc)
			continue
		}
		if found := leaks(err.Error()); len(found) > 0 {
			t.Errorf("error shows %q: %v\nfor:\n%s", found, err, doc)
		}
	}

	// Validate on configs built in code.
	for _, c := range []Config{
		{SecretAccessKey: testSecret},
		{SecretAccessKey: testSecret, SessionToken: testToken},
		{SessionToken: testToken},
		{AccessKeyID: "a", SecretAccessKey: testSecret, SessionToken: testToken, RetryMode: "x"},
		{AccessKeyID: "a", SecretAccessKey: testSecret, SessionToken: testToken, Endpoint: "ftp://x"},
		{AccessKeyID: "a", SecretAccessKey: testSecret, SessionToken: testToken, PartSize: 1},
	} {
		err := c.Validate()
		if err == nil {
			t.Errorf("Validate accepted %v", c)
			continue
		}
		if found := leaks(err.Error()); len(found) > 0 {
			t.Errorf("Validate error shows %q: %v", found, err)
		}
	}
}

// A value left unquoted by mistake can swallow the next lines, secret
// included; the error quoting the swallowed value then shows the secret.
func TestConfigErrorsHideSwallowedSecrets(t *testing.T) {
	docs := []string{
		"retry_mode: \"standard\nsecret_access_key: " + testSecret + "\"\n",
		"endpoint: \"http://x\nsecret_access_key: " + testSecret + "\"\n",
		"part_size: |\n  secret_access_key: " + testSecret + "\n",
	}
	for _, doc := range docs {
		_, err := ParseConfig([]byte(doc))
		if err == nil {
			t.Errorf("accepted:\n%s", doc)
			continue
		}
		if found := leaks(err.Error()); len(found) > 0 {
			t.Errorf("error shows %q: %v\nfor:\n%s", found, err, doc)
		}
	}
}
