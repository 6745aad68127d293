package lockcore

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/futex"
	"golang.org/x/sys/unix"
)

// Backstop is how often, in nanoseconds, a waiter looks by itself for a
// dead owner (reading /proc), whatever its watch says. A watch notices a
// death within a millisecond or so; the backstop covers what a watch
// cannot see: a kernel without pidfds or futex_waitv, a sandbox that
// refuses them, a process out of descriptors. Tests lengthen it to show
// that the watch alone is enough.
var Backstop atomic.Int64

func init() { Backstop.Store(int64(futex.Slice)) }

// backstopDue reports whether a backstop period has passed since *last,
// and if so moves *last to now.
func backstopDue(last *time.Time) bool {
	if time.Since(*last) < time.Duration(Backstop.Load()) {
		return false
	}
	*last = time.Now()
	return true
}

// A watch is one waiter's lookout for the deaths of the processes it waits
// on (a lock's owner, a semaphore's holders, a barrier's parties). The
// waiter names them with follow before each sleep and sleeps with sleep;
// once it has waited followAfter, the watch follows them, and when one of
// them exits, the process's watcher rings the alarm, which ends the sleep
// at once, and rung tells the waiter to look at once instead of at the
// next backstop. Its zero value watches nothing; stop must be
// called when the waiter is done. A watch is used by one goroutine.
type watch struct {
	// alarm is 1 once a followed owner exited; a futex word in this
	// process's memory, which the waiter sleeps on beside the shared
	// words.
	alarm atomic.Uint32
	ids   []uint64  // the owners followed, each registered once
	since time.Time // when the waiter first asked to follow
}

// followAfter is how long a waiter sleeps before it follows the owners it
// waits on. Most waits end sooner (a holder's critical section is short),
// and following costs some tens of microseconds; a death is then noticed
// at most this much later.
const followAfter = time.Millisecond

// canWatch says whether watches work here: futex_waitv to sleep on an
// alarm beside a shared word, and /proc to tell a dead owner from a live
// one (pidfds are checked per owner).
var canWatch = procOK && futex.CanWaitAny()

// follow makes ids (other processes; this one and zeros are skipped) the
// owners the watch follows, registering new ones and forgetting the rest.
// An owner already gone rings the alarm at once. It does nothing until the
// waiter has waited followAfter since its first call.
func (w *watch) follow(ids ...uint64) {
	if !canWatch {
		return
	}
	if w.since.IsZero() {
		w.since = time.Now()
	}
	if time.Since(w.since) < followAfter {
		return
	}
	keep := w.ids[:0]
	for _, id := range w.ids {
		if contains(ids, id) {
			keep = append(keep, id)
		} else {
			watcher.forget(id, w)
		}
	}
	w.ids = keep
	for _, id := range ids {
		if id == 0 || id == self || contains(w.ids, id) {
			continue
		}
		watcher.register(id, w)
		w.ids = append(w.ids, id)
	}
}

