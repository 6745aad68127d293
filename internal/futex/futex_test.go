package futex

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/stacks"
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

// A waiter asleep (in the kernel, or between looks where waits poll), with
// no timeout, is woken by Wake.
func TestWake(t *testing.T) {
	var w atomic.Uint32
	done := make(chan struct{})
	go func() {
		for w.Load() == 0 {
			Wait(&w, 0, -1)
		}
		close(done)
	}()
	for deadline := time.Now().Add(20 * time.Second); !inWait(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the waiter is not asleep in Wait after 20 s")
		}
	}
	w.Store(1)
	WakeAll(&w)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not woken")
	}
}

// inWait reports whether a goroutine sleeps in Wait: in its system call,
// its thread asleep in the kernel (or a few instructions from it, and then
// finds the word changed); or, where Wait polls, parked between looks.
func inWait() bool { return stacks.Count(waitState, "futex.Wait") > 0 }
