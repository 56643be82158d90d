package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"

	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/storage"
)

// sizes are the dimensions of one run of the benchmark.
type sizes struct {
	Name      string        `json:"name"`
	Small     int           `json:"small"`      // operations per run of a small-operation workload
	SmallKeys int           `json:"small_keys"` // distinct keys those operations cycle over
	Value     int           `json:"value"`      // bytes of a small value
	Batch     int           `json:"batch"`      // values per GetMany/SetMany
	Lists     []int         `json:"lists"`      // keys listed, one workload each
	Clear     int           `json:"clear"`      // keys cleared
	Transfer  int64         `json:"transfer"`   // bytes of the large object
	Reps      int           `json:"reps"`       // runs of each measurement; the table shows medians
	WANRate   int64         `json:"wan_rate"`   // bytes/s per connection and direction on the WAN-like link
	WANRTT    time.Duration `json:"wan_rtt"`    // round-trip delay the WAN-like link adds
}

const (
	kib = 1 << 10
	mib = 1 << 20
)

// presets: full is what RESULTS.md holds; tiny runs every workload in
// seconds, for CI; medium is for checking one workload by hand.
var presets = map[string]sizes{
	"tiny": {Name: "tiny", Small: 40, SmallKeys: 16, Value: kib, Batch: 64, Lists: []int{150, 1100},
		Clear: 1100, Transfer: 20 * mib, Reps: 1, WANRate: 64 * mib, WANRTT: 20 * time.Millisecond},
	"medium": {Name: "medium", Small: 500, SmallKeys: 256, Value: kib, Batch: 1000, Lists: []int{1000, 10000},
		Clear: 2000, Transfer: 64 * mib, Reps: 3, WANRate: 16 * mib, WANRTT: 20 * time.Millisecond},
	"full": {Name: "full", Small: 3000, SmallKeys: 256, Value: kib, Batch: 10000, Lists: []int{10000, 100000},
		Clear: 10000, Transfer: 256 * mib, Reps: 3, WANRate: 16 * mib, WANRTT: 20 * time.Millisecond},
}

// role says how a row counts when the table computes ratios.
type role int

const (
	roleS3map role = iota // s3map: the rows that get ratios
	rolePeer              // a peer: ratios compare s3map with the best of these
	roleRef               // shown for reference only (list-only, delete-only)
)

// runner is one client's function for one workload.
type runner struct {
	Client  string
	Op      string // what it calls, shown in the table
	Role    role
	Prepare func(ctx context.Context, e *env) error // before each run, not timed
	Run     func(ctx context.Context, e *env, n int) error
	After   func(ctx context.Context, e *env) error // after each run, not timed (checks)
}

// Label names the runner in the table and on the child command line.
func (r runner) Label() string { return r.Client + " " + r.Op }

// workload is one row group of the table.
type workload struct {
	Name    string
	Ops     int                                     // operations per run (values, keys); per-op numbers divide by it
	Bytes   int64                                   // bytes per run, for transfers: throughput is then MiB/s
	Warm    int                                     // operations of warm-up before each run, same concurrency; 0: one small request
	Fresh   bool                                    // each run in a fresh process, for its peak RSS
	WAN     bool                                    // through the WAN-like proxy
	Setup   func(ctx context.Context, e *env) error // once per server, before the runs
	Runners []runner
	// Synth adds peer rows computed from the medians (the Clear bar's
	// "larger of list-only and delete-only").
	Synth func(med map[string]result) []synthRow
}

type synthRow struct {
	Label string
	Res   result
}

