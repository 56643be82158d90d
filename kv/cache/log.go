package cache

import (
	"context"
	"errors"
	"log/slog"

	"github.com/s3map/s3map/kv"
)

// logger is a layer's Logger option: the zero logger (nil) logs nothing
// and costs one comparison.
type logger struct{ l *slog.Logger }

// log logs msg about key at level, when a Logger is set.
func (lg logger) log(ctx context.Context, level slog.Level, msg, key string, attrs ...slog.Attr) {
	if lg.l == nil || !lg.l.Enabled(ctx, level) {
		return
	}
	lg.l.LogAttrs(ctx, level, msg, append([]slog.Attr{slog.String("key", key)}, attrs...)...)
}

// writeFailed logs that a write of the store behind failed, so the layer
// dropped key's entry: at Warn when the outcome is unknown (the store may
// hold the new value or the old), at Debug for a conflict or another
// failure. A nil err logs nothing.
func (lg logger) writeFailed(ctx context.Context, prefix, key string, err error) {
	switch {
	case err == nil:
	case errors.Is(err, kv.ErrOutcomeUnknown):
		lg.log(ctx, slog.LevelWarn, prefix+": dropped the entry: the outcome of a write is unknown", key, slog.Any("error", err))
	case errors.Is(err, kv.ErrConflict):
		lg.log(ctx, slog.LevelDebug, prefix+": dropped the entry after a conflict", key)
	default:
		lg.log(ctx, slog.LevelDebug, prefix+": dropped the entry after a failed write", key, slog.Any("error", err))
	}
}

// readFailed logs that a read of the store behind said it holds no usable
// value, so the layer dropped key's entry: at Warn for a value that failed
// verification (kv.ErrCorrupt), at Debug for a missing key.
func (lg logger) readFailed(ctx context.Context, prefix, key string, err error) {
	if errors.Is(err, kv.ErrCorrupt) {
		lg.log(ctx, slog.LevelWarn, prefix+": dropped the entry: the store behind holds a corrupt value", key, slog.Any("error", err))
		return
	}
	lg.log(ctx, slog.LevelDebug, prefix+": dropped the entry: the key is gone from the store behind", key)
}
