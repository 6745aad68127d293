package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/nats-io/nats.go"
)

// LockOptions configure a Lock proxy.
type LockOptions struct {
	// TTL is how long the lock stands after its holder last refreshed it:
	// a holder that stops refreshing (its process killed, its machine cut
	// off from the engine) loses the lock to the next acquirer after TTL.
	// A holder refreshes every third of it. Zero means 10 seconds.
	TTL time.Duration
}

// Lock is a mutual-exclusion lock shared by every process that opens its
// name on the same engine, held as a lease.
//
// The lock is a key of the engine's MP_STATE bucket. Lock writes it if it
// is free (absent or deleted), expecting the revision it saw, so that of
// several acquirers exactly one succeeds; the holder's proxy then rewrites
// it every third of the TTL, and Unlock deletes it. A waiter watches the
// key: it takes a released lock at once, and takes the lock of a holder
// that stopped refreshing once the key's revision has not moved for the
// holder's TTL. That time is measured on the waiter's own monotonic clock,
// from when it saw the revision, so expiry does not depend on the clocks
// of different machines (or of the engine) agreeing, only on their rates;
// the price is that a waiter that comes after the holder died waits one
// whole TTL from its arrival. (The engine's own per-key TTLs would make
// the engine's clock decide, and on a replicated engine the clocks of
// several servers.)
//
// A lease can end while its holder still runs: a holder paused, or cut
// off from the engine, for longer than the TTL loses the lock, and its
// Unlock then returns mp.ErrNotOwner. So Lock returns a fencing token: the
// revision of the write that acquired the lock, strictly greater than the
// token of every earlier acquisition of the same lock. Pass it to the
// systems the lock guards, and have them refuse work carrying a token
// smaller than one they have seen.
//
// A Lock is not reentrant. Its methods are safe for concurrent use; as
// with sync.Mutex, any goroutine may Unlock what another locked through
// the same proxy, but another proxy, in this process or another, may not.
type Lock struct {
	cl  cell
	nc  *nats.Conn
	ttl time.Duration

	// mu guards held.
	mu   sync.Mutex
	held *lease // the lease this proxy holds, nil if none
}

// NewLock opens the lock named name on c. It does not take it.
func NewLock(ctx context.Context, c *Cluster, name string, o *LockOptions) (*Lock, error) {
	ttl := 10 * time.Second
	if o != nil && o.TTL != 0 {
		if o.TTL < 30*time.Millisecond {
			panic("cluster: NewLock with a TTL under 30ms")
		}
		ttl = o.TTL
	}
	cl, err := openCell(ctx, c, "lock", name)
	if err != nil {
		return nil, err
	}
	return &Lock{cl: cl, nc: c.nc, ttl: ttl}, nil
}

// Name returns the lock's name.
func (l *Lock) Name() string { return l.cl.name }

// state is what an acquisition writes: a new owner each time.
func (l *Lock) state() leaseState {
	return leaseState{Owner: randomOwner(), TTL: l.ttl}
}

// Lock acquires the lock, waiting while another holds it, and returns its
// fencing token. If ctx ends first, the error matches ctx's error (and
// mp.ErrTimeout for a deadline) and the lock is not held. If the previous
// holder stopped refreshing its lease, Lock takes the lock over after that
// holder's TTL and returns the token with an error matching
// mp.ErrOwnerDead: the lock is held, and the state it guards may be half
// changed.
func (l *Lock) Lock(ctx context.Context) (uint64, error) {
	ls, dead, err := acquire(ctx, l.nc, l.cl, []string{l.cl.key}, l.state())
	if err != nil {
		return 0, err
	}
	l.hold(ls)
	if dead {
		return ls.token, fmt.Errorf("cluster: lock %q: the holder stopped refreshing it: %w", l.cl.name, mp.ErrOwnerDead)
	}
	return ls.token, nil
}

// TryLock acquires the lock if it is free now, and returns its fencing
// token and true. It never waits, so it never takes over the lock of a
// dead holder: only Lock does, after the TTL.
func (l *Lock) TryLock(ctx context.Context) (uint64, bool, error) {
	ls, err := tryAcquire(ctx, l.cl, []string{l.cl.key}, l.state())
	if ls == nil || err != nil {
		return 0, false, err
	}
	l.hold(ls)
	return ls.token, true, nil
}

func (l *Lock) hold(ls *lease) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = ls
}

// Unlock releases the lock. It returns mp.ErrNotOwner if this proxy does
// not hold it: if it never took it, or if its lease ended (see Lock) and
// another may have taken it.
func (l *Lock) Unlock(ctx context.Context) error {
	l.mu.Lock()
	ls := l.held
	l.held = nil
	l.mu.Unlock()
	if ls == nil {
		return fmt.Errorf("cluster: lock %q: unlock of a lock this proxy does not hold: %w", l.cl.name, mp.ErrNotOwner)
	}
	return ls.release(ctx)
}

// Locked reports whether the lock's key is taken: by a live holder, or by
// a dead one whose lock no Lock has taken over yet (one read cannot tell
// a lease that stopped from one that is refreshed).
func (l *Lock) Locked(ctx context.Context) (bool, error) {
	e, err := l.cl.get(ctx)
	return e != nil, err
}

// holds reports whether this proxy holds the lock, as far as it knows.
func (l *Lock) holds() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held != nil
}
