package futex

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitCtxDeadline(t *testing.T) {
	var w atomic.Uint32
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	var err error
	for err == nil {
		err = WaitCtx(ctx, &w, 0)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitCtx = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 25*time.Millisecond || d > 5*time.Second {
		t.Fatalf("WaitCtx with a 30 ms deadline took %v", d)
	}
}

func TestWaitValueChanged(t *testing.T) {
	var w atomic.Uint32
	w.Store(1)
	if Wait(&w, 0, time.Second) {
		t.Fatal("Wait on a word that differs timed out instead of returning at once")
	}
}

func TestWake(t *testing.T) {
	var w atomic.Uint32
	done := make(chan struct{})
	go func() {
		for w.Load() == 0 {
			Wait(&w, 0, -1)
		}
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	w.Store(1)
	WakeAll(&w)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not woken")
	}
}