func contains(ids []uint64, id uint64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// stop forgets every owner followed.
func (w *watch) stop() {
	for _, id := range w.ids {
		watcher.forget(id, w)
	}
	w.ids = w.ids[:0]
}

// ring sets the alarm and wakes the waiter. The watcher's lock is held.
func (w *watch) ring() {
	w.alarm.Store(1)
	futex.Wake(&w.alarm, 1)
}

// rung reports whether a followed owner exited since the last call, and
// resets the alarm. The caller then looks for dead owners itself: a death
// after the reset rings again.
func (w *watch) rung() bool { return w.alarm.Swap(0) != 0 }

// sleep waits for a change of the words (shared between processes) or a
// wake-up on one, the alarm, ctx's end, or a slice, whichever comes first,
// and returns ctx's error if it ended. Without followed owners it sleeps on
// the first word alone, and no longer than until the watch may follow.
func (w *watch) sleep(ctx context.Context, words ...futex.Word) error {
	if len(w.ids) > 0 {
		err := futex.WaitAnyCtx(ctx, futex.Slice, append(words, futex.Word{Addr: &w.alarm, Val: 0})...)
		if err != unix.ENOSYS {
			return err
		}
		// Refused since canWatch was set (a sandbox tightened): the
		// backstop remains.
		return futex.WaitCtx(ctx, words[0].Addr, words[0].Val)
	}
	limit := futex.Slice
	if canWatch {
		if left := followAfter - time.Since(w.since); left > 0 {
			limit = left
		}
	}
	return futex.WaitAnyCtx(ctx, limit, words[0])
}

// watcher holds a pidfd for each process that waiters of this process
// follow, and rings their alarms when it exits. Each pidfd sits in Go's
// poller, watched by a goroutine of its own, from the first registration
// of its process to the last forget: a process nobody waits on costs
// nothing. Following an owner costs a pidfd_open, a read of /proc and a
// goroutine, some microseconds, paid only by a waiter that goes to sleep.
var watcher watchers

type watchers struct {
	// mu guards owners and the fields of every vigil in it.
	mu     sync.Mutex
	owners map[uint64]*vigil
	// running counts the vigils' goroutines: idle waits for them.
	running sync.WaitGroup
}

// A vigil is the watcher's pidfd for one owner and the watches that follow
// it.
type vigil struct {
	id      uint64
	f       *os.File // the pidfd, nil if there is none to poll
	watches []*watch
	exited  bool
}

// register adds w to the followers of id, opening a pidfd if id has none.
// An owner that has exited already rings w at once; one that cannot be
// watched (no pidfd: out of descriptors, refused) is left to the backstop.
func (ws *watchers) register(id uint64, w *watch) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	v := ws.owners[id]
	if v == nil {
		v = ws.openLocked(id)
		if ws.owners == nil {
			ws.owners = map[uint64]*vigil{}
		}
		ws.owners[id] = v
	}
	v.watches = append(v.watches, w)
	if v.exited {
		w.ring()
	}
}

// openLocked opens a pidfd for id and starts its goroutine. The pidfd is
// opened before id is checked in /proc: if id is alive after, the pidfd
// names it, not a later process that reused its pid.
func (ws *watchers) openLocked(id uint64) *vigil {
	v := &vigil{id: id}
	fd, err := unix.PidfdOpen(Pid(id), unix.PIDFD_NONBLOCK)
	switch {
	case err == unix.ESRCH:
		v.exited = true
		return v
	case err != nil:
		return v
	case !Alive(id):
		unix.Close(fd)
		v.exited = true
		return v
	}
	v.f = os.NewFile(uintptr(fd), "pidfd")
	ws.running.Add(1)
	go ws.run(v)
	return v
}

// run waits until v's process exits, then rings its followers; or until
// forget sets a past deadline, when nobody follows it any more. It closes
// the pidfd.
func (ws *watchers) run(v *vigil) {
	defer ws.running.Done()
	defer v.f.Close()
	rc, err := v.f.SyscallConn()
	if err != nil {
		return
	}
	// The poller says when the pidfd may be readable; poll says whether
	// it is (the process has exited).
	err = rc.Read(func(fd uintptr) bool {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		return err == nil && n > 0
	})
	if err == nil {
		ws.fire(v)
	}
}

// fire rings the alarms of v's followers; later ones are rung as they
// register.
func (ws *watchers) fire(v *vigil) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.owners[v.id] != v {
		return // forgotten meanwhile
	}
	v.exited = true
	for _, w := range v.watches {
		w.ring()
	}
}

// forget removes w from the followers of id; the last one out ends the
// vigil's goroutine, which closes the pidfd.
func (ws *watchers) forget(id uint64, w *watch) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	v := ws.owners[id]
	if v == nil {
		return
	}
	for i, x := range v.watches {
		if x == w {
			v.watches = append(v.watches[:i], v.watches[i+1:]...)
			break
		}
	}
	if len(v.watches) > 0 {
		return
	}
	delete(ws.owners, id)
	if v.f != nil {
		// A deadline in the past ends the goroutine's Read at once,
		// without the wait that a Close under its feet would have.
		v.f.SetReadDeadline(time.Unix(1, 0))
	}
}

// idle waits until no vigil goroutine runs: every owner followed has been
// forgotten and its pidfd closed.
func (ws *watchers) idle() { ws.running.Wait() }
