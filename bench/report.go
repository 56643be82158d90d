package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serverResults are the runs on one server, by workload, then runner label.
type serverResults struct {
	t    target
	runs map[string]map[string][]result
	errs map[string]map[string]string // first error of a runner
}

func newServerResults(t target) *serverResults {
	return &serverResults{t: t, runs: map[string]map[string][]result{}, errs: map[string]map[string]string{}}
}

func (s *serverResults) add(w, r string, res result) {
	if s.runs[w] == nil {
		s.runs[w] = map[string][]result{}
	}
	s.runs[w][r] = append(s.runs[w][r], res)
}

func (s *serverResults) fail(w, r string, err error) {
	if s.errs[w] == nil {
		s.errs[w] = map[string]string{}
	}
	if _, ok := s.errs[w][r]; !ok {
		s.errs[w][r] = err.Error()
	}
}

// median of each field on its own, over the runs.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		n := len(v)
		if n == 0 {
			return 0
		}
		if n%2 == 1 {
			return v[n/2]
		}
		return (v[n/2-1] + v[n/2]) / 2
	}
	return result{
		Seconds: pick(func(r result) float64 { return r.Seconds }),
		CPU:     pick(func(r result) float64 { return r.CPU }),
		Dials:   int64(pick(func(r result) float64 { return float64(r.Dials) }) + 0.5),
		Mem:     int64(pick(func(r result) float64 { return float64(r.Mem) })),
	}
}

// row is one line of a server's table.
type row struct {
	label string
	role  role
	res   result
	err   string
}

func (s *serverResults) rows(w workload) []row {
	var rows []row
	med := map[string]result{}
	for _, r := range w.Runners {
		rw := row{label: r.Label(), role: r.Role}
		if e := s.errs[w.Name][r.Label()]; e != "" {
			rw.err = e
			rw.res.Err = e
		} else if runs := s.runs[w.Name][r.Label()]; len(runs) > 0 {
			rw.res = median(runs)
		} else {
			continue
		}
		med[r.Label()] = rw.res
		rows = append(rows, rw)
	}
	if w.Synth != nil {
		for _, sr := range w.Synth(med) {
			rows = append(rows, row{label: sr.Label, role: rolePeer, res: sr.Res})
		}
	}
	return rows
}

// ratios of an s3map row against the best peers: speed (higher is better),
// CPU and memory (lower is better); empty where nothing compares.
func ratios(rows []row, me row) (speed, cpu, mem string) {
	var fast, lean, small *row
	for i := range rows {
		p := &rows[i]
		if p.role != rolePeer || p.err != "" {
			continue
		}
		if fast == nil || p.res.Seconds < fast.res.Seconds {
			fast = p
		}
		if lean == nil || p.res.CPU < lean.res.CPU {
			lean = p
		}
		if p.res.Mem > 0 && (small == nil || p.res.Mem < small.res.Mem) {
			small = p
		}
	}
	if me.err != "" {
		return
	}
	name := func(p *row) string { return strings.SplitN(p.label, " ", 2)[0] }
	if fast != nil && me.res.Seconds > 0 {
		speed = fmt.Sprintf("%.2f× %s", fast.res.Seconds/me.res.Seconds, name(fast))
	}
	if lean != nil && lean.res.CPU > 0 {
		cpu = fmt.Sprintf("%.2f× %s", me.res.CPU/lean.res.CPU, name(lean))
	}
	if small != nil && me.res.Mem > 0 {
		mem = fmt.Sprintf("%.2f× %s", float64(me.res.Mem)/float64(small.res.Mem), name(small))
	}
	return
}

func fmtDur(sec float64) string {
	switch {
	case sec >= 10:
		return fmt.Sprintf("%.1f s", sec)
	case sec >= 1:
		return fmt.Sprintf("%.2f s", sec)
	case sec >= 1e-3:
		return fmt.Sprintf("%.3g ms", sec*1e3)
	default:
		return fmt.Sprintf("%.3g µs", sec*1e6)
	}
}

func fmtBytes(b int64) string {
	switch {
	case b >= 10*mib:
		return fmt.Sprintf("%.0f MiB", float64(b)/mib)
	case b >= mib:
		return fmt.Sprintf("%.1f MiB", float64(b)/mib)
	case b >= kib:
		return fmt.Sprintf("%.0f KiB", float64(b)/kib)
	default:
		return fmt.Sprintf("%d B", b)
	}
}