// workloads is the table of everything measured. To add a workload, add an
// entry here with one function per client.
func workloads(sz sizes) []workload {
	val := bytes.Repeat([]byte("v"), sz.Value)
	small := fmt.Sprintf("%d B", sz.Value)
	if sz.Value%kib == 0 {
		small = fmt.Sprintf("%d KiB", sz.Value/kib)
	}
	var ws []workload
	type smallOp struct {
		name   string
		prefix string
		s3map  opFunc
		sdk    opFunc
		minio  opFunc
		ops    [3]string
	}
	for _, op := range []smallOp{
		{"Get", "small/", s3mapGet, sdkGet, minioGet, [3]string{"Get", "GetObject", "GetObject"}},
		{"Has", "small/", s3mapHas, sdkHas, minioHas, [3]string{"Has", "HeadObject", "StatObject"}},
		{"Set", "small-set/", s3mapSet(val), sdkSet(val), minioSet(val), [3]string{"Set", "PutObject", "PutObject"}},
	} {
		for _, conc := range []int{1, 16} {
			how := "sequential"
			if conc > 1 {
				how = fmt.Sprintf("%d goroutines", conc)
			}
			ws = append(ws, workload{
				Name:  fmt.Sprintf("%s %s, %s", op.name, small, how),
				Ops:   sz.Small,
				Warm:  4 * conc,
				Setup: populateOnce("small/", sz.SmallKeys, val),
				Runners: []runner{
					{Client: clientS3map, Op: op.ops[0], Role: roleS3map, Run: cycle(op.prefix, conc, op.s3map)},
					{Client: clientSDK, Op: op.ops[1], Role: rolePeer, Run: cycle(op.prefix, conc, op.sdk)},
					{Client: clientMinio, Op: op.ops[2], Role: rolePeer, Run: cycle(op.prefix, conc, op.minio)},
				},
			})
		}
	}

	batchKeys := keyNames("batch/", sz.Batch)
	setKeys := keyNames("batch-set/", sz.Batch)
	ws = append(ws,
		workload{
			Name:  fmt.Sprintf("GetMany %d × %s", sz.Batch, small),
			Ops:   sz.Batch,
			Setup: populateOnce("batch/", sz.Batch, val),
			Runners: []runner{
				{Client: clientS3map, Op: "GetMany", Role: roleS3map, Run: s3mapGetMany(batchKeys)},
				{Client: clientSDK, Op: "GetObject ×16 goroutines", Role: rolePeer, Run: each(batchKeys, 16, sdkGet)},
				{Client: clientMinio, Op: "GetObject ×16 goroutines", Role: rolePeer, Run: each(batchKeys, 16, minioGet)},
				// GetMany's default concurrency (kv.BatchConcurrency)
				// against others: Get on that many goroutines is what
				// GetMany does.
				{Client: clientS3map, Op: "Get ×8 goroutines", Role: roleRef, Run: each(batchKeys, 8, s3mapGet)},
				{Client: clientS3map, Op: "Get ×32 goroutines", Role: roleRef, Run: each(batchKeys, 32, s3mapGet)},
			},
		},
		workload{
			Name: fmt.Sprintf("SetMany %d × %s", sz.Batch, small),
			Ops:  sz.Batch,
			Runners: []runner{
				{Client: clientS3map, Op: "SetMany", Role: roleS3map, Run: s3mapSetMany(setKeys, val)},
				{Client: clientSDK, Op: "PutObject ×16 goroutines", Role: rolePeer, Run: each(setKeys, 16, sdkSet(val))},
				{Client: clientMinio, Op: "PutObject ×16 goroutines", Role: rolePeer, Run: each(setKeys, 16, minioSet(val))},
				{Client: clientS3map, Op: "Set ×8 goroutines", Role: roleRef, Run: each(setKeys, 8, s3mapSet(val))},
				{Client: clientS3map, Op: "Set ×32 goroutines", Role: roleRef, Run: each(setKeys, 32, s3mapSet(val))},
			},
		},
	)

	for _, n := range sz.Lists {
		prefix := fmt.Sprintf("list-%d/", n)
		ws = append(ws, workload{
			Name:  fmt.Sprintf("list %d keys", n),
			Ops:   n,
			Setup: populateOnce(prefix, n, nil),
			Runners: []runner{
				{Client: clientS3map, Op: "Keys", Role: roleS3map, Run: s3mapKeys(prefix)},
				{Client: clientS3map, Op: "Len", Role: roleS3map, Run: s3mapLen(prefix)},
				{Client: clientSDK, Op: "ListObjectsV2 paginator", Role: rolePeer, Run: sdkList(prefix)},
				{Client: clientMinio, Op: "ListObjects", Role: rolePeer, Run: minioList(prefix)},
			},
		})
	}

	clearKeys := keyNames("clear/", sz.Clear)
	fill := func(ctx context.Context, e *env) error {
		if e.clearFull {
			return nil
		}
		if err := populate(ctx, e, clearKeys, nil); err != nil {
			return err
		}
		e.clearFull = true
		return nil
	}
	emptied := func(ctx context.Context, e *env) error {
		e.clearFull = false
		return checkEmpty(ctx, e, "clear/")
	}
	ws = append(ws, workload{
		Name: fmt.Sprintf("clear %d keys", sz.Clear),
		Ops:  sz.Clear,
		Runners: []runner{
			{Client: clientSDK, Op: "list only", Role: roleRef, Prepare: fill, Run: sdkList("clear/")},
			{Client: clientSDK, Op: "delete only (DeleteObjects of known keys)", Role: roleRef, Prepare: fill,
				Run: sdkDeleteKeys(clearKeys), After: emptied},
			{Client: clientS3map, Op: "Clear", Role: roleS3map, Prepare: fill, Run: s3mapClear("clear/"), After: emptied},
			{Client: clientMinio, Op: "RemoveObjects(ListObjects)", Role: rolePeer, Prepare: fill,
				Run: minioClear("clear/"), After: emptied},
		},
		Synth: func(med map[string]result) []synthRow {
			l, okL := med[clientSDK+" list only"]
			d, okD := med[clientSDK+" delete only (DeleteObjects of known keys)"]
			if !okL || !okD || l.Err != "" || d.Err != "" {
				return nil
			}
			r := result{Seconds: max(l.Seconds, d.Seconds), CPU: l.CPU + d.CPU, Dials: l.Dials + d.Dials, Mem: max(l.Mem, d.Mem)}
			return []synthRow{{Label: clientSDK + " larger of list only, delete only (the bar)", Res: r}}
		},
	})

	// The cache bar: a hit at least 100× faster than an uncached Get, the
	// uncached Get standing as the "peer" the ratio divides by.
	for _, conc := range []int{1, 16} {
		how := "sequential"
		if conc > 1 {
			how = fmt.Sprintf("%d goroutines", conc)
		}
		ws = append(ws, workload{
			Name:  fmt.Sprintf("Get %s through kv/cache, %s", small, how),
			Ops:   sz.Small,
			Warm:  4 * conc,
			Setup: populateCache(sz.SmallKeys, val),
			Runners: []runner{
				{Client: clientS3map, Op: "cache.Cache Get (hit)", Role: roleS3map, Run: cycle("small/", conc, cacheGet)},
				{Client: clientS3map, Op: "Get (uncached)", Role: rolePeer, Run: cycle("small/", conc, s3mapGet)},
			},
		})
	}

	mb := fmt.Sprintf("%d MiB", sz.Transfer/mib)
	ws = append(ws,
		workload{
			Name: "upload " + mb + " file", Ops: 1, Bytes: sz.Transfer, Fresh: true,
			Runners: []runner{
				{Client: clientS3map, Op: "Write", Role: roleS3map, Run: s3mapWrite},
				{Client: clientSDK, Op: "PutObject (one, unsigned payload)", Role: rolePeer, Run: sdkPutFile},
				{Client: clientMinio, Op: "FPutObject", Role: rolePeer, Run: minioFPut},
			},
		},
		workload{
			Name: "download " + mb + " to a file (MD5 ETag only)", Ops: 1, Bytes: sz.Transfer, Fresh: true,
			Setup: ensureBigObject,
			Runners: []runner{
				{Client: clientS3map, Op: "Read", Role: roleS3map, Run: s3mapRead(bigKey), After: removeDownload},
				{Client: clientSDK, Op: "GetObject (one stream)", Role: rolePeer, Run: sdkGetFile(bigKey), After: removeDownload},
				{Client: clientMinio, Op: "FGetObject", Role: rolePeer, Run: minioFGet(bigKey), After: removeDownload},
			},
		},
		workload{
			Name: "download " + mb + " to a file (written by s3map, with a checksum)", Ops: 1, Bytes: sz.Transfer, Fresh: true,
			Setup: ensureBigObjectS3map,
			Runners: []runner{
				{Client: clientS3map, Op: "Read", Role: roleS3map, Run: s3mapRead(bigKeyS3map), After: removeDownload},
				{Client: clientSDK, Op: "GetObject (one stream)", Role: rolePeer, Run: sdkGetFile(bigKeyS3map), After: removeDownload},
				{Client: clientMinio, Op: "FGetObject", Role: rolePeer, Run: minioFGet(bigKeyS3map), After: removeDownload},
			},
		},
		workload{
			Name: fmt.Sprintf("download %s over WAN-like link (%v RTT, %d MiB/s per connection)",
				mb, sz.WANRTT, sz.WANRate/mib),
			Ops: 1, Bytes: sz.Transfer, Fresh: true, WAN: true,
			Setup: ensureBigObject,
			Runners: []runner{
				{Client: clientS3map, Op: "Read", Role: roleS3map, Run: s3mapRead(bigKey), After: removeDownload},
				{Client: clientSDK, Op: "GetObject (one stream)", Role: rolePeer, Run: sdkGetFile(bigKey), After: removeDownload},
			},
		},
	)
	return ws
}

