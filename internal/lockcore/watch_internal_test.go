package lockcore

import (
	"context"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/futex"
	"golang.org/x/sys/unix"
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

// openFDs counts this process's descriptors (below 4096: a test's few),
// asking each number whether it is open, which every system answers.
func openFDs(t *testing.T) int {
	t.Helper()
	n := 0
	for fd := range 4096 {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			n++
		}
	}
	return n
}

// A watch rings when a followed process exits, not before, and once every
// watch has stopped, the watcher holds no descriptor (a pidfd on Linux)
// and runs no goroutine.
func TestWatchRingsOnExit(t *testing.T) {
	if !canWatch {
		t.Skip("no futex.WaitAny or no process table here")
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
		t.Skip("no futex.WaitAny or no process table here")
	}
	id, _ := sleeper(t)
	w := ready()
	w.follow(makeID(1<<29, 7)) // past any pid a system hands out
	if !w.rung() {
		t.Fatal("no ring for an owner that does not exist")
	}
	w.follow(id ^ 1<<40) // the sleeper's pid with another start time
	if !w.rung() {
		t.Fatal("no ring for a pid that another process reuses")
	}
	fds := openFDs(t)
	w.follow(id)
	if w.rung() || len(w.ids) != 1 {
		t.Fatalf("following a live process: rung, or %d owners followed", len(w.ids))
	}
	w.stop()
	watcher.idle()
	if n := openFDs(t); n != fds || len(watcher.owners) != 0 {
		t.Fatalf("after stop: %d descriptors open (%d before), %d owners", n, fds, len(watcher.owners))
	}
}

// A process that claims a semaphore slot while an Acquire sleeps is
// followed too, and its death gives its units back to the sleeper.
func TestSemFollowsNewHolder(t *testing.T) {
	if !canWatch {
		t.Skip("no futex.WaitAny or no process table here")
	}
	old := Backstop.Swap(int64(time.Hour))
	defer Backstop.Store(old)
	var s Sem
	h := &SemHandle{S: &s}
	type result struct {
		died bool
		err  error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		died, err := h.Acquire(ctx)
		done <- result{died, err}
	}()
	for deadline := time.Now().Add(20 * time.Second); s.Waiters() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the Acquire does not sleep after 20 s")
		}
	}
	// A holder of one unit arrives, as mySlot and an Acquire in another
	// process would leave it.
	id, cmd := sleeper(t)
	s.slots[5].held.Store(1)
	s.slots[5].owner.Store(id)
	s.claimed()
	for deadline := time.Now().Add(20 * time.Second); !followed(id); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sleeping Acquire does not follow the new holder after 20 s")
		}
	}
	cmd.Process.Kill()
	if res := <-done; res.err != nil || !res.died {
		t.Fatalf("Acquire = %v, %v; want ownerDied well before its 30 s deadline", res.died, res.err)
	}
	if s.slots[5].owner.Load() != 0 || h.Held() != 1 {
		t.Fatalf("the dead holder's slot is still taken, or this process holds %d units", h.Held())
	}
}

// followed reports whether some watch of this process follows id.
func followed(id uint64) bool {
	watcher.mu.Lock()
	defer watcher.mu.Unlock()
	return watcher.owners[id] != nil
}

// A watch follows nobody until its waiter has waited followAfter, and
// sleeps no longer than that meanwhile.
func TestWatchFollowsAfterAWhile(t *testing.T) {
	if !canWatch {
		t.Skip("no futex.WaitAny or no process table here")
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
