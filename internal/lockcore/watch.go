package lockcore

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/futex"
	"golang.org/x/sys/unix"
)

// Backstop is how often, in nanoseconds, a waiter looks by itself for a
// dead owner (through procinfo), whatever its watch says. A watch notices
// a death within a millisecond or so with pidfds, within its polling
// period without; the backstop covers what a watch cannot see: a kernel
// without pidfds or futex_waitv, a sandbox that refuses them, a process
// out of descriptors. Tests lengthen it to show
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

// canWatch says whether watches work here: futex.WaitAny to sleep on an
// alarm beside a shared word, and procinfo to tell a dead owner from a
// live one (pidfds, where the watcher uses them, are checked per owner).
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
