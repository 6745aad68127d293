//go:build !linux || mpportable

package lockcore

import (
	"time"

	"github.com/mpgo/mp/internal/futex"
)

// Without pidfds, the watcher follows owners by polling: one goroutine
// looks, every period, whether each followed owner is still alive with
// the start time its identity records (procinfo.Read: a read of /proc on
// Linux, a sysctl on macOS and FreeBSD, some microseconds each). One
// goroutine for all owners keeps following many of them cheap: no
// descriptor and no goroutine per owner, and a single timer. It runs only
// while some owner is followed and not yet known to have exited.

// pollMin is the shortest polling period. A death is noticed within it,
// against a millisecond or so with a pidfd, and well within the backstop's
// futex.Slice. A look at one owner costs about 10 µs, so one owner polled
// this often costs 0.2% of a processor.
const pollMin = 5 * time.Millisecond

// pollPerOwner is the period each owner adds beyond ten: with many owners
// the period grows so that the looks cost at most about 2% of a processor,
// up to futex.Slice, where a waiter's own backstop looks as often.
const pollPerOwner = 500 * time.Microsecond

// pollPeriod is the polling period for n owners.
func pollPeriod(n int) time.Duration {
	return min(max(time.Duration(n)*pollPerOwner, pollMin), futex.Slice)
}

// polls is the state of the polling goroutine, guarded by watcher.mu.
var polls struct {
	running bool          // the goroutine runs
	kick    chan struct{} // wakes it at once (capacity 1)
}

// A vigil needs nothing beyond the identity, which the poller checks.
type vigil struct {
	id      uint64
	watches []*watch
	exited  bool
}

// followLocked starts following v's owner: it rings at once if the owner
// is gone, and otherwise makes sure the polling goroutine runs.
func (ws *watchers) followLocked(v *vigil) {
	if !Alive(v.id) {
		v.exited = true
		return
	}
	if polls.running {
		return
	}
	if polls.kick == nil {
		polls.kick = make(chan struct{}, 1)
	}
	polls.running = true
	ws.running.Add(1)
	go ws.poll(polls.kick)
}

// unfollowLocked wakes the polling goroutine when nobody is followed any
// more, so that it ends at once rather than at its next look.
func (ws *watchers) unfollowLocked(*vigil) {
	if len(ws.owners) == 0 && polls.running {
		select {
		case polls.kick <- struct{}{}:
		default:
		}
	}
}

// poll looks at the followed owners every period and rings the followers
// of those that exited, until no owner is left to look at.
func (ws *watchers) poll(kick <-chan struct{}) {
	defer ws.running.Done()
	t := time.NewTimer(pollMin)
	defer t.Stop()
	var ids, dead []uint64
	for {
		select {
		case <-t.C:
		case <-kick:
		}
		ws.mu.Lock()
		ids = ids[:0]
		for id, v := range ws.owners {
			if !v.exited {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			polls.running = false
			ws.mu.Unlock()
			return
		}
		ws.mu.Unlock()
		// The looks run without the lock, which waiters that go to sleep
		// or wake take. A death is permanent: an owner seen dead stays so
		// even if its vigil was forgotten and made again meanwhile.
		dead = dead[:0]
		for _, id := range ids {
			if !Alive(id) {
				dead = append(dead, id)
			}
		}
		if len(dead) > 0 {
			ws.mu.Lock()
			for _, id := range dead {
				if v := ws.owners[id]; v != nil {
					ws.fireLocked(v)
				}
			}
			ws.mu.Unlock()
		}
		t.Reset(pollPeriod(len(ids)))
	}
}