// --- helpers shared by the workloads -----------------------------------------

// opFunc is one small operation on one key.
type opFunc func(ctx context.Context, e *env, key string) error

func keyName(prefix string, i int) string { return fmt.Sprintf("%sk%07d", prefix, i) }

func keyNames(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = keyName(prefix, i)
	}
	return keys
}

// forN runs fn(0..n-1) on conc goroutines; the first error stops the rest.
func forN(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// cycle runs n operations on conc goroutines over the small keys under prefix.
func cycle(prefix string, conc int, op opFunc) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, n int) error {
		return forN(ctx, n, conc, func(ctx context.Context, i int) error {
			return op(ctx, e, keyName(prefix, i%e.sz.SmallKeys))
		})
	}
}

// each runs op once per key on conc goroutines.
func each(keys []string, conc int, op opFunc) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, _ int) error {
		return forN(ctx, len(keys), conc, func(ctx context.Context, i int) error {
			return op(ctx, e, keys[i])
		})
	}
}

// populate writes keys (value val, empty when nil) with the raw SDK on 32
// goroutines. Setup is not measured.
func populate(ctx context.Context, e *env, keys []string, val []byte) error {
	return forN(ctx, len(keys), 32, func(ctx context.Context, i int) error {
		_, err := e.sdk.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(e.bucket), Key: aws.String(keys[i]),
			Body: bytes.NewReader(val), ContentLength: aws.Int64(int64(len(val))),
		})
		return err
	})
}

