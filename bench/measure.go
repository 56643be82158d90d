package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// result is one run of one runner.
type result struct {
	Seconds float64 `json:"seconds"` // wall time of the run
	CPU     float64 `json:"cpu"`     // client CPU (user+sys) seconds of the run
	Dials   int64   `json:"dials"`   // TCP connections opened during the run (after warm-up)
	Mem     int64   `json:"mem"`     // bytes: peak heap growth (in process) or peak RSS (fresh process)
	Err     string  `json:"err,omitempty"`
}

// cpuTime is this process's user+sys CPU time in seconds.
func cpuTime() float64 {
	user, sys := cpuTimes()
	return user + sys
}

// cpuTimes is this process's user and system CPU time in seconds.
func cpuTimes() (user, sys float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return tv(ru.Utime), tv(ru.Stime)
}

// profileEnv names a directory: each child process then writes a CPU
// profile of its run there, named after the workload and runner.
const profileEnv = "S3MAP_BENCH_CPUPROFILE"

// startChildProfile starts the CPU profile profileEnv asks for (or
// nothing) and returns the function that ends it.
func startChildProfile(spec childSpec) (stop func(), err error) {
	dir := os.Getenv(profileEnv)
	if dir == "" {
		return func() {}, nil
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, spec.Target.Name+"-"+spec.Workload+"-"+spec.Runner)
	f, err := os.CreateTemp(dir, name+"-*.pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// heapSampler records the peak of the live heap objects' bytes, sampled
// every few milliseconds with runtime/metrics (which stops nothing).
type heapSampler struct {
	stop chan struct{}
	done chan int64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() int64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan int64, 1)}
	go func() {
		peak := heapNow()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				h.done <- max(peak, heapNow())
				return
			case <-t.C:
				peak = max(peak, heapNow())
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() int64 {
	close(h.stop)
	return <-h.done
}

// runInProcess measures one run of r in this process: warm-up (not
// counted), then wall time, CPU, new connections and peak heap growth.
func runInProcess(ctx context.Context, e *env, w workload, r runner) (res result, err error) {
	if r.Prepare != nil {
		if err := r.Prepare(ctx, e); err != nil {
			return res, fmt.Errorf("prepare: %w", err)
		}
	}
	if w.Warm > 0 {
		err = r.Run(ctx, e, w.Warm)
	} else {
		err = ping(ctx, e, r.Client)
	}
	if err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	runtime.GC()
	base := heapNow()
	h := startHeapSampler()
	var dials atomic.Int64
	dctx := countDials(ctx, &dials)
	cpu0, t0 := cpuTime(), time.Now()
	err = r.Run(dctx, e, w.Ops)
	res.Seconds = time.Since(t0).Seconds()
	res.CPU = cpuTime() - cpu0
	res.Mem = max(0, h.Stop()-base)
	res.Dials = dials.Load()
	if err != nil {
		return res, err
	}
	if r.After != nil {
		if err := r.After(ctx, e); err != nil {
			return res, fmt.Errorf("check after the run: %w", err)
		}
	}
	return res, nil
}

// childSpec tells a fresh process what to run.
type childSpec struct {
	Target   target `json:"target"`
	Bucket   string `json:"bucket"`
	Sizes    sizes  `json:"sizes"`
	Dir      string `json:"dir"`
	Workload string `json:"workload"`
	Runner   string `json:"runner"`
}

const childEnv = "S3MAP_BENCH_CHILD"

// runInChild measures one run of r in a fresh process (this binary, run
// with the subcommand "child"), so peak RSS is that transfer's alone.
func runInChild(ctx context.Context, spec childSpec) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, self, "child")
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	runErr := cmd.Run()
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		if runErr != nil {
			return res, fmt.Errorf("child: %w", runErr)
		}
		return res, fmt.Errorf("child printed no result: %w", err)
	}
	if res.Err != "" {
		return res, errors.New(res.Err)
	}
	return res, runErr
}

// childMain is the fresh process: it makes only the client it measures,
// runs the workload once and prints the result as JSON.
func childMain(ctx context.Context) error {
	var spec childSpec
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &spec); err != nil {
		return fmt.Errorf("child: bad %s: %w", childEnv, err)
	}
	var w *workload
	var r *runner
	for _, cand := range workloads(spec.Sizes) {
		if cand.Name != spec.Workload {
			continue
		}
		for _, rr := range cand.Runners {
			if rr.Label() == spec.Runner {
				w, r = &cand, &rr
			}
		}
	}
	if r == nil {
		return fmt.Errorf("child: no runner %q in workload %q", spec.Runner, spec.Workload)
	}
	e, err := newEnv(ctx, spec.Target, spec.Bucket, spec.Sizes, spec.Dir, r.Client)
	if err != nil {
		return err
	}
	var res result
	var dials atomic.Int64
	dctx := countDials(ctx, &dials)
	stopProfile, err := startChildProfile(spec)
	if err != nil {
		return err
	}
	u0, s0 := cpuTimes()
	cpu0, t0 := cpuTime(), time.Now()
	err = r.Run(dctx, e, w.Ops)
	res.Seconds = time.Since(t0).Seconds()
	res.CPU = cpuTime() - cpu0
	stopProfile()
	if u1, s1 := cpuTimes(); os.Getenv(logEnv) == "debug" {
		fmt.Fprintf(os.Stderr, "child %s / %s: %.3f s, CPU user %.3f s, system %.3f s\n", spec.Workload, spec.Runner, res.Seconds, u1-u0, s1-s0)
	}
	res.Dials = dials.Load()
	res.Mem = vmHWM()
	if err == nil && r.After != nil {
		err = r.After(ctx, e)
	}
	if err != nil {
		res.Err = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// vmHWM is this process's peak resident set size in bytes, from
// /proc/self/status (0 where that is missing).
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
