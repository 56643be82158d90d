package bucketmap_test

// The guarantees of issue 7, shown through injected faults: every
// conditional write exactly once, every read verified. The faults come from
// s3test's injector, a proxy in front of each server. The random choices
// are seeded: S3MAP_FAULT_SEED overrides the seed, which each test logs.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/cache"
	"github.com/s3map/s3map/kv/zstd"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// envFaultSeed names the environment variable that overrides the seed of
// the fault tests.
const envFaultSeed = "S3MAP_FAULT_SEED"

// faultSeed returns the seed of the fault tests and logs it.
func faultSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(20261121)
	if s := os.Getenv(envFaultSeed); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", envFaultSeed, s, err)
		}
		seed = n
	}
	t.Logf("fault seed %d (set %s to repeat or change it)", seed, envFaultSeed)
	return seed
}

// faultyStorage returns a Storage that reaches tg's server and bucket
// through a proxy of inj. It keeps the client's retryer (what is retried,
// how often, its quota) but waits at most a millisecond between attempts
// instead of up to seconds, so that hundreds of faults fit in a short test.
func faultyStorage(t *testing.T, tg *s3test.Target, inj *s3test.Injector) *storage.Storage {
	t.Helper()
	ftg := tg.WithFaults(t, inj)
	o := ftg.Storage.Client().Options()
	if o.Retryer == nil {
		o.Retryer = retry.NewStandard()
	}
	o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	st, err := storage.New(s3.New(o), &storage.Options{DefaultBucket: tg.Config.DefaultBucket})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// mapsOn returns a map over a fresh prefix through faults, and a map over
// the same prefix without them, for checking what the server holds.
func mapsOn(t *testing.T, tg *s3test.Target, inj *s3test.Injector, opts *bucketmap.Options) (faulty, clean *bucketmap.BucketMap) {
	t.Helper()
	root := storage.Name{Key: fmt.Sprintf("faults-%d/", seq.Add(1))}
	faulty, err := bucketmap.New(faultyStorage(t, tg, inj), root, opts)
	if err != nil {
		t.Fatal(err)
	}
	clean, err = bucketmap.New(tg.Storage, root, opts)
	if err != nil {
		t.Fatal(err)
	}
	return faulty, clean
}

// appliedList is the value of the counter key of the exactly-once tests:
// the tags of the updates applied to it, in order.
type appliedList struct {
	Applied []string `json:"applied"`
}

// appendTag is an update: the old value with tag appended.
func appendTag(old []byte, exists bool, tag string) ([]byte, error) {
	var a appliedList
	if exists {
		if err := json.Unmarshal(old, &a); err != nil {
			return nil, fmt.Errorf("the value read is not the JSON written: %w", err)
		}
	}
	a.Applied = append(a.Applied, tag)
	return json.Marshal(a)
}

// updateOptions let the writers of one key take their turns quickly.
var updateOptions = &kv.UpdateOptions{MaxAttempts: 1000, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}

// 8 goroutines × 50 kv.Update calls on one key, at 7 % faults of every
// kind, through BucketMap, kv.Typed(JSON) and zstd.New (compressed): each
// update appends its tag, so the final value tells which were applied. An update
// that returned nil is applied exactly once; none is applied twice; one
// that returned a conflict is not applied (an ErrOutcomeUnknown may or may
// not be). Each writer's tags appear in its order.
func TestUpdateExactlyOnceUnderFaults(t *testing.T) {
	seed := faultSeed(t)
	layers := []struct {
		name string
		// update applies one tagged update through the layer over m;
		// read returns the value through the layer over m.
		update func(ctx context.Context, m kv.Store[[]byte], tag string) error
		read   func(ctx context.Context, m kv.Store[[]byte]) (appliedList, error)
	}{
		{
			"BucketMap",
			func(ctx context.Context, m kv.Store[[]byte], tag string) error {
				return kv.UpdateWithOptions(ctx, m, "counter", func(old []byte, exists bool) ([]byte, error) {
					return appendTag(old, exists, tag)
				}, updateOptions)
			},
			func(ctx context.Context, m kv.Store[[]byte]) (appliedList, error) {
				return decodeApplied(m.Get(ctx, "counter"))
			},
		},
		{
			"Typed",
			func(ctx context.Context, m kv.Store[[]byte], tag string) error {
				return kv.UpdateWithOptions(ctx, kv.Typed(m, kv.JSON[appliedList]()), "counter", func(old appliedList, exists bool) (appliedList, error) {
					old.Applied = append(old.Applied, tag)
					return old, nil
				}, updateOptions)
			},
			func(ctx context.Context, m kv.Store[[]byte]) (appliedList, error) {
				return kv.Typed(m, kv.JSON[appliedList]()).Get(ctx, "counter")
			},
		},
		{
			"Compressed",
			func(ctx context.Context, m kv.Store[[]byte], tag string) error {
				return kv.UpdateWithOptions(ctx, zstd.New(m, nil), "counter", func(old []byte, exists bool) ([]byte, error) {
					return appendTag(old, exists, tag)
				}, updateOptions)
			},
			func(ctx context.Context, m kv.Store[[]byte]) (appliedList, error) {
				return decodeApplied(zstd.New(m, nil).Get(ctx, "counter"))
			},
		},
	}
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		if tg.Caps.NonAtomicConditionalWrites {
			t.Skipf("%s does not make concurrent conditional writes atomic (Caps.NonAtomicConditionalWrites): updates are lost without any fault", tg.Name)
		}
		for i, layer := range layers {
			t.Run(layer.name, func(t *testing.T) {
				inj := s3test.NewInjector(&s3test.FaultOptions{Rate: 0.07, Seed: seed + uint64(i)})
				faulty, clean := mapsOn(t, tg, inj, nil)
				exactlyOnce(t, inj,
					func(ctx context.Context, tag string) error { return layer.update(ctx, faulty, tag) },
					func(ctx context.Context) (appliedList, error) { return layer.read(ctx, clean) })
			})
		}
	})
}

