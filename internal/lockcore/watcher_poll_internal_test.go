//go:build !linux || mpportable

package lockcore

import (
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/futex"
	"github.com/mpgo/mp/internal/stacks"
)

// One goroutine polls every followed owner, however many, and ends once
// none is followed; the killed one rings its followers alone.
func TestPollOneGoroutine(t *testing.T) {
	if !canWatch {
		t.Skip("no futex.WaitAny or no process table here")
	}
	a, ca := sleeper(t)
	b, _ := sleeper(t)
	c, _ := sleeper(t)
	wa, wbc := ready(), ready()
	wa.follow(a)
	wbc.follow(b, c)
	if n := pollers(); n != 1 {
		t.Fatalf("%d polling goroutines for three owners, want 1", n)
	}
	ca.Process.Kill()
	for deadline := time.Now().Add(20 * time.Second); !wa.rung(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no ring 20 s after the kill")
		}
	}
	if wbc.rung() {
		t.Fatal("the watch of two live owners rang")
	}
	wa.stop()
	wbc.stop()
	watcher.idle()
	watcher.mu.Lock()
	running := polls.running
	watcher.mu.Unlock()
	if running {
		t.Fatal("the poller runs after every watch stopped")
	}
	// Past idle, the goroutine has only to return.
	for deadline := time.Now().Add(20 * time.Second); pollers() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d polling goroutines 20 s after every watch stopped", pollers())
		}
	}
}

// pollers counts the goroutines the watcher started: on the portable set,
// polling goroutines (one that has not run yet shows as a wrapper of the
// go statement, so they are counted by their creator).
func pollers() int {
	return strings.Count(stacks.Dump(), "created by github.com/mpgo/mp/internal/lockcore.(*watchers).followLocked")
}

func TestPollPeriod(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{{1, pollMin}, {10, pollMin}, {20, 10 * time.Millisecond}, {1000, futex.Slice}} {
		if got := pollPeriod(c.n); got != c.want {
			t.Errorf("pollPeriod(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}
