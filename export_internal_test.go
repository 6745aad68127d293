package mp

import (
	"time"

	"github.com/mpgo/mp/internal/pool"
)

// EventWaiters returns how many wait on e now, in every process: tests use
// it to act once every waiter is asleep instead of guessing with a sleep.
func EventWaiters(e *Event) int { return e.st.Waiters() }

// SetKillGrace sets how long a task past its deadline may take to return
// before its worker is killed, and returns what restores the default.
func SetKillGrace(d time.Duration) (restore func()) {
	old := pool.KillGrace.Swap(int64(d))
	return func() { pool.KillGrace.Store(old) }
}

// PoolRunning returns how many of p's workers are running a task now:
// tests use it to act once tasks have started instead of guessing with a
// sleep.
func PoolRunning(p *Pool) int { return p.e.Running() }

// ConnMagic is the protocol magic of Listen and Dial's handshake, for
// tests that play a peer by hand.
const ConnMagic = connMagic