func decodeApplied(v []byte, err error) (appliedList, error) {
	var a appliedList
	if err != nil {
		return a, err
	}
	return a, json.Unmarshal(v, &a)
}

// exactlyOnce runs the tagged updates and checks the final value.
func exactlyOnce(t *testing.T, inj *s3test.Injector, update func(ctx context.Context, tag string) error, read func(ctx context.Context) (appliedList, error)) {
	const workers, each = 8, 50
	ctx := t.Context()
	results := make([][]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		results[w] = make([]error, each)
		wg.Go(func() {
			for i := range each {
				results[w][i] = update(ctx, fmt.Sprintf("%d-%d", w, i))
			}
		})
	}
	wg.Wait()
	inj.SetRate(0)
	final, err := read(ctx)
	if err != nil {
		t.Fatalf("reading the final value without faults: %v", err)
	}
	count := map[string]int{}
	last := make([]int, workers) // each writer's last index seen, +1
	for _, tag := range final.Applied {
		count[tag]++
		var w, i int
		if _, err := fmt.Sscanf(tag, "%d-%d", &w, &i); err != nil || w < 0 || w >= workers || i < 0 || i >= each || fmt.Sprintf("%d-%d", w, i) != tag {
			t.Errorf("the value holds %q, which no update wrote (a damaged value was written back)", tag)
			continue
		}
		if i+1 < last[w] { // (i+1 == last[w] is a duplicate, counted below)
			t.Errorf("writer %d's update %d comes after its update %d", w, i, last[w]-1)
		}
		last[w] = i + 1
	}
	var ok, unknown, conflict, other, otherApplied int
	for w := range workers {
		for i := range each {
			tag := fmt.Sprintf("%d-%d", w, i)
			err, n := results[w][i], count[tag]
			switch {
			case err == nil:
				ok++
			case errors.Is(err, kv.ErrOutcomeUnknown):
				unknown++
			case errors.Is(err, kv.ErrConflict):
				conflict++
			default:
				other++
				if n > 0 {
					otherApplied++
				}
			}
			switch {
			case n > 1:
				t.Errorf("update %s applied %d times (it returned %v)", tag, n, err)
			case err == nil && n == 0:
				t.Errorf("update %s returned nil but is not applied", tag)
			case errors.Is(err, kv.ErrConflict) && n > 0:
				t.Errorf("update %s returned a conflict but is applied: %v", tag, err)
			}
			if err != nil && !errors.Is(err, kv.ErrOutcomeUnknown) && t.Failed() && other+conflict <= 3 {
				t.Logf("update %s failed: %v", tag, err)
			}
		}
	}
	st := inj.Stats()
	t.Logf("%d requests, %d faults %v; updates: %d nil, %d outcome unknown, %d conflict, %d other errors (%d of them applied); %d applied",
		st.Requests, st.Faults, st.ByKind, ok, unknown, conflict, other, otherApplied, len(final.Applied))
}

