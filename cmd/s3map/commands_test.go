package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

func TestPutGetStat(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		file := writeFile(t, "conf.json", `{"a":1}`)

		// A file, to a key under --prefix, with metadata; the type comes
		// from the extension.
		out := c.ok("--prefix", "app/", "put", file, "settings/conf.json", "--meta", "State=final", "-H", "Content-Disposition=inline")
		if want := "uploaded s3://" + tg.Config.DefaultBucket + "/app/settings/conf.json (7 B)\n"; out != want {
			t.Errorf("put printed %q, want %q", out, want)
		}
		info, err := tg.Storage.Stat(context.Background(), storage.Name{Key: "app/settings/conf.json"})
		if err != nil {
			t.Fatal(err)
		}
		if info.ContentType != "application/json" || info.Metadata["x-amz-meta-state"] != "final" {
			t.Errorf("stored type %q metadata %v", info.ContentType, info.Metadata)
		}

		// stdin, with --json; text is recognised from its bytes.
		r := c.runWith(&app{}, "hello from stdin\n", "put", "-", "notes/today", "--json")
		if r.code != 0 {
			t.Fatalf("put from stdin: %d %s", r.code, r.stderr)
		}
		pr := decode[putResult](t, r.stdout)
		if pr.Key != "notes/today" || pr.Size != 17 || pr.ETag == "" || strings.Contains(pr.ETag, `"`) || pr.Bucket != tg.Config.DefaultBucket {
			t.Errorf("put --json: %+v", pr)
		}
		if got := c.ok("cat", "notes/today"); got != "hello from stdin\n" {
			t.Errorf("cat: %q", got)
		}
		if got := c.ok("stat", "--json", "notes/today"); !strings.Contains(got, `"content_type":"text/plain; charset=utf-8"`) {
			t.Errorf("stdin upload's type: %s", got)
		}

		// get to stdout, to a file, to a directory; cat of two keys.
		if got := c.ok("get", "s3://"+tg.Config.DefaultBucket+"/app/settings/conf.json"); got != `{"a":1}` {
			t.Errorf("get to stdout: %q", got)
		}
		dir := t.TempDir()
		dst := filepath.Join(dir, "out.json")
		if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		out = c.ok("--prefix", "app/", "get", "settings/conf.json", dst)
		if b, _ := os.ReadFile(dst); string(b) != `{"a":1}` || !strings.HasPrefix(out, "downloaded ") {
			t.Errorf("get to file: %q, printed %q", b, out)
		}
		r = c.run("--prefix", "app/", "get", "--json", "settings/conf.json", dir+"/")
		gr := decode[getResult](t, r.stdout)
		if gr.File != filepath.Join(dir, "conf.json") || gr.Size != 7 || gr.Metadata["x-amz-meta-state"] != "final" {
			t.Errorf("get --json to a directory: %+v", gr)
		}
		if got := c.ok("cat", "notes/today", "app/settings/conf.json"); got != "hello from stdin\n"+`{"a":1}` {
			t.Errorf("cat of two keys: %q", got)
		}

		// stat, human and JSON.
		out = c.ok("--prefix", "app/", "stat", "settings/conf.json")
		for _, want := range []string{"Size:          7 (7 B)", "Content-Type:  application/json", "x-amz-meta-state: final", "/app/settings/conf.json"} {
			if !strings.Contains(out, want) {
				t.Errorf("stat lacks %q:\n%s", want, out)
			}
		}
		sr := decode[statResult](t, c.ok("--prefix", "app/", "stat", "--json", "settings/conf.json"))
		if sr.Key != "app/settings/conf.json" || sr.Size != 7 || sr.Metadata["x-amz-meta-state"] != "final" || sr.LastModified == "" || sr.ETag != pr.ETag && sr.ETag == "" {
			t.Errorf("stat --json: %+v", sr)
		}
	})
}

