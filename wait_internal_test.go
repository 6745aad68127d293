package mp

import (
	"context"
	"sync/atomic"
	"testing"
)

// The stop function of afterFunc returns only once fn, if it has started,
// has finished: Wait's poke must not write to an eventfd closed meanwhile.
// (If stop did not wait, the stopper would mostly see fn unfinished: fn is
// released only once the stopper is about to call stop.)
func TestAfterFuncStopWaitsForFn(t *testing.T) {
	for range 100 {
		ctx, cancel := context.WithCancel(context.Background())
		started, release := make(chan struct{}), make(chan struct{})
		var finished atomic.Bool
		stop := afterFunc(ctx, func() {
			close(started)
			<-release
			finished.Store(true)
		})
		cancel()
		<-started
		calling, seen := make(chan struct{}), make(chan bool)
		go func() {
			close(calling)
			stop()
			seen <- finished.Load()
		}()
		<-calling
		close(release)
		if !<-seen {
			t.Fatal("stop returned while fn was still running")
		}
	}
}
