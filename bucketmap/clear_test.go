package bucketmap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/s3map/s3map/bucketmap"
	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// clearNeighbours puts objects beside root (sharing its start, or its
// parent) and returns their names: Clear of the map at root must leave
// them all.
func clearNeighbours(t *testing.T, st *storage.Storage, root string) []string {
	t.Helper()
	parent := root[:len(root)-len("m/")]
	// (Not parent+"m": servers that keep objects as files cannot hold
	// it beside the directory parent+"m/".)
	names := []string{parent + "l", parent + "m0", parent + "mx/a", parent + "n/a"}
	for _, k := range names {
		if _, err := st.Put(context.Background(), storage.Name{Key: k}, bytes.NewReader([]byte(k)), nil); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

func checkNeighbours(t *testing.T, st *storage.Storage, names []string) {
	t.Helper()
	for _, k := range names {
		ok, _, err := st.Exists(context.Background(), storage.Name{Key: k})
		if err != nil || !ok {
			t.Errorf("%s, outside the cleared map, is gone (%v)", k, err)
		}
	}
}

// A listing reply that names an object outside the map's prefix (here
// rewritten on the way: the second page's first key becomes a neighbour
// that exists) stops Clear with kv.ErrCorrupt, and the neighbour stays.
func TestClearNeverDeletesOutsideThePrefix(t *testing.T) {
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		root := fmt.Sprintf("clear-%d/m/", seq.Add(1))
		neighbours := clearNeighbours(t, tg.Storage, root)
		outside := root[:len(root)-len("m/")] + "n/a"
		firstKey := regexp.MustCompile(`<Key>[^<]*</Key>`)
		st := transported(t, tg, 0, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := next.RoundTrip(r)
				if err != nil || s3test.Operation(r) != "ListObjectsV2" || !r.URL.Query().Has("continuation-token") {
					return resp, err
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					return nil, err
				}
				key := outside
				if bytes.Contains(body, []byte("<EncodingType>url</EncodingType>")) {
					key = url.QueryEscape(key)
				}
				done := false
				body = firstKey.ReplaceAllFunc(body, func(k []byte) []byte {
					if done {
						return k
					}
					done = true
					return []byte("<Key>" + key + "</Key>")
				})
				resp.Body = io.NopCloser(bytes.NewReader(body))
				resp.ContentLength = int64(len(body))
				resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
				return resp, nil
			})
		})
		m, err := bucketmap.New(st, storage.Name{Key: root}, nil)
		if err != nil {
			t.Fatal(err)
		}
		items := map[string][]byte{}
		for i := range 1100 { // two pages
			items[fmt.Sprintf("k%04d", i)] = []byte{byte(i)}
		}
		if err := m.SetMany(ctx, items); err != nil {
			t.Fatal(err)
		}
		err = m.Clear(ctx)
		if !errors.Is(err, kv.ErrCorrupt) {
			t.Errorf("Clear over a listing naming %s: %v; want kv.ErrCorrupt", outside, err)
		}
		checkNeighbours(t, tg.Storage, neighbours)
	})
}

// Under injected faults (resets, errors, cut and changed bodies on every
// request), Clear, repeated until it succeeds, empties the map and
// deletes nothing beside it.
func TestClearUnderFaults(t *testing.T) {
	seed := faultSeed(t)
	s3test.ForEach(t, func(t *testing.T, tg *s3test.Target) {
		ctx := context.Background()
		root := fmt.Sprintf("clear-%d/m/", seq.Add(1))
		neighbours := clearNeighbours(t, tg.Storage, root)
		clean, err := bucketmap.New(tg.Storage, storage.Name{Key: root}, nil)
		if err != nil {
			t.Fatal(err)
		}
		inj := s3test.NewInjector(&s3test.FaultOptions{Rate: 0.3, Seed: seed})
		faulty, err := bucketmap.New(faultyStorage(t, tg, inj), storage.Name{Key: root}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for round := range 3 {
			items := map[string][]byte{}
			for i := range 300 {
				items[fmt.Sprintf("r%d/k%03d", round, i)] = []byte{byte(i)}
			}
			if err := clean.SetMany(ctx, items); err != nil {
				t.Fatal(err)
			}
			// Besides the random ones, the faults that matter most, for
			// sure: a listing damaged or cut, a delete whose outcome is
			// lost.
			inj.Script("ListObjectsV2", s3test.ChangeByte, s3test.CutBody, s3test.ResetMidBody)
			inj.Script("DeleteObjects", s3test.ResetAfter, s3test.InternalErrorAfter)
			cleared, tampered := false, false
			for range 30 {
				from := len(inj.Faults())
				if err = faulty.Clear(ctx); err == nil {
					cleared = true
					// A changed letter in a key name is still a
					// well-formed listing (see listingTampered): that
					// key is left, and the next Clear deletes it.
					for _, f := range inj.Faults()[from:] {
						tampered = tampered || f.Operation == "ListObjectsV2" && f.Kind == s3test.ChangeByte
					}
					break
				}
			}
			if !cleared {
				t.Fatalf("round %d: Clear failed 30 times under faults, the last: %v", round, err)
			}
			if n, err := clean.Len(ctx); (n != 0 && !tampered) || err != nil {
				t.Errorf("round %d: %d keys left after a Clear that succeeded (%v)", round, n, err)
			}
			checkNeighbours(t, tg.Storage, neighbours)
		}
		if st := inj.Stats(); st.Faults < 12 {
			t.Errorf("only %d faults injected: %+v", st.Faults, st)
		}
	})
}
