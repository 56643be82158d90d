// Command bench measures s3map beside raw aws-sdk-go-v2 and minio-go on
// MinIO and versitygw, and prints a markdown table of medians and ratios.
//
//	go run .                      # full size; starts the servers; writes RESULTS.md
//	go run . -size tiny           # every workload in seconds (CI); prints only
//	go run . -run 'list' -size medium
//	go run . -endpoints 'minio=http://minioadmin:minioadmin@127.0.0.1:9000'
//
// See README.md for the workloads and how to read the table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if len(os.Args) > 1 && os.Args[1] == "child" {
		err = childMain(ctx)
	} else {
		err = benchMain(ctx, os.Args[1:])
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func benchMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	size := fs.String("size", "full", "tiny (CI: every workload in seconds), medium, or full")
	endpoints := fs.String("endpoints", os.Getenv("S3MAP_BENCH_ENDPOINTS"),
		"servers to use instead of starting MinIO and versitygw, as name=http://key:secret@host:port,...\n(default $S3MAP_BENCH_ENDPOINTS)")
	only := fs.String("run", "", "only the workloads whose name matches this regular expression")
	reps := fs.Int("reps", 0, "runs of each measurement (default: the size's)")
	out := fs.String("out", "", `markdown file to write the table to (default RESULTS.md beside the bench module for -size full, none otherwise; "-" for none)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	sz, ok := presets[*size]
	if !ok {
		return fmt.Errorf("-size %q: want tiny, medium or full", *size)
	}
	if *reps > 0 {
		sz.Reps = *reps
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			return fmt.Errorf("-run: %w", err)
		}
	}
	outPath := *out
	if outPath == "" && sz.Name == "full" && filter == nil {
		dir, err := benchDir()
		if err != nil {
			return err
		}
		outPath = filepath.Join(dir, "RESULTS.md")
	}
	if outPath == "-" {
		outPath = ""
	}

	var ws []workload
	for _, w := range workloads(sz) {
		if filter == nil || filter.MatchString(w.Name) {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		return fmt.Errorf("-run %q matches no workload", *only)
	}

	dir, err := os.MkdirTemp("", "s3map-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	start := time.Now()
	var targets []target
	started := *endpoints == ""
	if started {
		servers, err := startServers(ctx, filepath.Join(dir, "servers"))
		if err != nil {
			return err
		}
		defer func() {
			for _, s := range servers {
				s.stop()
			}
		}()
		for _, s := range servers {
			logf("started %s %s at %s (pid %d)", s.Name, s.Version, s.URL, s.cmd.Process.Pid)
			targets = append(targets, s.target)
		}
	} else {
		if targets, err = parseEndpoints(*endpoints); err != nil {
			return err
		}
		for i := range targets {
			targets[i].Version = serverVersion(ctx, targets[i])
		}
	}

	for _, w := range ws {
		if w.Fresh {
			if err := makeBigFile(filepath.Join(dir, "upload.bin"), sz.Transfer); err != nil {
				return err
			}
			break
		}
	}

	var all []*serverResults
	failed := false
	for _, t := range targets {
		res, err := benchServer(ctx, t, sz, ws, dir, !started)
		all = append(all, res)
		if err != nil {
			logf("%s: %v", t.Name, err)
			failed = true
		}
		if ctx.Err() != nil {
			break
		}
	}
	for _, s := range all {
		if len(s.errs) > 0 {
			failed = true
		}
	}

	md := report(sz, ws, all, started, time.Since(start))
	fmt.Print(md)
	if outPath != "" {
		if err := os.WriteFile(outPath, []byte(md), 0o644); err != nil {
			return err
		}
		logf("wrote %s", outPath)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if failed {
		return errors.New("some measurements failed (see the table)")
	}
	return nil
}

// benchServer runs every workload on one server, in a bucket of its own.
func benchServer(ctx context.Context, t target, sz sizes, ws []workload, dir string, cleanup bool) (*serverResults, error) {
	res := newServerResults(t)
	bucket := fmt.Sprintf("s3map-bench-%d-%04x", time.Now().Unix(), rand.IntN(1<<16))
	e, err := newEnv(ctx, t, bucket, sz, dir)
	if err != nil {
		return res, err
	}
	if err := createBucket(ctx, e); err != nil {
		return res, fmt.Errorf("creating bucket %s: %w", bucket, err)
	}
	if cleanup { // a server we did not start: leave nothing behind
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
			defer cancel()
			if err := removeBucket(cctx, e); err != nil {
				logf("%s: removing bucket %s: %v", t.Name, bucket, err)
			}
		}()
	}
	var proxy *wanProxy
	for _, w := range ws {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		logf("%s: %s", t.Name, w.Name)
		if w.Setup != nil {
			if err := w.Setup(ctx, e); err != nil {
				for _, r := range w.Runners {
					res.fail(w.Name, r.Label(), fmt.Errorf("setup: %w", err))
				}
				continue
			}
		}
		ct := t
		if w.WAN {
			if proxy == nil {
				if proxy, err = startWANProxy(t.Host(), sz.WANRTT, sz.WANRate); err != nil {
					return res, err
				}
				defer proxy.Close()
			}
			ct.URL = "http://" + proxy.Addr()
		}
		for range sz.Reps {
			for _, r := range w.Runners {
				if _, failed := res.errs[w.Name][r.Label()]; failed {
					continue
				}
				var one result
				var err error
				if w.Fresh {
					one, err = runInChild(ctx, childSpec{Target: ct, Bucket: bucket, Sizes: sz, Dir: dir, Workload: w.Name, Runner: r.Label()})
				} else {
					one, err = runInProcess(ctx, e, w, r)
				}
				if err != nil {
					res.fail(w.Name, r.Label(), err)
					logf("%s: %s: %s: %v", t.Name, w.Name, r.Label(), err)
					continue
				}
				res.add(w.Name, r.Label(), one)
			}
		}
	}
	return res, nil
}

// benchDir finds the bench module's directory: the current directory or
// its bench/ subdirectory.
func benchDir() (string, error) {
	for _, d := range []string{".", "bench"} {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/s3map/s3map/bench\n") {
			return d, nil
		}
	}
	return "", errors.New("cannot find the bench module's directory to write RESULTS.md; run from bench/ or give -out")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