func TestGetToFileFailureLeavesFile(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		dst := writeFile(t, "keep.txt", "keep me")
		c.run("get", "missing", dst).want(t, exitNotFound, "not found: s3://"+tg.Config.DefaultBucket+"/missing")
		if b, _ := os.ReadFile(dst); string(b) != "keep me" {
			t.Errorf("a failed get changed the file: %q", b)
		}
		entries, _ := os.ReadDir(filepath.Dir(dst))
		if len(entries) != 1 {
			t.Errorf("a failed get left files: %v", entries)
		}
	})
}

func TestLs(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		for _, k := range []string{"app/a", "app/dir/b", "app/dir/c", "other"} {
			put(t, tg, k, "12345")
		}
		if got := c.ok("--prefix", "app/", "ls"); got != "a\ndir/b\ndir/c\n" {
			t.Errorf("ls: %q", got)
		}
		if got := c.ok("ls", "--prefix", "app/", "dir/"); got != "dir/b\ndir/c\n" {
			t.Errorf("ls dir/: %q", got)
		}
		if got := c.ok("ls", "-d", "--prefix", "app/"); got != "a\ndir/\n" {
			t.Errorf("ls -d: %q", got)
		}
		if got := c.ok("ls", "s3://"+tg.Config.DefaultBucket+"/app/d"); got != "app/dir/b\napp/dir/c\n" {
			t.Errorf("ls s3://: %q", got)
		}
		out := c.ok("ls", "-l", "--prefix", "app/")
		ls := lines(out)
		if len(ls) != 3 {
			t.Fatalf("ls -l: %q", out)
		}
		f := strings.Fields(ls[0])
		if len(f) != 4 || f[0] != "5" || f[1] == "" || strings.Contains(f[1], `"`) || f[3] != "a" {
			t.Errorf("ls -l line %q", ls[0])
		}
		if _, err := time.Parse(time.RFC3339, f[2]); err != nil {
			t.Errorf("ls -l time: %v", err)
		}
		var keys []string
		for _, l := range lines(c.ok("ls", "--json", "-d", "--prefix", "app/")) {
			e := decode[lsEntry](t, l)
			keys = append(keys, e.Key)
			if e.Key == "a" && (e.Size != 5 || e.ETag == "" || e.LastModified == "" || e.Prefix) {
				t.Errorf("ls --json entry %+v", e)
			}
			if e.Key == "dir/" && !e.Prefix {
				t.Errorf("ls --json dir entry %+v", e)
			}
		}
		if !slices.Equal(keys, []string{"a", "dir/"}) {
			t.Errorf("ls --json keys %q", keys)
		}
		if got := c.ok("ls", "--prefix", "nothing/"); got != "" {
			t.Errorf("ls of an empty prefix: %q", got)
		}
		c.run("ls", "--bucket", s3test.NewBucketName()).want(t, exitNotFound, "bucket not found")
	})
}

func TestNotFound(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		put(t, tg, "here", "x")
		for _, args := range [][]string{
			{"get", "missing"},
			{"get", "missing", filepath.Join(t.TempDir(), "f")},
			{"cat", "here", "missing"},
			{"stat", "missing"},
			{"stat", "--json", "missing"},
			{"cp", "missing", "elsewhere"},
			{"mv", "missing", "elsewhere"},
		} {
			r := c.run(args...)
			r.want(t, exitNotFound, "not found: s3://"+tg.Config.DefaultBucket+"/missing")
			if args[0] != "cat" && r.stdout != "" {
				t.Errorf("%v printed %q", args, r.stdout)
			}
			if n := len(lines(r.stderr)); n != 1 {
				t.Errorf("%v: %d lines of error, want 1: %q", args, n, r.stderr)
			}
		}
		if exists(t, tg, "elsewhere") {
			t.Error("a failed cp wrote its destination")
		}
	})
}

