package auth

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/mpgo/mp/internal/errs"
)

// A Retry allows another attempt after a reset, never after a refusal of
// the key or once ctx has ended.
func TestRetry(t *testing.T) {
	reset := fmt.Errorf("dial: %w", syscall.ECONNRESET)
	var r Retry
	for i := range 3 {
		if !r.Again(context.Background(), reset) {
			t.Fatalf("attempt %d after a reset: no retry", i+1)
		}
	}
	if r.Again(context.Background(), fmt.Errorf("handshake: %w", errs.ErrAuthentication)) {
		t.Error("a retry after a refused key")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r.Again(ctx, reset) {
		t.Error("a retry after ctx ended")
	}
	late := Retry{start: r.start.Add(-RetryFor), tries: 5}
	if late.Again(context.Background(), reset) {
		t.Error("a retry after RetryFor has passed")
	}
}
