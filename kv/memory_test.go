package kv_test

import (
	"testing"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/kvtest"
)

func TestMemoryConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store[[]byte] { return kv.NewMemory[[]byte]() }, nil)
}
