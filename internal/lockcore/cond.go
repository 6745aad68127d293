package lockcore

import (
	"context"
	"sync/atomic"

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
type Cond struct {
	lock    Mutex
	seq     atomic.Uint32
	waiters atomic.Uint32
	wakeups atomic.Uint32
}

// lockInternal takes the internal lock. It is held for a few instructions;
// if a process died inside, the counts are still usable, so ownerDied is
// ignored.
func (c *Cond) lockInternal() { c.lock.Lock(context.Background()) }

// Enter registers the caller as a waiter and returns its ticket. The caller
// holds the condition's lock, and releases it after Enter; then it calls
// Sleep, or Leave if it cannot.
func (c *Cond) Enter() uint32 {
	c.lockInternal()
	defer c.lock.Unlock()
	c.waiters.Add(1)
	return c.seq.Load()
}

// Leave unregisters a waiter that entered and will not sleep. A wake-up it
// could take is taken, as Sleep would: left behind, it would be counted
// against the waiters that come later, and a notification could find no
// waiter to grant one to.
func (c *Cond) Leave(ticket uint32) {
	c.lockInternal()
	defer c.lock.Unlock()
	if c.seq.Load() != ticket && c.wakeups.Load() > 0 {
		c.wakeups.Add(^uint32(0))
	}
	c.waiters.Add(^uint32(0))
}

// Sleep waits with the ticket Enter returned until the caller is notified
// (nil) or ctx ends (ctx's error). A waiter notified as its context ends
// counts as notified.
func (c *Cond) Sleep(ctx context.Context, ticket uint32) error {
	for {
		werr := futex.WaitCtx(ctx, &c.seq, ticket)
		c.lockInternal()
		seq := c.seq.Load()
		if seq != ticket && c.wakeups.Load() > 0 {
			c.wakeups.Add(^uint32(0))
			c.waiters.Add(^uint32(0))
			c.lock.Unlock()
			return nil
		}
		if werr != nil {
			c.waiters.Add(^uint32(0))
			c.lock.Unlock()
			return werr
		}
		// The wake-ups of the notification went to others: wait for the
		// next one.
		ticket = seq
		c.lock.Unlock()
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

// Waiting returns how many waiters have no wake-up yet.
func (c *Cond) Waiting() int {
	c.lockInternal()
	defer c.lock.Unlock()
	return int(c.waiters.Load()) - int(c.wakeups.Load())
}
