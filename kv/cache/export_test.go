package cache

import "github.com/s3map/s3map/kv"

// CleanUp runs the cache's pending maintenance (evictions) now, so tests
// can check the byte bound without waiting for it.
func CleanUp(c Cache) {
	switch c := c.(type) {
	case *store:
		c.entries.CleanUp()
	case versionedStore:
		c.entries.CleanUp()
	}
}

// NewSync is New with otter's maintenance (evictions) run at once, in the
// goroutine that caused it, so tests of the byte bound do not depend on
// timing.
func NewSync(back kv.Store[[]byte], opts *Options) Cache {
	return newCache(back, opts, func(f func()) { f() })
}
