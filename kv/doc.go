// Package kv is the contract of a map-like store with string keys, its
// reference implementation in memory, and helpers that work on any store.
package kv