// populateOnce is a Setup writing n keys under prefix, unless a listing
// shows they are there already (workloads share the small keys).
func populateOnce(prefix string, n int, val []byte) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		if got, err := countSDK(ctx, e, prefix); err == nil && got == n {
			return nil
		}
		return populate(ctx, e, keyNames(prefix, n), val)
	}
}

// populateCache is a Setup writing the small keys (as populateOnce) and
// filling a cache over s3map's map with them, so the cache rows time hits.
// The cache's TTL outlasts the benchmark: no hit revalidates.
func populateCache(n int, val []byte) func(context.Context, *env) error {
	fill := populateOnce("small/", n, val)
	return func(ctx context.Context, e *env) error {
		if err := fill(ctx, e); err != nil {
			return err
		}
		e.cache = cache.New(e.bm, &cache.Options{TTL: time.Hour})
		for _, k := range keyNames("small/", n) {
			if _, err := e.cache.Get(ctx, k); err != nil {
				return err
			}
		}
		return nil
	}
}

func cacheGet(ctx context.Context, e *env, key string) error {
	_, err := e.cache.Get(ctx, key)
	return err
}

func checkEmpty(ctx context.Context, e *env, prefix string) error {
	out, err := e.sdk.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(1)})
	if err != nil {
		return err
	}
	if len(out.Contents) > 0 {
		return fmt.Errorf("%s still holds %s after the clear", prefix, aws.ToString(out.Contents[0].Key))
	}
	return nil
}

func countSDK(ctx context.Context, e *env, prefix string) (int, error) {
	p := s3.NewListObjectsV2Paginator(e.sdk, &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket), Prefix: aws.String(prefix)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, err
		}
		n += len(page.Contents)
	}
	return n, nil
}

func wantCount(what string, got, want int) error {
	if got != want {
		return fmt.Errorf("%s: %d keys, want %d", what, got, want)
	}
	return nil
}

// --- small operations: one function per client ---------------------------------

func s3mapGet(ctx context.Context, e *env, key string) error {
	_, err := e.bm.Get(ctx, key)
	return err
}

func sdkGet(ctx context.Context, e *env, key string) error {
	out, err := e.sdk.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	_, err = io.ReadAll(out.Body)
	return err
}

func minioGet(ctx context.Context, e *env, key string) error {
	obj, err := e.mc.GetObject(ctx, e.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return err
	}
	defer obj.Close()
	_, err = io.ReadAll(obj)
	return err
}

func s3mapHas(ctx context.Context, e *env, key string) error {
	ok, err := e.bm.Has(ctx, key)
	if err == nil && !ok {
		err = errors.New("Has: " + key + " missing")
	}
	return err
}

func sdkHas(ctx context.Context, e *env, key string) error {
	_, err := e.sdk.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	return err
}

