//go:build !linux || mpportable

package futex

import (
	"sync/atomic"
	"testing"
	"time"
)

// Where waits poll, a Wake in this process ends them at once, though their
// words never change (so no look could end them), one sleeper per count,
// and it counts the sleepers it woke.
func TestWakePollers(t *testing.T) {
	var a, b atomic.Uint32
	done := make(chan time.Duration, 2)
	for _, ws := range [][]Word{{{Addr: &a}, {Addr: &b}}, {{Addr: &b}, {Addr: &a}}} {
		go func() {
			start := time.Now()
			WaitAny(ws, time.Minute)
			done <- time.Since(start)
		}()
	}
	for deadline := time.Now().Add(20 * time.Second); parked.Load() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sleepers have not parked after 20 s")
		}
	}
	if n := Wake(&b, 1); n != 1 {
		t.Fatalf("Wake(1) of two sleepers = %d, want 1", n)
	}
	if d := <-done; d > 30*time.Second {
		t.Fatalf("a sleeper woken by Wake returned after %v", d)
	}
	if n := WakeAll(&a); n != 1 {
		t.Fatalf("WakeAll of the one sleeper left = %d, want 1", n)
	}
	if d := <-done; d > 30*time.Second {
		t.Fatalf("a sleeper woken by WakeAll returned after %v", d)
	}
	if n := parked.Load(); n != 0 {
		t.Fatalf("%d pollers still parked", n)
	}
	if n := WakeAll(&a); n != 0 {
		t.Fatalf("WakeAll with no sleeper = %d", n)
	}
}
