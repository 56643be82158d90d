package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// Put and Get of small and large objects on the in-process server. They
// measure the library and the loopback HTTP path, not S3.
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 32 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			srv := s3test.NewServer()
			defer srv.Close()
			st := srv.Storage()
			data := randomBytes(b, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := st.Put(context.Background(), storage.Name{Key: "bench"}, bytes.NewReader(data), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 32 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			srv := s3test.NewServer()
			defer srv.Close()
			st := srv.Storage()
			ctx := context.Background()
			if _, err := st.Put(ctx, storage.Name{Key: "bench"}, bytes.NewReader(randomBytes(b, size)), nil); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				r, err := st.Get(ctx, storage.Name{Key: "bench"}, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

// BenchmarkReadWriteback downloads a 256 MiB object written by Put to a
// file on every server, with the early writeback Read asks of the kernel
// and without it, beside one raw GetObject copied to a file without an
// fsync (the peers' way).
func BenchmarkReadWriteback(b *testing.B) {
	const size = 256 << 20
	ctx := context.Background()
	data := randomBytes(b, size)
	for _, tg := range benchTargets(b) {
		st := tg.Storage
		if _, err := st.Put(ctx, storage.Name{Key: "bench"}, bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
		dst := filepath.Join(b.TempDir(), "out")
		for _, every := range []int64{8 << 20, 0} {
			b.Run(fmt.Sprintf("%s/writeback=%v", tg.Name, every > 0), func(b *testing.B) {
				defer storage.SetWriteback(every, nil)()
				b.SetBytes(size)
				for b.Loop() {
					if _, err := st.Read(ctx, storage.Name{Key: "bench"}, dst); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(tg.Name+"/raw-get-no-fsync", func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				out, err := st.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tg.Config.DefaultBucket), Key: aws.String("bench")})
				if err != nil {
					b.Fatal(err)
				}
				f, err := os.Create(dst)
				if err != nil {
					b.Fatal(err)
				}
				_, err = io.Copy(f, out.Body)
				out.Body.Close()
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead downloads a 256 MiB object written by Put to a file, as a
// user's Read does (one stream on loopback, verified).
func BenchmarkRead(b *testing.B) {
	const size = 256 << 20
	b.Run("256MiB", func(b *testing.B) {
		srv := s3test.NewServer()
		defer srv.Close()
		st := srv.Storage()
		ctx := context.Background()
		if _, err := st.Put(ctx, storage.Name{Key: "bench"}, bytes.NewReader(randomBytes(b, size)), nil); err != nil {
			b.Fatal(err)
		}
		dst := filepath.Join(b.TempDir(), "out")
		b.SetBytes(size)
		for b.Loop() {
			if _, err := st.Read(ctx, storage.Name{Key: "bench"}, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifiedDownload measures what verification costs: the same
// Read (default options: one stream on loopback, parallel ranges on a
// capped link) with and without checksums, for an object written by
// s3map's Put (a CRC32C where the server keeps one) and one written by a
// raw PutObject without a checksum (only its ETag, an MD5, vouches for it;
// versitygw gives it a CRC64NVME), on every server, over loopback and over
// a capped link (cappedLink: 20 ms round trip, 16 MiB/s per connection).
// The sub-benchmark names say which digest the server returned. It reports
// the client's CPU time per Read (the in-process server's included).
// S3MAP_BENCH_SIZE_MIB sets the object's size (default 256);
// S3MAP_BENCH_CAPPED=0 leaves out the capped link; S3MAP_BENCH_SERVER_PIDS
// ("minio=PID,versitygw=PID") adds each real server's CPU time per Read,
// from /proc (Linux).
func BenchmarkVerifiedDownload(b *testing.B) {
	size := 256 << 20
	if v, err := strconv.Atoi(os.Getenv("S3MAP_BENCH_SIZE_MIB")); err == nil && v > 0 {
		size = v << 20
	}
	ctx := context.Background()
	data := randomBytes(b, size)
	for _, tg := range benchTargets(b) {
		st := tg.Storage
		type object struct{ key, digest string }
		var objects []object
		for _, writer := range []string{"s3map", "sdk"} {
			key := "bench-" + writer
			var err error
			if writer == "s3map" {
				_, err = st.Put(ctx, storage.Name{Key: key}, bytes.NewReader(data), nil)
			} else {
				_, err = st.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(tg.Config.DefaultBucket), Key: &key, Body: bytes.NewReader(data)})
			}
			if err != nil {
				b.Fatal(err)
			}
			objects = append(objects, object{key, returnedDigest(b, st, tg.Config.DefaultBucket, key)})
		}
		links := map[string]*storage.Storage{"loopback": st}
		if os.Getenv("S3MAP_BENCH_CAPPED") != "0" {
			links["capped"] = cappedStorage(b, tg.Config)
		}
		for _, link := range []string{"loopback", "capped"} {
			lst := links[link]
			if lst == nil {
				continue
			}
			for _, o := range objects {
				for _, verify := range []bool{false, true} {
					b.Run(fmt.Sprintf("%s/%s/%s/%s/verified=%v", tg.Name, strings.TrimPrefix(o.key, "bench-"), o.digest, link, verify), func(b *testing.B) {
						storage.SetVerifyReads(verify)
						defer storage.SetVerifyReads(true)
						dst := filepath.Join(b.TempDir(), "out")
						b.SetBytes(int64(size))
						cpu0, srv0 := cpuTime(), serverCPU(tg.Name)
						for b.Loop() {
							if _, err := lst.Read(ctx, storage.Name{Key: o.key}, dst); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
						if srv0 >= 0 {
							b.ReportMetric(float64((serverCPU(tg.Name)-srv0).Milliseconds())/float64(b.N), "server-cpu-ms/op")
						}
					})
				}
			}
		}
	}
}

// returnedDigest names the digest a whole-object GET of key is verified
// against: the full-object checksum the server keeps (asked with a HEAD),
// else the ETag's MD5.
func returnedDigest(b *testing.B, st *storage.Storage, bucket, key string) string {
	h, err := st.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		b.Fatal(err)
	}
	for alg, v := range map[string]*string{"CRC32C": h.ChecksumCRC32C, "CRC32": h.ChecksumCRC32, "CRC64NVME": h.ChecksumCRC64NVME, "SHA1": h.ChecksumSHA1, "SHA256": h.ChecksumSHA256} {
		if v != nil && !strings.Contains(*v, "-") {
			return alg
		}
	}
	return "MD5"
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the CPU time so far of the server process named in
// S3MAP_BENCH_SERVER_PIDS, or -1.
func serverCPU(name string) time.Duration {
	for _, kv := range strings.Split(os.Getenv("S3MAP_BENCH_SERVER_PIDS"), ",") {
		n, pid, _ := strings.Cut(kv, "=")
		if n != name {
			continue
		}
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return -1
		}
		// Fields 14 and 15 (utime, stime) in clock ticks of 1/100 s,
		// after the command name in parentheses.
		_, rest, _ := strings.Cut(string(stat), ") ")
		f := strings.Fields(rest)
		if len(f) < 13 {
			return -1
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		return time.Duration(u+s) * 10 * time.Millisecond
	}
	return -1
}

// cappedStorage opens a Storage that reaches cfg's endpoint through a
// cappedLink on 127.0.0.1.
func cappedStorage(b *testing.B, cfg storage.Config) *storage.Storage {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		b.Fatal(err)
	}
	p := startCappedLink(b, u.Host, 20*time.Millisecond, 16<<20)
	u.Host = p.Addr().String()
	cfg.Endpoint = u.String()
	st, err := storage.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// startCappedLink starts a TCP proxy on 127.0.0.1 to target that makes
// loopback look like a far link, as the AWS SDK meets it: every byte
// arrives rtt/2 later in each direction, and each connection carries at
// most rate bytes per second each way (a single TCP stream to a far
// server is capped; parallel connections each get the rate). It stops
// when b ends. (bench/proxy.go is the peer benchmark's; this one is for
// the package's own benchmarks.)
func startCappedLink(b *testing.B, target string, rtt time.Duration, rate float64) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	pipe := func(dst, src net.Conn) {
		type chunk struct {
			data []byte
			due  time.Time
		}
		queue := make(chan chunk, 64)
		go func() {
			defer close(queue)
			for {
				buf := make([]byte, 64<<10)
				n, err := src.Read(buf)
				if n > 0 {
					queue <- chunk{buf[:n], time.Now().Add(rtt / 2)}
				}
				if err != nil {
					return
				}
			}
		}()
		var next time.Time // when the bytes sent so far have gone at rate
		for c := range queue {
			time.Sleep(time.Until(c.due))
			now := time.Now()
			if burst := now.Add(-20 * time.Millisecond); next.Before(burst) {
				next = burst
			}
			next = next.Add(time.Duration(float64(len(c.data)) / rate * float64(time.Second)))
			time.Sleep(time.Until(next))
			if _, err := dst.Write(c.data); err != nil {
				src.Close()
				for range queue {
				}
				return
			}
		}
		dst.Close()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); pipe(server, client) }()
			go func() { defer wg.Done(); pipe(client, server) }()
		}
	}()
	return ln
}