func TestUsageErrors(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	tg := &s3test.Target{Name: s3test.InProcess, Config: srv.Config(), Storage: srv.Storage()}
	c := newCLI(t, tg)
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"ls", "--frob"}, "flag provided but not defined: -frob"},
		{[]string{"--frob", "ls"}, "flag provided but not defined"},
		{[]string{"get"}, "get takes arguments KEY [FILE]"},
		{[]string{"stat", "a", "b"}, "stat takes arguments KEY"},
		{[]string{"buckets", "x"}, "buckets takes no arguments"},
		{[]string{"put", "-", "--meta", "novalue", "k"}, `--meta "novalue": want NAME=VALUE`},
		{[]string{"put", "-"}, "put from stdin needs a KEY"},
		{[]string{"put", "-", "k", "--header", "X-Unknown=1"}, "invalid header"},
		{[]string{"stat", "bad\x01key"}, "invalid name"},
		{[]string{"get", "s3://" + s3test.DefaultBucket + "/"}, "names no key"},
		{[]string{"get", "--json", "k"}, "--json needs a FILE"},
		{[]string{"mv", "same", "same"}, "are the same object"},
		{[]string{"presign", "--expires", "30d", "k"}, "at most 7d"},
		{[]string{"presign", "--expires", "soon", "k"}, "bad duration"},
		{[]string{"presign", "--meta", "a=b", "k"}, "go with --put"},
		{[]string{"completion", "tcsh"}, `no completion for shell "tcsh"`},
		{[]string{"help", "nope"}, `unknown command "nope"`},
		{[]string{"--bucket", "", "stat", "k"}, "no bucket"},
	} {
		args := tc.args
		if args[0] == "--bucket" { // no bucket at all: a config without one
			c2 := *c
			c2.config = writeFile(t, "nobucket.yaml", "endpoint: "+srv.URL+"\naccess_key_id: "+s3test.AccessKeyID+"\nsecret_access_key: "+s3test.SecretAccessKey+"\n")
			args = args[2:]
			c2.run(args...).want(t, exitUsage, tc.stderr)
			continue
		}
		r := c.run(args...)
		r.want(t, exitUsage, tc.stderr)
		if r.stdout != "" {
			t.Errorf("%q printed %q on stdout", args, r.stdout)
		}
	}
	// No command: the help, exit 2. help and --help: exit 0.
	if r := c.run(); r.code != exitUsage || !strings.Contains(r.stdout, "Commands:") {
		t.Errorf("no command: %d %q", r.code, r.stdout)
	}
	if r := c.run("help"); r.code != 0 || !strings.Contains(r.stdout, "Exit codes:") {
		t.Errorf("help: %d %q", r.code, r.stdout)
	}
	if r := c.run("--help"); r.code != 0 || !strings.Contains(r.stdout, "Commands:") {
		t.Errorf("--help: %d", r.code)
	}
	if r := c.run("--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "s3map ") {
		t.Errorf("--version: %d %q", r.code, r.stdout)
	}
	// Anything after "--" is an argument, even with a dash.
	c.run("stat", "--", "-dash").want(t, exitNotFound, "not found: s3://"+s3test.DefaultBucket+"/-dash")
	// A config that cannot be read is a failure naming the file.
	c2 := *c
	c2.config = filepath.Join(t.TempDir(), "missing.yaml")
	c2.run("ls").want(t, exitFailure, "missing.yaml")
}

func TestEveryCommandHasHelp(t *testing.T) {
	c := &cli{t: t, config: "unused"}
	for _, cmd := range visibleCommands() {
		for _, h := range []string{"--help", "-h"} {
			r := c.run(cmd.name, h)
			if r.code != 0 || r.stderr != "" {
				t.Errorf("%s %s: exit %d, stderr %q", cmd.name, h, r.code, r.stderr)
			}
			for _, want := range []string{"Usage: s3map " + cmd.name, "Examples:\n  ", "Global flags:", "--prefix PREFIX"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%s %s lacks %q", cmd.name, h, want)
				}
			}
		}
		if r := c.run("help", cmd.name); r.code != 0 || !strings.Contains(r.stdout, "Usage: s3map "+cmd.name) {
			t.Errorf("help %s: %d", cmd.name, r.code)
		}
	}
}

