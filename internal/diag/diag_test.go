package diag

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

// Diagnostics go nowhere by default; to the logger set; in a child, to the
// parent's unless the child sets its own. Records go to slog.Default()
// unless a logger is set.
func TestWhereLogsGo(t *testing.T) {
	t.Cleanup(func() {
		Set(nil)
		Forward(nil)
	})
	ctx := context.Background()
	if Logger().Enabled(ctx, slog.LevelError) || IsSet() || Forwarded() {
		t.Error("by default, diagnostics are logged")
	}
	if Records() != slog.Default() {
		t.Error("by default, records do not go to slog.Default()")
	}
	set := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	Set(set)
	if Logger() != set || Records() != set || !IsSet() || Forwarded() || MinLevel() != slog.LevelWarn {
		t.Error("a logger set takes neither diagnostics nor records, or its level is not followed")
	}
	parent := slog.New(slog.NewTextHandler(io.Discard, nil))
	Forward(parent)
	if Logger() != set || Forwarded() {
		t.Error("a child's own logger does not take its diagnostics")
	}
	Set(nil)
	if Logger() != parent || !Forwarded() || !IsSet() {
		t.Error("a child's diagnostics do not go to its parent's logger")
	}
}
