package futex

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/stacks"
)

// A waiter asleep on two words, with no timeout, is woken by a Wake of
// either; one whose second word differs on entry returns at once.
func TestWaitAny(t *testing.T) {
	if !CanWaitAny() {
		t.Skip("no futex_waitv here")
	}
	var a, b atomic.Uint32
	b.Store(1)
	if err := WaitAny([]Word{{Addr: &a}, {Addr: &b}}, time.Hour); err != nil {
		t.Fatalf("WaitAny on a word that differs = %v", err)
	}
	b.Store(0)
	done := make(chan error, 1)
	go func() { done <- WaitAny([]Word{{Addr: &a}, {Addr: &b}}, -1) }()
	for deadline := time.Now().Add(20 * time.Second); stacks.Count(waitAnyState, "futex.WaitAny") == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the waiter is not asleep in WaitAny after 20 s")
		}
	}
	b.Store(1)
	Wake(&b, 1)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("WaitAny woken on its second word = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not woken by its second word")
	}
}

// WaitAnyCtx ends with its context's deadline, and sleeps no longer than
// its limit.
func TestWaitAnyCtxBounds(t *testing.T) {
	if !CanWaitAny() {
		t.Skip("no futex_waitv here")
	}
	var a, b atomic.Uint32
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	var err error
	for err == nil {
		err = WaitAnyCtx(ctx, time.Hour, Word{Addr: &a}, Word{Addr: &b})
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitAnyCtx = %v, want DeadlineExceeded", err)
	}
	start := time.Now()
	if err := WaitAnyCtx(context.Background(), time.Millisecond, Word{Addr: &a}, Word{Addr: &b}); err != nil {
		t.Fatalf("WaitAnyCtx with a 1 ms limit = %v", err)
	}
	if d := time.Since(start); d < time.Millisecond {
		t.Fatalf("WaitAnyCtx with a 1 ms limit returned after %v", d)
	}
}