func TestRm(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		for _, k := range []string{"keep", "tmp/a", "tmp/b", "tmp/c/d", "x", "y"} {
			put(t, tg, k, "abc")
		}
		// Keys: deleted, a missing one is fine.
		out := c.ok("rm", "x", "never-was")
		if want := "deleted s3://" + tg.Config.DefaultBucket + "/x\ndeleted s3://" + tg.Config.DefaultBucket + "/never-was\n"; out != want {
			t.Errorf("rm printed %q", out)
		}
		rr := decode[rmResult](t, c.ok("rm", "--json", "y"))
		if rr.Deleted != 1 || !slices.Equal(rr.Keys, []string{"y"}) || exists(t, tg, "y") || exists(t, tg, "x") {
			t.Errorf("rm --json: %+v", rr)
		}

		// A prefix, with no terminal and no --yes: refused, nothing gone.
		c.run("rm", "-r", "tmp/").want(t, exitUsage, "refusing to delete without --yes")
		// On a terminal, answered no: aborted, nothing gone.
		r := c.runWith(&app{stdinTTY: true}, "n\n", "rm", "-r", "tmp/")
		r.want(t, exitFailure, "aborted")
		if !strings.Contains(r.stderr, "Delete 3 keys (9 B) under s3://"+tg.Config.DefaultBucket+"/tmp/? [y/N]") {
			t.Errorf("question: %q", r.stderr)
		}
		if !exists(t, tg, "tmp/a") {
			t.Fatal("rm -r deleted without a yes")
		}
		// End of input is a no.
		c.runWith(&app{stdinTTY: true}, "", "rm", "-r", "tmp/").want(t, exitFailure, "aborted")
		// Answered yes.
		r = c.runWith(&app{stdinTTY: true}, "y\n", "rm", "-r", "tmp/")
		if r.code != 0 || r.stdout != "deleted 3 keys under s3://"+tg.Config.DefaultBucket+"/tmp/\n" {
			t.Errorf("rm -r, yes: %d %q %q", r.code, r.stdout, r.stderr)
		}
		if got := c.ok("ls"); got != "keep\n" {
			t.Errorf("left %q", got)
		}
		// --yes, --json, nothing there.
		rr = decode[rmResult](t, c.ok("rm", "-r", "--yes", "--json", "tmp/"))
		if rr.Deleted != 0 || rr.Prefix == nil || *rr.Prefix != "tmp/" {
			t.Errorf("rm -r --json of nothing: %+v", rr)
		}
	})
}

func TestClear(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		for _, k := range []string{"cache/a", "cache/b", "data"} {
			put(t, tg, k, "v")
		}
		c.run("--prefix", "cache/", "clear").want(t, exitUsage, "without --yes")
		r := c.runWith(&app{stdinTTY: true}, "yes\n", "--prefix", "cache/", "clear")
		if r.code != 0 || r.stdout != "deleted 2 keys under s3://"+tg.Config.DefaultBucket+"/cache/\n" {
			t.Errorf("clear: %d %q %q", r.code, r.stdout, r.stderr)
		}
		if got := c.ok("ls"); got != "data\n" {
			t.Errorf("left %q", got)
		}
		rr := decode[rmResult](t, c.ok("clear", "--yes", "--json"))
		if rr.Deleted != 1 || c.ok("ls") != "" {
			t.Errorf("clear --yes --json: %+v", rr)
		}
	})
}

