//go:build !linux || mpportable

package lockcore

import (
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
	if n := stacks.Count("", "lockcore.(*watchers).poll"); n != 1 {
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
	if n := stacks.Count("", "lockcore.(*watchers).poll"); n != 0 || polls.running {
		t.Fatalf("%d polling goroutines after every watch stopped", n)
	}
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