// poss is one state a key of the model may be in.
type poss struct {
	present bool
	value   string
}

// model is what the mixed-operations test knows of each key: the states
// it may be in. One state: known. Several: a write whose outcome was not
// reported left it uncertain, until the next read that succeeds. None
// (nil): anything, after a check failed.
type model struct {
	keys     []string
	states   map[string][]poss
	versions map[kv.Version]string // the value each version seen stands for
	seen     []kv.Version          // the versions seen, in order
}

func newModel(keys []string) *model {
	m := &model{keys: keys, states: map[string][]poss{}, versions: map[kv.Version]string{}}
	for _, k := range keys {
		m.states[k] = []poss{{}}
	}
	return m
}

func (m *model) set(key string, p poss) { m.states[key] = []poss{p} }

// saw records that version ver stands for value v.
func (m *model) saw(ver kv.Version, v string) {
	if _, ok := m.versions[ver]; !ok {
		m.versions[ver] = v
		m.seen = append(m.seen, ver)
	}
}

// add records that key may also be in state p.
func (m *model) add(key string, p poss) {
	if s := m.states[key]; s != nil && !slices.Contains(s, p) {
		m.states[key] = append(s, p)
	}
}

// may reports whether key may be in a state that f accepts.
func (m *model) may(key string, f func(poss) bool) bool {
	s := m.states[key]
	return s == nil || slices.ContainsFunc(s, f)
}

// must reports whether key is known to be in a state that f accepts.
func (m *model) must(key string, f func(poss) bool) bool {
	s := m.states[key]
	if s == nil {
		return false
	}
	for _, p := range s {
		if !f(p) {
			return false
		}
	}
	return true
}

// keep narrows key's states to those f accepts (an unknown key stays
// unknown).
func (m *model) keep(key string, f func(poss) bool) {
	if s := m.states[key]; s != nil {
		m.states[key] = slices.DeleteFunc(s, func(p poss) bool { return !f(p) })
	}
}

// String shows the state short: "absent" or the value's head, quoted.
func (p poss) String() string {
	if !p.present {
		return "absent"
	}
	return fmt.Sprintf("%+q", trim(p.value))
}

func present(p poss) bool { return p.present }
func absent(p poss) bool  { return !p.present }
func holds(v string) func(poss) bool {
	return func(p poss) bool { return p.present && p.value == v }
}

// 2,000 mixed operations on one goroutine at 5 % faults, checked against a
// model: no wrong value, no wrong presence and no short listing with a nil
// error; no write reported done that is not; every conflict a real one.
// A write that fails leaves its key uncertain until the next successful
// read. The run is the same for the same seed.
func TestMixedOperationsUnderFaults(t *testing.T) {
	seed := faultSeed(t)
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ops := 2000
		inj := s3test.NewInjector(&s3test.FaultOptions{Rate: 0.05, Seed: seed})
		// One request at a time, in key order: the same faults hit the
		// same requests on every run.
		faulty, clean := mapsOn(t, tg, inj, &bucketmap.Options{Concurrency: 1})
		r := &mixedRun{t: t, inj: inj, rng: rand.New(rand.NewPCG(seed, 7)), m: faulty,
			model: newModel([]string{"a", "b", "c", "d", "e", "f", "dir/g", "dir/h", "dir/sub/i", "z"})}
		start := time.Now()
		for i := range ops {
			r.step(i)
		}
		inj.SetRate(0)
		r.m = clean
		r.op = "final check"
		r.keysOp()
		for _, k := range r.model.keys {
			r.getOp(k)
		}
		st := inj.Stats()
		t.Logf("%d operations in %v: %d requests, %d faults %v; %d listings checked, %d failed, %d with a changed byte not checked; %d check failures",
			ops, time.Since(start).Round(time.Millisecond), st.Requests, st.Faults, st.ByKind, r.listings, r.listErrs, r.tampered, r.failures)
		if r.listings < 2 {
			t.Errorf("only %d listings succeeded: listings were not tested", r.listings)
		}
		if err := clean.Clear(context.Background()); err != nil {
			t.Error(err)
		}
	})
}