func TestCpMv(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		c.ok("put", writeFile(t, "a.txt", "content"), "src/a.txt", "--meta", "v=1", "--content-type", "text/x-test")

		out := c.ok("cp", "src/a.txt", "dst/")
		b := "s3://" + tg.Config.DefaultBucket
		if out != "copied "+b+"/src/a.txt to "+b+"/dst/a.txt\n" {
			t.Errorf("cp printed %q", out)
		}
		sr := decode[statResult](t, c.ok("stat", "--json", "dst/a.txt"))
		if sr.Metadata["x-amz-meta-v"] != "1" || sr.ContentType != "text/x-test" || sr.Size != 7 {
			t.Errorf("copy kept %+v", sr)
		}
		// New metadata replaces the source's.
		cr := decode[copyResult](t, c.ok("cp", "--json", "src/a.txt", "dst/b.txt", "--meta", "v=2"))
		if cr.From != b+"/src/a.txt" || cr.To != b+"/dst/b.txt" {
			t.Errorf("cp --json %+v", cr)
		}
		sr = decode[statResult](t, c.ok("stat", "--json", "dst/b.txt"))
		if sr.Metadata["x-amz-meta-v"] != "2" {
			t.Errorf("cp --meta: %v", sr.Metadata)
		}

		out = c.ok("mv", "dst/b.txt", "moved/b.txt")
		if out != "moved "+b+"/dst/b.txt to "+b+"/moved/b.txt\n" || exists(t, tg, "dst/b.txt") || c.ok("cat", "moved/b.txt") != "content" {
			t.Errorf("mv: %q", out)
		}
	})
}

func TestDu(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		put(t, tg, "logs/a", strings.Repeat("x", 1000))
		put(t, tg, "logs/b", strings.Repeat("x", 1048))
		put(t, tg, "other", "x")
		if got, want := c.ok("du", "logs/"), "2 keys, 2048 bytes (2.0 KiB) under s3://"+tg.Config.DefaultBucket+"/logs/\n"; got != want {
			t.Errorf("du: %q, want %q", got, want)
		}
		u := decode[duResult](t, c.ok("du", "--json"))
		if u.Keys != 3 || u.Bytes != 2049 || u.Bucket != tg.Config.DefaultBucket || u.Prefix != "" {
			t.Errorf("du --json: %+v", u)
		}
	})
}

func TestPresign(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		put(t, tg, "shared.txt", "for anyone")
		url := strings.TrimSpace(c.ok("presign", "--expires", "10m", "shared.txt"))
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "for anyone" {
			t.Errorf("GET presigned: %d %q", resp.StatusCode, body)
		}

		r := c.run("presign", "--put", "--json", "upload.txt", "--content-type", "text/plain")
		pr := decode[presignResult](t, r.stdout)
		if pr.Method != http.MethodPut || pr.Headers["Content-Type"] != "text/plain" {
			t.Fatalf("presign --put --json: %+v", pr)
		}
		if exp, err := time.Parse(time.RFC3339, pr.Expires); err != nil || time.Until(exp) < 50*time.Minute {
			t.Errorf("expires %q (default 1h): %v", pr.Expires, err)
		}
		req, _ := http.NewRequest(http.MethodPut, pr.URL, strings.NewReader("sent by anyone"))
		for k, v := range pr.Headers {
			req.Header.Set(k, v)
		}
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || c.ok("cat", "upload.txt") != "sent by anyone" {
			t.Errorf("PUT presigned: %d", resp.StatusCode)
		}
	})
}

func TestBuckets(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		if !slices.ContainsFunc(lines(c.ok("buckets")), func(l string) bool { return strings.HasSuffix(l, "  "+tg.Config.DefaultBucket) }) {
			t.Error("buckets does not list the test's bucket")
		}
		found := false
		for _, l := range lines(c.ok("buckets", "--json")) {
			e := decode[bucketEntry](t, l)
			found = found || e.Name == tg.Config.DefaultBucket
		}
		if !found {
			t.Error("buckets --json does not list the test's bucket")
		}
	})
}