func minioHas(ctx context.Context, e *env, key string) error {
	_, err := e.mc.StatObject(ctx, e.bucket, key, minio.StatObjectOptions{})
	return err
}

func s3mapSet(val []byte) opFunc {
	return func(ctx context.Context, e *env, key string) error {
		return e.bm.Set(ctx, key, val)
	}
}

func sdkSet(val []byte) opFunc {
	return func(ctx context.Context, e *env, key string) error {
		_, err := e.sdk.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(e.bucket), Key: aws.String(key),
			Body: bytes.NewReader(val), ContentLength: aws.Int64(int64(len(val))),
		})
		return err
	}
}

func minioSet(val []byte) opFunc {
	return func(ctx context.Context, e *env, key string) error {
		_, err := e.mc.PutObject(ctx, e.bucket, key, bytes.NewReader(val), int64(len(val)), minio.PutObjectOptions{})
		return err
	}
}

// --- batches --------------------------------------------------------------------

func s3mapGetMany(keys []string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, _ int) error {
		got, err := e.bm.GetMany(ctx, keys)
		if err != nil {
			return err
		}
		return wantCount("GetMany", len(got), len(keys))
	}
}

func s3mapSetMany(keys []string, val []byte) func(context.Context, *env, int) error {
	items := make(map[string][]byte, len(keys))
	for _, k := range keys {
		items[k] = val
	}
	return func(ctx context.Context, e *env, _ int) error {
		return e.bm.SetMany(ctx, items)
	}
}

// --- listing --------------------------------------------------------------------

func s3mapKeys(prefix string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, n int) error {
		m, err := e.mapAt(prefix)
		if err != nil {
			return err
		}
		keys, errf := m.Keys(ctx)
		got := 0
		for range keys {
			got++
		}
		if err := errf(); err != nil {
			return err
		}
		return wantCount("Keys", got, n)
	}
}

func s3mapLen(prefix string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, n int) error {
		m, err := e.mapAt(prefix)
		if err != nil {
			return err
		}
		got, err := m.Len(ctx)
		if err != nil {
			return err
		}
		return wantCount("Len", got, n)
	}
}

func sdkList(prefix string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, n int) error {
		got, err := countSDK(ctx, e, prefix)
		if err != nil {
			return err
		}
		return wantCount("ListObjectsV2", got, n)
	}
}

func minioList(prefix string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, n int) error {
		got := 0
		for obj := range e.mc.ListObjects(ctx, e.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if obj.Err != nil {
				return obj.Err
			}
			got++
		}
		return wantCount("ListObjects", got, n)
	}
}

// --- clear ----------------------------------------------------------------------

func s3mapClear(prefix string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, _ int) error {
		m, err := e.mapAt(prefix)
		if err != nil {
			return err
		}
		return m.Clear(ctx)
	}
}

// deleteKeysSDK deletes keys with DeleteObjects, 1000 a request, one
// request after the other.
func deleteKeysSDK(ctx context.Context, e *env, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := e.sdk.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(e.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("DeleteObjects: %s: %s", aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
		}
		keys = keys[n:]
	}
	return nil
}

func sdkDeleteKeys(keys []string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, _ int) error { return deleteKeysSDK(ctx, e, keys) }
}

func minioClear(prefix string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, _ int) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		objs := make(chan minio.ObjectInfo)
		var listErr error
		go func() {
			defer close(objs)
			for obj := range e.mc.ListObjects(ctx, e.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
				if obj.Err != nil {
					listErr = obj.Err
					return
				}
				select {
				case objs <- obj:
				case <-ctx.Done():
					return
				}
			}
		}()
		var firstErr error
		for r := range e.mc.RemoveObjects(ctx, e.bucket, objs, minio.RemoveObjectsOptions{}) {
			if firstErr == nil && r.Err != nil {
				firstErr = fmt.Errorf("RemoveObjects %s: %w", r.ObjectName, r.Err)
				cancel()
			}
		}
		if firstErr != nil {
			return firstErr
		}
		return listErr
	}
}

// --- large transfers (each run in a fresh process) ------------------------------

const bigKey = "big/object"

func (e *env) bigFile() string { return filepath.Join(e.dir, "upload.bin") }

func (e *env) downloadPath() string {
	return filepath.Join(e.dir, fmt.Sprintf("download-%d.bin", os.Getpid()))
}

