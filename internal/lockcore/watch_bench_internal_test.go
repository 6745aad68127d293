package lockcore

import "testing"

// BenchmarkFollow measures what a waiter pays to follow one owner and
// forget it: the cost of a watch for a Lock that sleeps.
func BenchmarkFollow(b *testing.B) {
	if !canWatch {
		b.Skip("no futex.WaitAny or no process table here")
	}
	id, _ := sleeper(b)
	for b.Loop() {
		w := ready()
		w.follow(id)
		w.stop()
	}
	watcher.idle()
}
