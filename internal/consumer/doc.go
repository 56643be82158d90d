// Package consumer holds tests that use s3map as another module would: a
// module of its own that requires github.com/s3map/s3map. It has no code.
package consumer
