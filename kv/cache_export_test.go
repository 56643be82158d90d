package kv

// CleanUpCache runs the cache's pending maintenance (evictions) now, so
// tests can check the byte bound without waiting for it.
func CleanUpCache(c *Cache) {
	c.entries.CleanUp()
}
