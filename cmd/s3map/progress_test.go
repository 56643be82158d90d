package main

import (
	"strings"
	"testing"
	"time"

	"github.com/s3map/s3map/storage/s3test"
)

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		label       string
		done, total int64
		elapsed     time.Duration
		width       int
		want        string
	}{
		{"big.bin", 5 << 20, 10 << 20, time.Second, 80,
			"big.bin  [===============>               ]   50%  5.0 MiB / 10.0 MiB  5.0 MiB/s"},
		{"big.bin", 10 << 20, 10 << 20, 2 * time.Second, 60,
			"big.bin  [==========]  100%  10.0 MiB / 10.0 MiB  5.0 MiB/s"},
		{"stdin", 3 << 20, -1, 0, 80, "stdin  3.0 MiB  0 B/s"},
		{"a-very-long-name-that-does-not-fit.bin", 1, 2, time.Second, 50,
			"a-very-lon…  [=====>    ]   50%  1 B / 2 B  1 B/s"},
	} {
		got := render(tc.label, tc.done, tc.total, tc.elapsed, tc.width)
		if got != tc.want {
			t.Errorf("render(%q, %d, %d, %v, %d) =\n%q, want\n%q", tc.label, tc.done, tc.total, tc.elapsed, tc.width, got, tc.want)
		}
		if len([]rune(got)) >= tc.width {
			t.Errorf("%q is %d columns, wider than %d-1", got, len([]rune(got)), tc.width)
		}
	}
}

// A transfer's bar is on stderr only when stderr is a terminal; it ends
// with the final state on a line of its own.
func TestProgressBars(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		c := newCLI(t, tg)
		body := strings.Repeat("x", 64<<10)
		file := writeFile(t, "big.bin", body)
		tty := func() *app { return &app{stderrTTY: true, progressMin: 1 << 10, width: 100} }
		final := func(stderr string) string {
			frames := strings.Split(stderr, "\r")
			return frames[len(frames)-1]
		}

		r := c.runWith(tty(), "", "put", file)
		if r.code != 0 || !strings.HasPrefix(r.stderr, "\r") || !strings.HasSuffix(r.stderr, "\n") ||
			!strings.Contains(final(r.stderr), "big.bin  [") || !strings.Contains(final(r.stderr), "100%  64.0 KiB / 64.0 KiB") {
			t.Errorf("put on a terminal: %d %q", r.code, r.stderr)
		}
		r = c.runWith(tty(), body, "put", "-", "from-stdin")
		if r.code != 0 || !strings.Contains(final(r.stderr), "from-stdin  64.0 KiB") {
			t.Errorf("put from stdin on a terminal: %d %q", r.code, r.stderr)
		}
		r = c.runWith(tty(), "", "get", "big.bin")
		if r.code != 0 || r.stdout != body || !strings.Contains(final(r.stderr), "100%  64.0 KiB / 64.0 KiB") {
			t.Errorf("get to stdout on a terminal: %d %q", r.code, r.stderr)
		}
		// To a file and for a copy, storage reports the bytes done.
		r = c.runWith(tty(), "", "get", "big.bin", t.TempDir()+"/")
		if r.code != 0 || !strings.Contains(final(r.stderr), "100%  64.0 KiB / 64.0 KiB") {
			t.Errorf("get to a file on a terminal: %d %q", r.code, r.stderr)
		}
		r = c.runWith(tty(), "", "cp", "big.bin", "copy.bin")
		if r.code != 0 || !strings.Contains(final(r.stderr), "100%  64.0 KiB / 64.0 KiB") {
			t.Errorf("cp on a terminal: %d %q", r.code, r.stderr)
		}

		// Nothing without a terminal, with --no-progress, or below the size.
		small := &app{stderrTTY: true, progressMin: 1 << 20}
		noProgress := tty()
		for name, run := range map[string]func() result{
			"no terminal":   func() result { return c.runWith(&app{progressMin: 1}, "", "put", file) },
			"--no-progress": func() result { return c.runWith(noProgress, "", "--no-progress", "get", "big.bin") },
			"small":         func() result { return c.runWith(small, "", "get", "big.bin") },
		} {
			if r := run(); r.code != 0 || r.stderr != "" {
				t.Errorf("%s: %d, stderr %q", name, r.code, r.stderr)
			}
		}
	})
}