// mixedRun is one run of the mixed-operations test.
type mixedRun struct {
	t        *testing.T
	inj      *s3test.Injector
	rng      *rand.Rand
	m        *bucketmap.BucketMap
	model    *model
	op       string // the operation being checked, for messages
	failures int
	listings int // listings checked
	listErrs int // listings that failed
	tampered int // listings whose XML had a byte changed, not checked
}

// listingTampered reports whether a byte of a listing's reply was changed
// since the injector's fault number from. Nothing can catch that over
// plain HTTP: ListObjectsV2 replies carry no checksum, and a changed
// letter in a key name is still a well-formed listing (TLS prevents it).
// So a listing so damaged, and a Clear that deleted what it listed, are
// not checked: only that fault is spared, every other stays checked.
func (r *mixedRun) listingTampered(from int) bool {
	for _, f := range r.inj.Faults()[from:] {
		if f.Operation == "ListObjectsV2" && f.Kind == s3test.ChangeByte {
			r.tampered++
			return true
		}
	}
	return false
}

// fail reports a broken guarantee on key (every key when "") and makes the
// key unknown to the model.
func (r *mixedRun) fail(key, format string, args ...any) {
	r.t.Helper()
	r.failures++
	if r.failures <= 20 {
		r.t.Errorf("%s: %s (model of %q: %v)", r.op, fmt.Sprintf(format, args...), key, r.model.states[key])
	}
	r.model.states[key] = nil
}

func (r *mixedRun) key() string { return r.model.keys[r.rng.IntN(len(r.model.keys))] }

