package kv_test

import (
	"testing"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
)

func TestTieredConformance(t *testing.T) {
	nearMemory := func(t *testing.T) kv.Store[[]byte] { return kv.NewMemory[[]byte]() }
	nearDir := func(t *testing.T) kv.Store[[]byte] {
		d, _ := newTestDir(t, &kv.DirOptions{NoSync: true})
		return d
	}
	farVersioned := func() kv.Store[[]byte] { return kv.NewMemory[[]byte]() }
	farPlain := func() kv.Store[[]byte] { return layerPlain{kv.NewMemory[[]byte]()} }
	variants := map[string]struct {
		near func(t *testing.T) kv.Store[[]byte]
		far  func() kv.Store[[]byte]
	}{
		"MemoryOverMemory":      {nearMemory, farVersioned},
		"DirOverMemory":         {nearDir, farVersioned},
		"MemoryOverPlainMemory": {nearMemory, farPlain},
		"DirOverPlainMemory":    {nearDir, farPlain},
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] {
				return kv.NewTiered(v.near(t), v.far(), nil)
			}, &kvtest.Options{
				FailingKeys: func(t *testing.T) kv.Store[[]byte] {
					return kv.NewTiered(v.near(t), layerFailingKeys{v.far()}, nil)
				},
			})
		})
	}
}
