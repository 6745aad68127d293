// Package diag holds where mp's logs go: the logger given to mp.SetLogger,
// which takes the records that children forward and mp's own diagnostics
// (a worker replaced, a task killed at its deadline, a lock recovered from
// a dead owner).
package diag

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
)

var (
	logger   atomic.Pointer[slog.Logger] // given to mp.SetLogger
	upstream atomic.Pointer[slog.Logger] // in a child, the logger forwarding to the parent's
)

// Set sets the logger; nil restores the default.
func Set(l *slog.Logger) { logger.Store(l) }

// IsSet reports whether a logger takes mp's own diagnostics: one was set,
// or this is a child whose parent's diagnostics are taken and its own are
// forwarded there.
func IsSet() bool { return logger.Load() != nil || upstream.Load() != nil }

// Forward sends, in a child whose parent has a logger set, the child's own
// diagnostics to l, which forwards them to the parent: unless the child
// sets a logger of its own, they reach the parent's, with the child's pid
// and process name added by the parent.
func Forward(l *slog.Logger) { upstream.Store(l) }

// Forwarded reports whether diagnostics go to the parent, which adds this
// process's pid and name to them.
func Forwarded() bool { return logger.Load() == nil && upstream.Load() != nil }

// Records returns where records forwarded by children go: the logger set,
// or else slog.Default().
func Records() *slog.Logger {
	if l := logger.Load(); l != nil {
		return l
	}
	return slog.Default()
}

var discard = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 100}))

// Logger returns where mp's own diagnostics go: the logger set, or else
// (in a child) the parent's, or else nowhere.
func Logger() *slog.Logger {
	if l := logger.Load(); l != nil {
		return l
	}
	if l := upstream.Load(); l != nil {
		return l
	}
	return discard
}

// MinLevel returns the lowest level the record logger takes, which a child
// is told so that it does not send records nobody wants.
func MinLevel() slog.Level {
	h := Records().Handler()
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		if h.Enabled(context.Background(), l) {
			return l
		}
	}
	return slog.LevelError + 100
}