// someKeys returns 1 to 4 distinct keys.
func (r *mixedRun) someKeys() []string {
	n := 1 + r.rng.IntN(4)
	var ks []string
	for len(ks) < n {
		if k := r.key(); !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	return ks
}

// value returns a value no other write used (so that each has its own
// ETag), of 0 to 200 bytes past its unique head.
func (r *mixedRun) value(i int) string {
	b := make([]byte, r.rng.IntN(200))
	for j := range b {
		b[j] = byte(r.rng.IntN(256))
	}
	return fmt.Sprintf("v%d:", i) + string(b)
}

func (r *mixedRun) step(i int) {
	ctx := r.t.Context()
	n := r.rng.IntN(100)
	switch {
	case n < 14:
		k, v := r.key(), r.value(i)
		r.op = fmt.Sprintf("op %d Set(%q)", i, k)
		if err := r.m.Set(ctx, k, []byte(v)); err == nil {
			r.model.set(k, poss{true, v})
		} else {
			r.model.add(k, poss{true, v})
		}
	case n < 28:
		k := r.key()
		r.op = fmt.Sprintf("op %d Get(%q)", i, k)
		r.getOp(k)
	case n < 35:
		k := r.key()
		r.op = fmt.Sprintf("op %d Has(%q)", i, k)
		ok, err := r.m.Has(ctx, k)
		switch {
		case err != nil:
		case ok && !r.model.may(k, present):
			r.fail(k, "Has = true, nil for an absent key")
		case ok:
			r.model.keep(k, present)
		case !r.model.may(k, absent):
			r.fail(k, "Has = false, nil for a present key")
		default:
			r.model.set(k, poss{})
		}
	case n < 42:
		k := r.key()
		r.op = fmt.Sprintf("op %d Delete(%q)", i, k)
		if err := r.m.Delete(ctx, k); err == nil {
			r.model.set(k, poss{})
		} else {
			r.model.add(k, poss{})
		}
	case n < 48:
		r.op = fmt.Sprintf("op %d Keys", i)
		r.keysOp()
	case n < 55:
		ks := r.someKeys()
		r.op = fmt.Sprintf("op %d GetMany(%q)", i, ks)
		values, err := r.m.GetMany(ctx, ks)
		failed := r.batchFailed(err)
		for _, k := range ks {
			v, found := values[k]
			switch {
			case failed == nil || failed[k] != nil:
				if found {
					r.fail(k, "GetMany returned a value for a key it reports failed")
				}
			case found:
				r.gotValue(k, string(v))
			case !r.model.may(k, absent):
				r.fail(k, "GetMany left out a present key without reporting it failed")
			default:
				r.model.set(k, poss{})
			}
		}
	case n < 61:
		items := map[string][]byte{}
		for _, k := range r.someKeys() {
			items[k] = []byte(r.value(i))
		}
		r.op = fmt.Sprintf("op %d SetMany(%d keys)", i, len(items))
		failed := r.batchFailed(r.m.SetMany(ctx, items))
		for k, v := range items {
			if failed != nil && failed[k] == nil {
				r.model.set(k, poss{true, string(v)})
			} else {
				r.model.add(k, poss{true, string(v)})
			}
		}
	case n < 66:
		ks := r.someKeys()
		r.op = fmt.Sprintf("op %d DeleteMany(%q)", i, ks)
		failed := r.batchFailed(r.m.DeleteMany(ctx, ks))
		for _, k := range ks {
			if failed != nil && failed[k] == nil {
				r.model.set(k, poss{})
			} else {
				r.model.add(k, poss{})
			}
		}
	case n < 67:
		r.op = fmt.Sprintf("op %d Clear", i)
		from := len(r.inj.Faults())
		err := r.m.Clear(ctx)
		if err == nil && r.listingTampered(from) {
			err = errors.New("a changed byte in the listing: unknown what Clear deleted")
		}
		for _, k := range r.model.keys {
			if err == nil {
				r.model.set(k, poss{})
			} else {
				r.model.add(k, poss{})
			}
		}
	case n < 85:
		k, v := r.key(), r.value(i)
		r.op = fmt.Sprintf("op %d GetVersion(%q) for CompareAndSwap", i, k)
		old := kv.Version(`"00000000000000000000000000000000"`) // matches nothing
		got, ver, err := r.m.GetVersion(ctx, k)
		if err == nil {
			r.gotValue(k, string(got))
			r.model.saw(ver, string(got))
		}
		if err == nil && r.rng.IntN(3) > 0 {
			old = ver
		} else if r.rng.IntN(2) == 0 {
			if n := len(r.model.seen); n > 0 { // any version seen, most likely stale
				old = r.model.seen[r.rng.IntN(n)]
			}
		}
		r.op = fmt.Sprintf("op %d CompareAndSwap(%q, %s)", i, k, old)
		oldValue, seen := r.model.versions[old]
		matches := func(p poss) bool { return seen && p.present && p.value == oldValue }
		newVer, err := r.m.CompareAndSwap(ctx, k, old, []byte(v))
		switch {
		case err == nil && !r.model.may(k, matches):
			r.fail(k, "CompareAndSwap succeeded although the key's version was not %s", old)
		case err == nil:
			r.model.set(k, poss{true, v})
			r.model.saw(newVer, v)
		case errors.Is(err, kv.ErrConflict) && r.model.must(k, matches):
			r.fail(k, "CompareAndSwap reported a conflict although the key held version %s: %v", old, err)
		case errors.Is(err, kv.ErrConflict):
			r.model.keep(k, func(p poss) bool { return !matches(p) })
		default:
			r.model.add(k, poss{true, v})
		}
	default:
		k, v := r.key(), r.value(i)
		r.op = fmt.Sprintf("op %d SetIfAbsent(%q)", i, k)
		newVer, err := r.m.SetIfAbsent(ctx, k, []byte(v))
		switch {
		case err == nil && !r.model.may(k, absent):
			r.fail(k, "SetIfAbsent succeeded on a present key")
		case err == nil:
			r.model.set(k, poss{true, v})
			r.model.saw(newVer, v)
		case errors.Is(err, kv.ErrConflict) && r.model.must(k, absent):
			r.fail(k, "SetIfAbsent reported a conflict on an absent key: %v", err)
		case errors.Is(err, kv.ErrConflict):
			r.model.keep(k, present)
		default:
			r.model.add(k, poss{true, v})
		}
	}
}

// batchFailed returns nil when err says nothing of single keys (every key
// is then uncertain), else the keys that failed (empty for a nil err).
func (r *mixedRun) batchFailed(err error) map[string]error {
	if err == nil {
		return map[string]error{}
	}
	var be *kv.BatchError
	if errors.As(err, &be) {
		if be.Failed == nil {
			return map[string]error{}
		}
		return be.Failed
	}
	return nil
}

// getOp reads key and checks the answer against the model.
func (r *mixedRun) getOp(k string) {
	v, err := r.m.Get(r.t.Context(), k)
	switch {
	case err == nil:
		r.gotValue(k, string(v))
	case errors.Is(err, kv.ErrNotFound):
		if !r.model.may(k, absent) {
			r.fail(k, "Get reports a present key missing: %v", err)
			return
		}
		r.model.set(k, poss{})
	}
}

// gotValue checks a value read with a nil error and makes it known.
func (r *mixedRun) gotValue(k, v string) {
	if !r.model.may(k, holds(v)) {
		r.fail(k, "read %+q, a value the key never held", trim(v))
		return
	}
	r.model.set(k, poss{true, v})
}

// keysOp lists the keys and checks the listing against the model.
func (r *mixedRun) keysOp() {
	from := len(r.inj.Faults())
	seq, errf := r.m.Keys(r.t.Context())
	var listed []string
	for k := range seq {
		listed = append(listed, k)
	}
	if err := errf(); err != nil {
		r.listErrs++
		return
	}
	if r.listingTampered(from) {
		return
	}
	r.listings++
	for _, k := range listed {
		if !slices.Contains(r.model.keys, k) {
			r.fail("", "listed %q, a key never written", k)
		}
	}
	for _, k := range r.model.keys {
		switch {
		case slices.Contains(listed, k) && !r.model.may(k, present):
			r.fail(k, "listed an absent key")
		case slices.Contains(listed, k):
			r.model.keep(k, present)
		case !r.model.may(k, absent):
			r.fail(k, "a listing with a nil error left out a present key")
		default:
			r.model.set(k, poss{})
		}
	}
}

func trim(v string) string {
	if len(v) > 20 {
		return v[:20] + "..."
	}
	return v
}

// A body cut short (with a matching Content-Length) or with one byte
// changed, on Get, GetVersion, GetIfChanged, GetMany, All and NewReader,
// and through cache.Cache and cache.Tiered: the read returns the true value
// (after a new request) or an error that errors.Is kv.ErrCorrupt
// (storage.ErrCorrupt from a NewReader's Read), never the damaged bytes;
// and no layer keeps them.
func TestDamagedBodiesAreNeverValues(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := t.Context()
		inj := s3test.NewInjector(nil) // scripted faults only
		faulty, clean := mapsOn(t, tg, inj, &bucketmap.Options{Concurrency: 1})
		truth := map[string][]byte{
			"small": []byte("a small value, one request"),
			"large": bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16),
		}
		if err := clean.SetMany(ctx, truth); err != nil {
			t.Fatal(err)
		}
		// check fails t unless the read gave the true value or a
		// corruption error, and the scripted fault was injected.
		check := func(t *testing.T, what, key string, v []byte, err error) {
			t.Helper()
			switch {
			case err == nil && !bytes.Equal(v, truth[key]):
				t.Errorf("%s(%s) returned damaged bytes with a nil error (%d bytes, want %d)", what, key, len(v), len(truth[key]))
			case err != nil && what == "NewReader" && !errors.Is(err, storage.ErrCorrupt):
				// A *storage.Reader's errors are storage's.
				t.Errorf("%s(%s) = %v; want the value or storage.ErrCorrupt", what, key, err)
			case err != nil && what != "NewReader" && !errors.Is(err, kv.ErrCorrupt):
				t.Errorf("%s(%s) = %v; want the value or kv.ErrCorrupt", what, key, err)
			}
			if n := inj.Pending(); n != 0 {
				t.Fatalf("%s(%s): %d scripted faults not used: the test did not test", what, key, n)
			}
		}
		for _, kind := range []s3test.Kind{s3test.CutBody, s3test.ChangeByte} {
			for _, key := range []string{"small", "large"} {
				t.Run(kind.String()+"/"+key, func(t *testing.T) {
					inj.Script("GetObject", kind)
					v, err := faulty.Get(ctx, key)
					check(t, "Get", key, v, err)

					inj.Script("GetObject", kind)
					v, _, err = faulty.GetVersion(ctx, key)
					check(t, "GetVersion", key, v, err)

					inj.Script("GetObject", kind)
					other := map[string]string{"small": "large", "large": "small"}[key]
					values, err := faulty.GetMany(ctx, []string{key, other})
					var be *kv.BatchError
					if errors.As(err, &be) {
						err = be.Failed[key]
					}
					if _, found := values[key]; err == nil && !found {
						t.Errorf("GetMany left out %s without an error", key)
					}
					check(t, "GetMany", key, values[key], err)

					inj.Script("GetObject", kind)
					rd, err := faulty.NewReader(ctx, key)
					if err == nil {
						v, err = io.ReadAll(rd)
						rd.Close()
					}
					check(t, "NewReader", key, v, err)

					inj.Script("GetObject", kind)
					v, _, changed, err := faulty.GetIfChanged(ctx, key, `"0123456789abcdef0123456789abcdef"`)
					if err == nil && !changed {
						t.Errorf("GetIfChanged(%s) with a stale version reports no change", key)
					}
					check(t, "GetIfChanged", key, v, err)

					// All fetches "large", then "small": the fault hits
					// the first.
					inj.Script("GetObject", kind)
					all, errf := faulty.All(ctx)
					for k, v := range all {
						if !bytes.Equal(v, truth[k]) {
							t.Errorf("All yielded damaged bytes for %s", k)
						}
					}
					check(t, "All", "large", truth["large"], errf())

					memory := cache.New(faulty, nil)
					inj.Script("GetObject", kind)
					v, err = memory.Get(ctx, key)
					check(t, "Cache.Get", key, v, err)
					if v, err := memory.Get(ctx, key); err != nil || !bytes.Equal(v, truth[key]) {
						t.Errorf("Cache.Get(%s) after the fault = %d bytes, %v; want the value (the cache kept damaged bytes?)", key, len(v), err)
					}

					near := kv.NewMemory[[]byte]()
					tier := cache.NewTiered(near, faulty, nil)
					inj.Script("GetObject", kind)
					v, err = tier.Get(ctx, key)
					check(t, "Tiered.Get", key, v, err)
					if v, err := near.Get(ctx, key); err == nil && !bytes.Equal(v, truth[key]) {
						t.Errorf("Tiered's near store keeps damaged bytes of %s", key)
					}
					if v, err := tier.Get(ctx, key); err != nil || !bytes.Equal(v, truth[key]) {
						t.Errorf("Tiered.Get(%s) after the fault = %d bytes, %v; want the value", key, len(v), err)
					}
				})
			}
		}
		if st := inj.Stats(); st.Skipped > 0 {
			t.Errorf("%d scripted body faults found no body to damage", st.Skipped)
		}
	})
}

