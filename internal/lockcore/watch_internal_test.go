package lockcore

import (
	"context"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/futex"
)

// sleeper starts a process that sleeps, and returns its identity and the
// command, which the test kills.
func sleeper(t testing.TB) (uint64, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	st, ok := startTime(cmd.Process.Pid)
	if !ok {
		t.Fatal("the sleeper is not alive")
	}
	return makeID(uint32(cmd.Process.Pid), uint32(st)), cmd
}

// ready returns a watch that follows at once, as one does once its waiter
// has waited followAfter.
func ready() *watch { return &watch{since: time.Now().Add(-followAfter)} }

// openFDs counts this process's descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// A watch rings when a followed process exits, not before, and once every
// watch has stopped, the watcher holds no pidfd and runs no goroutine.
func TestWatchRingsOnExit(t *testing.T) {
	if !canWatch {
		t.Skip("no futex_waitv or no /proc here")
	}
	fds := openFDs(t)
	id, cmd := sleeper(t)
	a, b := ready(), ready()
	a.follow(id)
	b.follow(id, self) // this process is never followed
	if len(b.ids) != 1 {
		t.Fatalf("b follows %d owners, want 1", len(b.ids))
	}
	var quiet atomic.Uint32 // a word that nobody changes or wakes
	if a.rung() || b.rung() {
		t.Fatal("rung while the process lives")
	}
	cmd.Process.Kill()
	for _, w := range []*watch{a, b} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for !w.rung() {
			if err := w.sleep(ctx, futex.Word{Addr: &quiet}); err != nil {
				cancel()
				t.Fatalf("no ring after the kill: %v", err)
			}
		}
		cancel()
	}
	a.stop()
	b.stop()
	watcher.idle()
	cmd.Wait()
	if n := len(watcher.owners); n != 0 {
		t.Fatalf("the watcher still has %d owners", n)
	}
	if n := openFDs(t); n != fds {
		t.Fatalf("%d descriptors open, %d before", n, fds)
	}
}

// An owner that is gone already (or whose pid now names another process)
// rings at once, and a watch that stops ends its vigil's goroutine.
func TestWatchGoneOwner(t *testing.T) {
	if !canWatch {
		t.Skip("no futex_waitv or no /proc here")
	}
	id, _ := sleeper(t)
	w := ready()
	w.follow(makeID(1<<29, 7)) // past any pid Linux hands out
	if !w.rung() {
		t.Fatal("no ring for an owner that does not exist")
	}
	w.follow(id ^ 1<<40) // the sleeper's pid with another start time
	if !w.rung() {
		t.Fatal("no ring for a pid that another process reuses")
	}
	w.follow(id)
	if w.rung() || len(w.ids) != 1 {
		t.Fatalf("following a live process: rung, or %d owners followed", len(w.ids))
	}
	w.stop()
	watcher.idle()
}

// A watch follows nobody until its waiter has waited followAfter, and
// sleeps no longer than that meanwhile.
func TestWatchFollowsAfterAWhile(t *testing.T) {
	if !canWatch {
		t.Skip("no futex_waitv or no /proc here")
	}
	id, _ := sleeper(t)
	var w watch
	defer w.stop()
	var quiet atomic.Uint32
	w.follow(id)
	if len(w.ids) != 0 {
		t.Fatal("a fresh watch follows at once")
	}
	for len(w.ids) == 0 {
		if time.Since(w.since) > time.Minute {
			t.Fatal("the watch does not follow after a minute")
		}
		w.sleep(context.Background(), futex.Word{Addr: &quiet})
		w.follow(id)
	}
	if time.Since(w.since) < followAfter {
		t.Fatalf("the watch follows after %v, before %v", time.Since(w.since), followAfter)
	}
}