func TestAbortUploads(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		ctx := context.Background()
		bucket := tg.Config.DefaultBucket
		client := tg.Storage.Client()
		for _, k := range []string{"big/a", "other/b"} {
			if _, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &k}); err != nil {
				t.Fatal(err)
			}
		}
		// Too young for the default --older-than, unless the server reports
		// a made-up start time (moto 5.2.1 says 2010-11-10T20:48:33Z).
		first := decode[uploadEntry](t, lines(c.ok("abort-uploads", "--dry-run", "--json", "--older-than", "0"))[0])
		if started, _ := time.Parse(time.RFC3339, first.Initiated); time.Since(started) > time.Hour {
			t.Logf("%s reports uploads started at %s: not checking --older-than", tg.Name, first.Initiated)
		} else if got := c.ok("abort-uploads"); got != "aborted 0 uploads under s3://"+bucket+"\n" {
			t.Errorf("abort-uploads of young uploads: %q", got)
		}
		out := c.ok("abort-uploads", "--dry-run", "--older-than", "0", "big/")
		if !strings.HasPrefix(out, "found big/a (upload ") || !strings.HasSuffix(out, "1 uploads to abort under s3://"+bucket+"/big/\n") {
			t.Errorf("dry run: %q", out)
		}
		var es []uploadEntry
		for _, l := range lines(c.ok("abort-uploads", "--json", "--older-than", "0s")) {
			es = append(es, decode[uploadEntry](t, l))
		}
		if len(es) != 2 || es[0].Key != "big/a" || !es[0].Aborted || es[0].UploadID == "" || es[0].Initiated == "" {
			t.Errorf("abort-uploads --json: %+v", es)
		}
		if got := c.ok("abort-uploads", "--older-than", "0"); got != "aborted 0 uploads under s3://"+bucket+"\n" {
			t.Errorf("uploads remain: %q", got)
		}
		c.run("abort-uploads", "--bucket", s3test.NewBucketName()).want(t, exitNotFound, "bucket not found")
	})
}

func TestConfigRedacts(t *testing.T) {
	const secret = "very-secret-key-0123456789"
	path := writeFile(t, "s3.yaml", "s3:\n  access_key_id: AKIDEXAMPLE\n  secret_access_key: "+secret+"\n  session_token: tok-"+secret+"\n  endpoint: http://127.0.0.1:1\n  default_bucket: bucket-b\n  retry_max_attempts: 1\n")
	c := &cli{t: t, config: path}
	out := c.ok("config", "--prefix", "p/")
	for _, want := range []string{"config file:       " + path, "endpoint:          http://127.0.0.1:1", "bucket:            bucket-b", "prefix:            p/", "access_key_id:     AKIDEXAMPLE", "secret_access_key: REDACTED"} {
		if !strings.Contains(out, want) {
			t.Errorf("config lacks %q:\n%s", want, out)
		}
	}
	cr := decode[configResult](t, c.ok("config", "--json", "--bucket", "other"))
	if cr.Bucket != "other" || cr.SecretAccessKey != "REDACTED" || cr.SessionToken != "REDACTED" {
		t.Errorf("config --json: %+v", cr)
	}
	// --debug shows the config and the error chain on stderr, no secret.
	r := c.run("--debug", "stat", "k")
	if r.code != exitFailure || !strings.Contains(r.stderr, "debug: config file: "+path) || !strings.Contains(r.stderr, "cause:") {
		t.Errorf("--debug: %d %q", r.code, r.stderr)
	}
	for _, s := range []string{out, r.stdout, r.stderr, c.ok("config", "--json")} {
		if strings.Contains(s, secret) {
			t.Errorf("secret printed: %q", s)
		}
	}
	// S3MAP_CONFIG names the file when --config does not.
	t.Setenv(envConfig, path)
	a := &app{stdout: io.Discard}
	if p, explicit := a.configPath(); p != path || !explicit {
		t.Errorf("config from %s: %q", envConfig, p)
	}
}

// An interrupted command (Ctrl-C cancels the context) exits 130.
func TestInterrupted(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	c := newCLI(t, &s3test.Target{Config: srv.Config()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb strings.Builder
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, progressMin: progressMin}
	if code := a.main(ctx, []string{"--config", c.config, "ls"}); code != exitInterrupt || errb.String() != "s3map ls: interrupted\n" {
		t.Errorf("cancelled ls: exit %d, stderr %q", code, errb.String())
	}
}