// A value that changes while storage resumes its body after a reset is
// read again from the start: Get returns the new value, not an error (the
// resume, pinned to the old version, fails with 412). kv.Update relies on
// it: under contention, a cut body must not end the update.
func TestGetRereadsValueChangedDuringResume(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := t.Context()
		// The resumed GET is held back long enough to overwrite the
		// value in between; the overwrite waits for the reset, so the
		// order does not depend on timing, only the window does.
		inj := s3test.NewInjector(&s3test.FaultOptions{Delay: 2 * time.Second})
		faulty, clean := mapsOn(t, tg, inj, nil)
		old := bytes.Repeat([]byte("o"), 256<<10)
		newer := bytes.Repeat([]byte("n"), 256<<10)
		if err := clean.Set(ctx, "k", old); err != nil {
			t.Fatal(err)
		}
		inj.Script("GetObject", s3test.ResetMidBody, s3test.Delay)
		overwritten := make(chan error, 1)
		go func() {
			deadline := time.Now().Add(30 * time.Second)
			for !slices.ContainsFunc(inj.Faults(), func(f s3test.Fault) bool { return f.Kind == s3test.ResetMidBody }) {
				if time.Now().After(deadline) {
					overwritten <- errors.New("the reset never happened")
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			overwritten <- clean.Set(ctx, "k", newer)
		}()
		v, err := faulty.Get(ctx, "k")
		if oerr := <-overwritten; oerr != nil {
			t.Fatal(oerr)
		}
		if err != nil {
			t.Fatalf("Get of a value changed during a resumed read: %v", err)
		}
		if !bytes.Equal(v, newer) {
			t.Fatalf("Get returned %d bytes starting %q; want the new value", len(v), v[:min(len(v), 8)])
		}
		if n := inj.Stats().ByOperation["GetObject"]; n < 3 {
			t.Errorf("%d GetObject requests; want the first, its resume and a fresh read", n)
		}
	})
}
