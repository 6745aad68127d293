package manager

import (
	"slices"
	"sync"

	"github.com/mpgo/mp"
)

// condObj is a condition variable over a lock object (Python: Condition).
// Its lock, unlock and locked methods are the lock's.
type condObj struct {
	lock *lockObj
	// mu guards waiters.
	mu      sync.Mutex
	waiters []chan struct{}
}

func (cd *condObj) kind() Kind { return KindCond }

func (cd *condObj) blocks(method string) bool { return method == "lock" || method == "wait" }

func (cd *condObj) call(c *call) (any, error) {
	switch c.method {
	case "lock", "unlock", "locked":
		return cd.lock.call(c)
	case "wait":
		return nil, cd.wait(c)
	case "notify", "notify_all":
		return nil, cd.notify(c)
	}
	return nil, unknownMethod(KindCond, c.method)
}

// wait releases the lock, waits for a notification or the end of c's
// context, and takes the lock again.
func (cd *condObj) wait(c *call) error {
	if c.noBlock {
		// Nothing notifies a wait that may not wait: it would only hold
		// the connection's reader.
		return c.waitErr(mp.ErrTimeout)
	}
	depth, err := cd.lock.releaseAll(c)
	if err != nil {
		return err
	}
	ch := make(chan struct{})
	cd.mu.Lock()
	cd.waiters = append(cd.waiters, ch)
	cd.mu.Unlock()
	var waitErr error
	select {
	case <-ch:
	case <-c.ctx.Done():
		cd.mu.Lock()
		if i := slices.Index(cd.waiters, ch); i >= 0 { // not notified meanwhile
			cd.waiters = slices.Delete(cd.waiters, i, i+1)
			waitErr = c.waitErr(mp.ErrTimeout)
		}
		cd.mu.Unlock()
	}
	if err := cd.lock.reacquire(c, depth); err != nil {
		return err
	}
	return waitErr
}

func (cd *condObj) notify(c *call) error {
	cd.lock.mu.Lock()
	owned := cd.lock.ownedByLocked(c)
	cd.lock.mu.Unlock()
	if !owned {
		return mp.ErrNotOwner
	}
	n := -1
	if c.method == "notify" {
		if err := c.arg(0, &n); err != nil {
			return err
		}
	}
	cd.mu.Lock()
	defer cd.mu.Unlock()
	if n < 0 || n > len(cd.waiters) {
		n = len(cd.waiters)
	}
	for _, ch := range cd.waiters[:n] {
		close(ch)
	}
	cd.waiters = slices.Delete(cd.waiters, 0, n)
	return nil
}

// eventObj is a flag that processes wait for (Python: Event).
type eventObj struct {
	// mu guards everything below.
	mu  sync.Mutex
	set bool
	sig signal
}

func (e *eventObj) kind() Kind                { return KindEvent }
func (e *eventObj) blocks(method string) bool { return method == "wait" }

func (e *eventObj) call(c *call) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch c.method {
	case "set":
		e.set = true
		e.sig.changedLocked()
		return nil, nil
	case "clear":
		e.set = false
		return nil, nil
	case "is_set":
		return e.set, nil
	case "wait":
		if !e.sig.waitLocked(c, &e.mu, func() bool { return e.set }) {
			return nil, c.waitErr(mp.ErrTimeout)
		}
		return nil, nil
	}
	return nil, unknownMethod(KindEvent, c.method)
}

// barrierObj lets a number of parties wait for each other (Python:
// Barrier, without the action, which cannot travel).
type barrierObj struct {
	parties int
	// mu guards everything below.
	mu         sync.Mutex
	count      int    // parties waiting in this generation
	generation uint64 // counts completed or reset rounds
	resetGen   uint64 // the last generation ended by a reset, plus one
	broken     bool
	sig        signal
}

func (b *barrierObj) kind() Kind                { return KindBarrier }
func (b *barrierObj) blocks(method string) bool { return method == "wait" }

func (b *barrierObj) call(c *call) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch c.method {
	case "wait":
		return b.waitLocked(c)
	case "abort":
		b.broken = true
		b.sig.changedLocked()
		return nil, nil
	case "reset":
		if b.count > 0 {
			b.resetGen = b.generation + 1
			b.generation++
			b.count = 0
		}
		b.broken = false
		b.sig.changedLocked()
		return nil, nil
	case "parties":
		return b.parties, nil
	case "n_waiting":
		return b.count, nil
	case "broken":
		return b.broken, nil
	}
	return nil, unknownMethod(KindBarrier, c.method)
}

// waitLocked returns the caller's arrival index, 0 to parties-1.
func (b *barrierObj) waitLocked(c *call) (any, error) {
	if b.broken {
		return nil, mp.ErrBrokenBarrier
	}
	gen, index := b.generation, b.count
	b.count++
	if b.count == b.parties {
		b.generation++
		b.count = 0
		b.sig.changedLocked()
		return index, nil
	}
	passed := b.sig.waitLocked(c, &b.mu, func() bool { return b.generation != gen || b.broken })
	switch {
	case !passed: // the context ended: the barrier breaks for everyone, as in Python
		b.broken = true
		b.count--
		b.sig.changedLocked()
		return nil, c.waitErr(mp.ErrBrokenBarrier)
	case b.generation == gen: // aborted while waiting
		b.count--
		return nil, mp.ErrBrokenBarrier
	case b.resetGen == gen+1: // reset while waiting
		return nil, mp.ErrBrokenBarrier
	}
	return index, nil
}
