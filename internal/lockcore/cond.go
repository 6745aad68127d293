package lockcore

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/futex"
)

// Cond is the shared state of a condition variable: how many wait, how many
// wake-ups were granted and not yet taken, and a sequence word that changes
// at every notification (waiters sleep on it). An internal lock guards the
// counts. Its zero value has no waiters; it must be 8-byte aligned.
//
// A waiter may take a wake-up only if the sequence moved since it entered,
// so a notification goes to processes that were already waiting, never to
// later ones; Notify(n) grants at most n wake-ups, and at most as many as
// there are waiters without one.
//
// The processes that wait are recorded: a sleeping waiter looks for dead
// ones every futex.Slice and discounts them, with any wake-up granted to
// them, so that they do not take later notifications' wake-ups.
type Cond struct {
	lock    Mutex
	seq     atomic.Uint32
	waiters atomic.Uint32
	wakeups atomic.Uint32
	procs   Waiters
}

// Ticket is a waiter's entry, from Enter.
type Ticket struct {
	seq     uint32 // the sequence when it entered
	tracked bool   // recorded in procs
}

// lockInternal takes the internal lock. It is held for a few instructions;
// if a process died inside, the counts are still usable, so ownerDied is
// ignored.
func (c *Cond) lockInternal() { c.lock.Lock(context.Background()) }

// Enter registers the caller as a waiter and returns its ticket. The caller
// holds the condition's lock, and releases it after Enter; then it calls
// Sleep, or Leave if it cannot.
func (c *Cond) Enter() Ticket {
	c.lockInternal()
	defer c.lock.Unlock()
	c.waiters.Add(1)
	return Ticket{seq: c.seq.Load(), tracked: c.procs.Add()}
}

// Leave unregisters a waiter that entered and will not sleep.
func (c *Cond) Leave(t Ticket) {
	c.lockInternal()
	c.leaveLocked(t)
	c.lock.Unlock()
}

func (c *Cond) leaveLocked(t Ticket) {
	c.waiters.Add(^uint32(0))
	if t.tracked {
		c.procs.Remove()
	}
}

// Sleep waits with the ticket Enter returned until the caller is notified
// (nil) or ctx ends (ctx's error). A waiter notified as its context ends
// counts as notified.
func (c *Cond) Sleep(ctx context.Context, t Ticket) error {
	swept := time.Now()
	for {
		werr := futex.WaitCtx(ctx, &c.seq, t.seq)
		c.lockInternal()
		seq := c.seq.Load()
		if seq != t.seq && c.wakeups.Load() > 0 {
			c.wakeups.Add(^uint32(0))
			c.leaveLocked(t)
			c.lock.Unlock()
			return nil
		}
		if werr != nil {
			c.leaveLocked(t)
			c.lock.Unlock()
			return werr
		}
		if time.Since(swept) >= futex.Slice {
			swept = time.Now()
			c.sweepLocked()
		}
		// The wake-ups of the notification, if any, went to others: wait
		// for the next one.
		t.seq = seq
		c.lock.Unlock()
	}
}

// sweepLocked discounts the waiters of processes that died, and the
// wake-ups they can no longer take. The internal lock is held.
func (c *Cond) sweepLocked() {
	dead := c.procs.Sweep()
	if dead == 0 {
		return
	}
	w := c.waiters.Add(-dead)
	if c.wakeups.Load() > w {
		c.wakeups.Store(w)
	}
}

// Notify wakes up to n waiters and returns how many it granted a wake-up.
func (c *Cond) Notify(n int) int {
	c.lockInternal()
	free := int(c.waiters.Load()) - int(c.wakeups.Load())
	k := min(n, free)
	if k > 0 {
		c.wakeups.Add(uint32(k))
		c.seq.Add(1)
	}
	c.lock.Unlock()
	if k > 0 {
		futex.Wake(&c.seq, k)
	}
	return max(k, 0)
}

// Waiting returns how many live waiters have no wake-up yet.
func (c *Cond) Waiting() int {
	c.lockInternal()
	defer c.lock.Unlock()
	c.sweepLocked()
	return int(c.waiters.Load()) - int(c.wakeups.Load())
}