// makeBigFile writes size bytes of pseudo-random data to path, unless a
// file of that size is there.
func makeBigFile(path string, size int64) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() == size {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	buf := make([]byte, mib)
	var x uint64 = 0x9e3779b97f4a7c15
	for done := int64(0); done < size; {
		for i := 0; i < len(buf); i += 8 { // xorshift: incompressible, cheap
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			for j := 0; j < 8 && i+j < len(buf); j++ {
				buf[i+j] = byte(x >> (8 * j))
			}
		}
		n := min(int64(len(buf)), size-done)
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
		done += n
	}
	return f.Close()
}

// ensureBigObject uploads the large object the downloads read, once.
func ensureBigObject(ctx context.Context, e *env) error {
	out, err := e.sdk.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(bigKey)})
	if err == nil && aws.ToInt64(out.ContentLength) == e.sz.Transfer {
		return logDigest(ctx, e, bigKey)
	}
	if err := putFileSDK(ctx, e, bigKey); err != nil {
		return err
	}
	return logDigest(ctx, e, bigKey)
}

// logDigest logs what will verify a download of key: the full-object
// checksums the server returns, else the ETag (an MD5 when it has no
// "-N" part). Read's cost depends on it.
func logDigest(ctx context.Context, e *env, key string) error {
	out, err := e.sdk.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return err
	}
	var sums []string
	for _, c := range []struct{ name, v string }{
		{"CRC32C", aws.ToString(out.ChecksumCRC32C)}, {"CRC32", aws.ToString(out.ChecksumCRC32)},
		{"CRC64NVME", aws.ToString(out.ChecksumCRC64NVME)}, {"SHA1", aws.ToString(out.ChecksumSHA1)},
		{"SHA256", aws.ToString(out.ChecksumSHA256)},
	} {
		if c.v != "" {
			sums = append(sums, c.name)
		}
	}
	logf("%s: %s: checksums %v (%s), ETag %s", e.t.Name, key, sums, out.ChecksumType, aws.ToString(out.ETag))
	return nil
}

// bigKeyS3map is the large object s3map wrote, with the full-object
// checksum it adds where the server keeps one.
const bigKeyS3map = "big/object-s3map"

// ensureBigObjectS3map uploads, once, the large object written by s3map.
func ensureBigObjectS3map(ctx context.Context, e *env) error {
	out, err := e.sdk.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(bigKeyS3map)})
	if err == nil && aws.ToInt64(out.ContentLength) == e.sz.Transfer {
		return logDigest(ctx, e, bigKeyS3map)
	}
	if err := e.st.Write(ctx, e.bigFile(), storage.Name{Key: bigKeyS3map}, nil); err != nil {
		return err
	}
	return logDigest(ctx, e, bigKeyS3map)
}

func putFileSDK(ctx context.Context, e *env, key string) error {
	f, err := os.Open(e.bigFile())
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	_, err = e.sdk.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(e.bucket), Key: aws.String(key), Body: f, ContentLength: aws.Int64(fi.Size()),
	}, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	return err
}

func s3mapWrite(ctx context.Context, e *env, _ int) error {
	return e.st.Write(ctx, e.bigFile(), storage.Name{Key: "big/up-s3map"}, nil)
}

func sdkPutFile(ctx context.Context, e *env, _ int) error {
	return putFileSDK(ctx, e, "big/up-sdk")
}

func minioFPut(ctx context.Context, e *env, _ int) error {
	_, err := e.mc.FPutObject(ctx, e.bucket, "big/up-minio", e.bigFile(), minio.PutObjectOptions{})
	return err
}

func s3mapRead(key string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, _ int) error {
		_, err := e.st.Read(ctx, storage.Name{Key: key}, e.downloadPath())
		return err
	}
}

func sdkGetFile(key string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, _ int) error {
		out, err := e.sdk.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		f, err := os.Create(e.downloadPath())
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, out.Body); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
}

func minioFGet(key string) func(context.Context, *env, int) error {
	return func(ctx context.Context, e *env, _ int) error {
		return e.mc.FGetObject(ctx, e.bucket, key, e.downloadPath(), minio.GetObjectOptions{})
	}
}

// removeDownload checks the downloaded file's size and removes it.
func removeDownload(_ context.Context, e *env) error {
	path := e.downloadPath()
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	os.Remove(path)
	if fi.Size() != e.sz.Transfer {
		return fmt.Errorf("downloaded %d bytes, want %d", fi.Size(), e.sz.Transfer)
	}
	return nil
}
