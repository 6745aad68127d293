package spin

import (
	"runtime"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	calls := 0
	if !Until(func() bool { calls++; return calls == 3 }) && runtime.GOMAXPROCS(0) > 1 {
		t.Fatal("Until gave up before an answer that came on the third poll")
	}
	start := time.Now()
	if Until(func() bool { return false }) {
		t.Fatal("Until reported an answer that never came")
	}
	if d := time.Since(start); d > 100*Window {
		t.Errorf("Until polled for %v, window %v", d, Window)
	}
}

func TestWaiterGoesColdAndWarm(t *testing.T) {
	var w Waiter
	count := func() int {
		n := 0
		w.Until(func() bool { n++; return false })
		return n
	}
	if n := count(); n < 2 && runtime.GOMAXPROCS(0) > 1 {
		t.Errorf("a fresh waiter polled %d times", n)
	}
	w.Waited(Cold)
	if n := count(); n != 1 {
		t.Errorf("a cold waiter polled %d times, want 1", n)
	}
	w.Waited(Window)
	if n := count(); n < 2 && runtime.GOMAXPROCS(0) > 1 {
		t.Errorf("a waiter warm again polled %d times", n)
	}
	w.SetPolling(false)
	if n := count(); n != 1 {
		t.Errorf("a waiter with polling off polled %d times, want 1", n)
	}
}