func fmtRate(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// report is the markdown of the whole run.
func report(sz sizes, ws []workload, all []*serverResults, started bool, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# s3map peer benchmark\n\n")
	fmt.Fprintf(&b, "- date: %s; size: %s, %d run(s) of each measurement, medians shown; took %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), sz.Name, sz.Reps, took.Round(time.Second))
	fmt.Fprintf(&b, "- machine: %s\n", machine())
	fmt.Fprintf(&b, "- clients: %s\n", clientVersions())
	for _, s := range all {
		how := "given endpoint"
		if started {
			how = "started by the benchmark on loopback"
		}
		fmt.Fprintf(&b, "- server %s: %s (%s)\n", s.t.Name, s.t.Version, how)
	}
	fmt.Fprintf(&b, "\nSpeed ÷ best peer: s3map's throughput divided by the fastest peer's (≥ 1.00: s3map is at least as fast). "+
		"CPU and memory ÷ best peer: s3map's divided by the leanest peer's (≤ 1.00: s3map uses no more). "+
		"Memory is the peak growth of the Go heap during the run, or for transfers the peak RSS of a fresh process doing only that transfer. "+
		"New conns counts TCP connections opened during the run, after warm-up. See README.md.\n")

	if len(all) > 0 {
		fmt.Fprintf(&b, "\n## Summary: s3map speed ÷ best peer\n\n| workload | s3map |")
		for _, s := range all {
			fmt.Fprintf(&b, " %s |", s.t.Name)
		}
		b.WriteString("\n|---|---|")
		for range all {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, w := range ws {
			for _, r := range w.Runners {
				if r.Role != roleS3map {
					continue
				}
				fmt.Fprintf(&b, "| %s | %s |", w.Name, r.Op)
				for _, s := range all {
					rows := s.rows(w)
					cell := ""
					for _, rw := range rows {
						if rw.label == r.Label() {
							cell, _, _ = ratios(rows, rw)
							if rw.err != "" {
								cell = "error"
							}
						}
					}
					fmt.Fprintf(&b, " %s |", cell)
				}
				b.WriteString("\n")
			}
		}
	}

	for _, s := range all {
		fmt.Fprintf(&b, "\n## %s (%s)\n\n", s.t.Name, s.t.Version)
		b.WriteString("| workload | client | median time | throughput | CPU/op | new conns | peak mem | speed ÷ best peer | CPU ÷ best peer | mem ÷ best peer |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
		for _, w := range ws {
			rows := s.rows(w)
			for i, rw := range rows {
				name := ""
				if i == 0 {
					name = w.Name
				}
				if rw.err != "" {
					fmt.Fprintf(&b, "| %s | %s | error: %s | | | | | | | |\n", name, rw.label, oneLine(rw.err))
					continue
				}
				tp := ""
				if rw.res.Seconds > 0 {
					if w.Bytes > 0 {
						tp = fmtRate(float64(w.Bytes)/mib/rw.res.Seconds) + " MiB/s"
					} else {
						tp = fmtRate(float64(w.Ops)/rw.res.Seconds) + " op/s"
					}
				}
				mem := fmtBytes(rw.res.Mem)
				if w.Fresh {
					mem += " RSS"
				} else {
					mem = "+" + mem + " heap"
				}
				var sp, cp, mr string
				if rw.role == roleS3map {
					sp, cp, mr = ratios(rows, rw)
				}
				label := rw.label
				if rw.role == roleRef {
					label += " (reference)"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %s | %s | %s | %s |\n",
					name, label, fmtDur(rw.res.Seconds), tp, fmtDur(rw.res.CPU/float64(w.Ops)),
					rw.res.Dials, mem, sp, cp, mr)
			}
		}
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// machine describes this machine: cores, CPU model, memory, kernel, Go.
func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	memTotal := "unknown memory"
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
					memTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
				break
			}
		}
		f.Close()
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%d cores (%s), %s memory, %s %s, %s",
		runtime.NumCPU(), model, memTotal, runtime.GOOS, strings.TrimSpace(string(kernel)), runtime.Version())
}

// clientVersions names the s3map commit and the peers' module versions.
func clientVersions() string {
	rev := "s3map (uncommitted tree)"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		rev = "s3map " + strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			rev += " (with local changes)"
		}
	}
	parts := []string{rev}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/aws/aws-sdk-go-v2/service/s3", "github.com/minio/minio-go/v7":
				parts = append(parts, d.Path+" "+d.Version)
			}
		}
	}
	return strings.Join(parts, ", ")
}
