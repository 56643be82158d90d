package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/s3map/s3map/storage/s3test"
)

// The server pins, the same as .ci/run's (keep them in step).
const (
	versitygwModule  = "github.com/versity/versitygw/cmd/versitygw"
	versitygwVersion = "v1.8.0"
	minioModule      = "github.com/minio/minio"
	minioVersion     = "v0.0.0-20260212201848-7aac2a2c5b7c"
)

// target is one S3 server: its name, its URL without credentials, the
// credentials, and what is known of its version.
type target struct {
	Name      string `json:"name"`
	URL       string `json:"url"` // http://host:port
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
	Version   string `json:"version"`
}

// Host returns host:port of the target's URL.
func (t target) Host() string {
	u, err := url.Parse(t.URL)
	if err != nil {
		return ""
	}
	return u.Host
}

// parseEndpoints reads the S3MAP_TEST_ENDPOINTS form,
// "name=http://key:secret@host:port,name2=...", with s3test's parser.
func parseEndpoints(s string) ([]target, error) {
	eps, err := s3test.ParseEndpoints(s)
	if err != nil {
		return nil, err
	}
	if len(eps) == 0 {
		return nil, errors.New("no endpoints given")
	}
	out := make([]target, len(eps))
	for i, ep := range eps {
		out[i] = target{Name: ep.Name, URL: ep.Config.Endpoint, AccessKey: ep.Config.AccessKeyID, SecretKey: ep.Config.SecretAccessKey}
	}
	return out, nil
}

// serverVersion asks a server we did not start for its Server header, the
// only version hint an S3 endpoint gives without admin rights.
func serverVersion(ctx context.Context, t target) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+"/", nil)
	if err != nil {
		return "unknown"
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "unknown"
	}
	resp.Body.Close()
	if s := resp.Header.Get("Server"); s != "" {
		return "given endpoint, Server: " + s
	}
	return "given endpoint, version unknown"
}

// server is a server process this program started.
type server struct {
	target
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	log  string
}

// stop ends the server by its PID: SIGTERM, up to 10 s, then SIGKILL.
func (s *server) stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// cacheDir is .ci/run's cache: S3MAP_CI_CACHE, else
// $XDG_CACHE_HOME/s3map-ci, else ~/.cache/s3map-ci.
func cacheDir() (string, error) {
	if d := os.Getenv("S3MAP_CI_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "s3map-ci"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "s3map-ci"), nil
}

// ensureBinary returns the cached binary bin/NAME-VERSION/BINARY, building
// it with go install into the cache when it is missing, as .ci/run does.
func ensureBinary(ctx context.Context, name, module, version string) (string, error) {
	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	bindir := filepath.Join(cache, "bin")
	bin := filepath.Join(bindir, name+"-"+version, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return bin, nil
	}
	if err := os.MkdirAll(bindir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(bindir, ".build-"+name+"-"+version+".")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(os.Stderr, "building %s %s (go install %s@%s); this takes minutes\n", name, version, module, version)
	cmd := exec.CommandContext(ctx, "go", "install", module+"@"+version)
	cmd.Dir = tmp // no go.mod of this repository is consulted
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(tmp, name), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// freePorts returns n distinct ports 127.0.0.1 can listen on now, below the
// kernel's ephemeral range where it leaves room (as .ci/run's freeport).
func freePorts(n int) ([]int, error) {
	low, high := 20000, 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil && v < high {
				high = v
			}
		}
	}
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for tries := 0; len(held) < n; tries++ {
		addr := "127.0.0.1:0"
		if high-low > 1000 && tries < 1000 {
			addr = "127.0.0.1:" + strconv.Itoa(low+rand.IntN(high-low))
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if tries > 2000 {
				return nil, err
			}
			continue
		}
		held = append(held, l)
	}
	ports := make([]int, n)
	for i, l := range held {
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// startServers builds (when missing) and starts versitygw and MinIO on
// loopback, as .ci/run does, with data under dir.
func startServers(ctx context.Context, dir string) ([]*server, error) {
	var started []*server
	fail := func(err error) ([]*server, error) {
		for _, s := range started {
			s.stop()
		}
		return nil, err
	}
	for _, name := range []string{"versitygw", "minio"} {
		s, err := startServer(ctx, name, dir)
		if err != nil {
			return fail(err)
		}
		started = append(started, s)
	}
	return started, nil
}

func startServer(ctx context.Context, name, dir string) (*server, error) {
	var module, version, userinfo string
	switch name {
	case "versitygw":
		module, version = versitygwModule, versitygwVersion
		userinfo = "test:testtesttest"
	case "minio":
		module, version = minioModule, minioVersion
		userinfo = "minioadmin:minioadmin"
	}
	bin, err := ensureBinary(ctx, name, module, version)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ { // a port taken meanwhile: new ports
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		data := filepath.Join(dir, fmt.Sprintf("%s-%d", name, attempt))
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
		var cmd *exec.Cmd
		switch name {
		case "versitygw":
			cmd = exec.Command(bin, "--port", addr, "--region", "us-east-1", "--keep-alive", "--quiet", "posix", data)
			cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY=test", "ROOT_SECRET_KEY=testtesttest")
		case "minio":
			cmd = exec.Command(bin, "server", "--quiet", "--address", addr,
				"--console-address", fmt.Sprintf("127.0.0.1:%d", ports[1]), data)
			cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=minioadmin", "MINIO_ROOT_PASSWORD=minioadmin", "MINIO_BROWSER=off")
		}
		logPath := filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, attempt))
		logf, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			return nil, fmt.Errorf("starting %s: %w", name, err)
		}
		s := &server{cmd: cmd, done: make(chan struct{}), log: logPath}
		go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()
		ak, sk, _ := strings.Cut(userinfo, ":")
		s.target = target{Name: name, URL: "http://" + addr, AccessKey: ak, SecretKey: sk, Version: version}
		if err := waitReady(ctx, s); err != nil {
			s.stop()
			lastErr = err
			select {
			case <-s.done:
				continue // it died at start: try new ports
			default:
			}
			return nil, err
		}
		return s, nil
	}
	return nil, lastErr
}

// waitReady polls the server until it answers as .ci/run's ready_* do.
func waitReady(ctx context.Context, s *server) error {
	url := s.URL + "/"
	if s.Name == "minio" {
		url = s.URL + "/minio/health/live"
	}
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			log, _ := os.ReadFile(s.log)
			return fmt.Errorf("%s exited during start-up: %s", s.Name, tail(string(log), 1000))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if s.Name != "minio" || resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s did not become ready within 60 s", s.Name)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
