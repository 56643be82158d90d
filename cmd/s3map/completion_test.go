package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/s3map/s3map/storage/s3test"
)

// complete runs the bash script's function as bash would on a TAB after
// words, and returns the candidates.
func complete(t *testing.T, script string, words ...string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s3map.bash")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, "'"+w+"'")
	}
	prog := "source " + path + "\nCOMP_WORDS=(s3map " + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
		strconv.Itoa(len(words)) + "\n_s3map\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	out, err := exec.Command("bash", "-c", prog).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return lines(string(out))
}

func TestCompletion(t *testing.T) {
	c := &cli{t: t, config: "unused"}
	bash := c.ok("completion", "bash")
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"l"}, []string{"ls"}},
		{[]string{"--bucket", "b", "st"}, []string{"stat"}},
		{[]string{"a"}, []string{"abort-uploads"}},
		{[]string{"ls", "--j"}, []string{"--json"}},
		{[]string{"rm", "--y"}, []string{"--yes"}},
		{[]string{"ls", "--pre"}, []string{"--prefix"}},
		{[]string{"completion", "z"}, []string{"zsh"}},
		{[]string{"help", "pr"}, []string{"presign"}},
		{[]string{"--deb"}, []string{"--debug"}},
	} {
		if got := complete(t, bash, tc.words...); !slices.Equal(got, tc.want) {
			t.Errorf("completing %q: %q, want %q", tc.words, got, tc.want)
		}
	}
	for _, shell := range []string{"zsh", "fish"} {
		script := c.ok("completion", shell)
		for _, want := range []string{"abort-uploads", "presign", "older-than", "__keys"} {
			if !strings.Contains(script, want) {
				t.Errorf("%s script lacks %q", shell, want)
			}
		}
		if _, err := exec.LookPath(shell); err == nil {
			if out, err := exec.Command(shell, "-n", "-c", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		}
	}
}

// The hidden __keys command lists one level of keys for completion.
func TestCompleteKeys(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		for _, k := range []string{"app/a", "app/dir/b", "apple"} {
			put(t, tg, k, "v")
		}
		if got := c.ok("__keys", "ap"); got != "app/\napple\n" {
			t.Errorf("__keys ap: %q", got)
		}
		if got := c.ok("--prefix", "app/", "__keys", "d"); got != "dir/\n" {
			t.Errorf("__keys under a prefix: %q", got)
		}
		b := "s3://" + tg.Config.DefaultBucket + "/"
		if got := c.ok("__keys", b+"app/"); got != b+"app/a\n"+b+"app/dir/\n" {
			t.Errorf("__keys s3://: %q", got)
		}
		if strings.Contains(c.ok("help"), "__keys") {
			t.Error("help shows the hidden command")
		}
	})
}
