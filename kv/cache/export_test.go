package cache

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
