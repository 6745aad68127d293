package manager

import (
	"sync"

	"github.com/mpgo/mp"
)

// lockObj is a mutex or, if reentrant, a reentrant lock. Its owner is the
// connection that acquired it (and, for a reentrant lock, the proxy that
// did). When the owner's connection ends while it holds the lock — its
// process died or lost the network — the lock is released and the next
// acquirer gets it together with mp.ErrOwnerDead.
type lockObj struct {
	reentrant bool
	// mu guards everything below.
	mu        sync.Mutex
	count     int // 0: free; >1 only for a reentrant lock
	conn      *serverConn
	owner     uint64
	ownerDead bool
	sig       signal
}

func (l *lockObj) kind() Kind {
	if l.reentrant {
		return KindReentrantLock
	}
	return KindMutex
}

func (l *lockObj) blocks(method string) bool { return method == "lock" }

func (l *lockObj) call(c *call) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch c.method {
	case "lock":
		return nil, l.lockLocked(c)
	case "unlock":
		return nil, l.unlockLocked(c)
	case "locked":
		return l.count > 0, nil
	}
	return nil, unknownMethod(l.kind(), c.method)
}

// ownedByLocked reports whether c holds the lock.
func (l *lockObj) ownedByLocked(c *call) bool {
	return l.count > 0 && l.conn == c.conn && (!l.reentrant || l.owner == c.owner)
}

// lockLocked acquires the lock for c, waiting while another holds it.
func (l *lockObj) lockLocked(c *call) error {
	if l.reentrant && l.ownedByLocked(c) {
		l.count++
		return nil
	}
	if !l.sig.waitLocked(c, &l.mu, func() bool { return l.count == 0 }) {
		return c.waitErr(mp.ErrTimeout)
	}
	if !c.conn.hold(c.self, l.ownerDied) {
		return connError(c.conn.ctx.Err()) // the caller is gone: nobody to give the lock to
	}
	l.count, l.conn, l.owner = 1, c.conn, c.owner
	if l.ownerDead {
		l.ownerDead = false
		return mp.ErrOwnerDead
	}
	return nil
}

// unlockLocked releases the lock held by c once.
func (l *lockObj) unlockLocked(c *call) error {
	if !l.ownedByLocked(c) {
		return mp.ErrNotOwner
	}
	l.count--
	if l.count == 0 {
		c.conn.unhold(c.self)
		l.conn = nil
		l.sig.changedLocked()
	}
	return nil
}

// ownerDied releases the lock if conn, which has ended, holds it.
func (l *lockObj) ownerDied(conn *serverConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count > 0 && l.conn == conn {
		l.count, l.conn, l.ownerDead = 0, nil, true
		l.sig.changedLocked()
	}
}

// releaseAll releases the lock held by c entirely and returns its depth, for
// a condition variable's wait.
func (l *lockObj) releaseAll(c *call) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ownedByLocked(c) {
		return 0, mp.ErrNotOwner
	}
	depth := l.count
	l.count = 1
	return depth, l.unlockLocked(c)
}

// reacquire takes the lock again after a condition variable's wait, to the
// depth releaseAll returned, whatever c's context says: like Python's
// Condition.wait, Wait returns holding the lock. Only the end of c's
// connection stops it.
func (l *lockObj) reacquire(c *call, depth int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	again := *c
	again.ctx, again.noBlock = c.conn.ctx, false
	err := l.lockLocked(&again)
	if err == nil || err == mp.ErrOwnerDead {
		l.count = depth
	}
	return err
}

// semObj is a counting semaphore; a bounded one may not be released above
// its initial value. Semaphores have no owner: units held by a process that
// dies are not returned (as in Python).
type semObj struct {
	bounded bool
	bound   int
	// mu guards everything below.
	mu    sync.Mutex
	value int
	sig   signal
}

func (s *semObj) kind() Kind {
	if s.bounded {
		return KindBoundedSemaphore
	}
	return KindSemaphore
}

func (s *semObj) blocks(method string) bool { return method == "acquire" }

func (s *semObj) call(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c.method {
	case "acquire":
		if !s.sig.waitLocked(c, &s.mu, func() bool { return s.value > 0 }) {
			return nil, c.waitErr(mp.ErrTimeout)
		}
		s.value--
		return nil, nil
	case "release":
		if s.bounded && s.value >= s.bound {
			return nil, mp.ErrTooManyReleases
		}
		s.value++
		s.sig.changedLocked()
		return nil, nil
	case "value":
		return s.value, nil
	}
	return nil, unknownMethod(s.kind(), c.method)
}
