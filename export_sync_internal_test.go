package mp

import (
	"reflect"
	"runtime"
	"time"

	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/queue"
	"github.com/mpgo/mp/internal/stacks"
)

// Hooks that report who is asleep on a shared object, in every process, so
// that tests act once the other side waits instead of guessing with a
// sleep (see EventWaiters).

// MutexWaiting reports whether a Lock waits for m (its waiters bit; see
// lockcore.Mutex.HasWaiters).
func MutexWaiting(m *Mutex) bool { return m.st.HasWaiters() }

// ReentrantLockWaiting reports whether a Lock of another owner waits for l.
func ReentrantLockWaiting(l *ReentrantLock) bool { return l.st.HasWaiters() }

// SemaphoreWaiters returns how many Acquires sleep on s.
func SemaphoreWaiters(s *Semaphore) int { return s.h.S.Waiters() }

// CondWaiting returns how many waiters of c have no wake-up yet: it counts
// a Wait from the moment it registers, before it releases the lock, and
// stops counting it when a Notify grants it a wake-up (or it gives up).
func CondWaiting(c *Cond) int { return c.st.Waiting() }

// QueueSleepers returns how many getters, putters (and feeders) and
// joiners sleep on q's queue, in every process (any kind of queue).
func QueueSleepers(q interface{ core() *queue.Core }) (getters, putters, joiners int) {
	return q.core().Sleepers()
}

// WaitBlocked returns how many goroutines of this process are asleep in
// Wait: in the poll system call of block (or a few instructions from it,
// and then that poll sees what happened meanwhile).
func WaitBlocked() int {
	return stacks.Count("syscall", runtime.FuncForPC(reflect.ValueOf(block).Pointer()).Name())
}

// SetOwnerBackstop sets how often a waiter looks for a dead owner by
// itself, whatever its watch says (lockcore.Backstop), and returns what
// restores it.
func SetOwnerBackstop(d time.Duration) (restore func()) {
	old := lockcore.Backstop.Swap(int64(d))
	return func() { lockcore.Backstop.Store(old) }
}
