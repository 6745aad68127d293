package lockcore_test

import (
	"context"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/mptest"
)

// noBackstop makes waiters look for dead owners by themselves only once an
// hour, for the rest of the test: a death they notice within the test's
// bound was noticed by their watch.
func noBackstop(t *testing.T) {
	old := lockcore.Backstop.Swap(int64(time.Hour))
	t.Cleanup(func() { lockcore.Backstop.Store(old) })
}

// A waiter asleep on the lock takes it over when the holder is killed,
// told by its watch, not by a periodic look.
func TestMutexWatchNoticesKill(t *testing.T) {
	mptest.CheckLeaks(t)
	noBackstop(t)
	r, st := newState(t)
	c := startHelper(t, r, "lock-sleep")
	c.expect(t, "locked")
	type result struct {
		died bool
		err  error
	}
	done := make(chan result)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		died, err := st.mu.Lock(ctx)
		done <- result{died, err}
	}()
	waitUntil(t, "the waiter sleeps on the lock", st.mu.HasWaiters)
	c.kill(t)
	if res := <-done; res.err != nil || !res.died {
		t.Fatalf("Lock = %v, %v; want ownerDied well before its 30 s deadline", res.died, res.err)
	}
	st.mu.Unlock()
}

// A waiter asleep on a semaphore takes back the units of a holder that is
// killed, told by its watch.
func TestSemWatchNoticesKill(t *testing.T) {
	mptest.CheckLeaks(t)
	noBackstop(t)
	r, st := newState(t)
	st.sem.Value.Store(2)
	c := startHelper(t, r, "sem-sleep")
	c.expect(t, "acquired")
	h := &lockcore.SemHandle{S: &st.sem}
	type result struct {
		died bool
		err  error
	}
	done := make(chan result)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		died, err := h.Acquire(ctx)
		done <- result{died, err}
	}()
	waitUntil(t, "the waiter sleeps on the semaphore", func() bool { return st.sem.Waiters() == 1 })
	c.kill(t)
	if res := <-done; res.err != nil || !res.died {
		t.Fatalf("Acquire = %v, %v; want ownerDied well before its 30 s deadline", res.died, res.err)
	}
	if h.Held() != 1 || st.sem.Value.Load() != 1 {
		t.Fatalf("after the takeover: held %d, value %d; want 1 and 1", h.Held(), st.sem.Value.Load())
	}
	h.Release()
}
