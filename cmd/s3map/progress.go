package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/s3map/s3map/storage"
)

// redrawEvery throttles progress bar redraws.
const redrawEvery = 200 * time.Millisecond

// progress draws a progress bar on stderr for one transfer. It counts the
// bytes that pass through the reader or writer it wraps, or those storage
// reports through the context (track: a download to a file, a copy). A
// nil *progress draws nothing, so callers need not check.
type progress struct {
	w     io.Writer
	label string
	total int64 // -1: unknown
	width int
	start time.Time
	done  atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex // one draw at a time
}

// wantProgress reports whether a transfer of size bytes (-1: unknown)
// gets a progress bar: only when stderr is a terminal, never with
// --no-progress.
func (a *app) wantProgress(size int64) bool {
	return a.stderrTTY && !a.g.noProgress && (size < 0 || size >= a.progressMin)
}

// startProgress starts a bar, or returns nil when none is wanted.
func (a *app) startProgress(label string, total int64) *progress {
	if !a.wantProgress(total) {
		return nil
	}
	width := a.width
	if width <= 0 {
		width = 80
		if f, ok := a.stderr.(*os.File); ok {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
				width = w
			}
		}
	}
	p := &progress{w: a.stderr, label: label, total: total, width: width,
		start: time.Now(), stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(redrawEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := render(p.label, p.done.Load(), p.total, time.Since(p.start), p.width)
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

// finish stops the redraws and leaves the last state on its own line.
func (p *progress) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.draw()
	fmt.Fprintln(p.w)
}

// track returns ctx with storage's progress reports feeding the bar.
func (p *progress) track(ctx context.Context) context.Context {
	if p == nil {
		return ctx
	}
	return storage.WithProgress(ctx, func(sp storage.Progress) { p.done.Store(sp.Done) }, redrawEvery)
}

// reader counts the bytes read through r.
func (p *progress) reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return &countingReader{r: r, n: &p.done}
}

// writer counts the bytes written through w.
func (p *progress) writer(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return &countingWriter{w: w, n: &p.done}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// render makes one line of a progress bar, at most width-1 columns:
//
//	label  [=========>          ]  45%  12.3 MiB / 27.0 MiB  5.1 MiB/s
func render(label string, done, total int64, elapsed time.Duration, width int) string {
	var right string
	var rate int64
	if s := elapsed.Seconds(); s > 0 {
		rate = int64(float64(done) / s)
	}
	bar := false
	switch {
	case total > 0:
		pct := min(done*100/total, 100)
		right = fmt.Sprintf("  %3d%%  %s / %s  %s/s", pct, humanBytes(done), humanBytes(total), humanBytes(rate))
		bar = true
	default:
		right = fmt.Sprintf("  %s  %s/s", humanBytes(done), humanBytes(rate))
	}
	room := width - 1 - len(right)
	barWidth := 0
	if bar {
		barWidth = min(40, room-utf8.RuneCountInString(label)-4)
		if barWidth < 10 {
			barWidth = min(10, max(room-4-8, 0))
		}
	}
	labelRoom := room
	if barWidth > 0 {
		labelRoom -= barWidth + 4
	}
	label = fit(label, labelRoom)
	if barWidth == 0 {
		return label + right
	}
	filled := int(int64(barWidth) * min(done, total) / total)
	b := strings.Repeat("=", filled)
	if filled < barWidth {
		b += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	return label + "  [" + b + "]" + right
}

// fit cuts s to n runes, marking the cut with "…".
func fit(s string, n int) string {
	r := []rune(s)
	if n <= 0 {
		return ""
	}
	if len(r) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	return string(r[:n-1]) + "…"
}
