package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cond is a condition variable shared by every process that opens its
// name on the same engine, used with a Lock (Python: a manager's
// Condition).
//
// A waiter registers as a key of the engine's MP_STATE bucket (the
// cond's key, a dot, and a random name), watches it, and releases the
// lock; Notify deletes the oldest registrations, which wakes their
// waiters, who take the lock again. A registration is deleted by its
// waiter when its context ends, unless a Notify deleted it first, in
// which case the Wait counts as notified. A waiter whose process dies
// leaves its registration behind, and a later Notify may spend a wake on
// it; NotifyAll is not affected.
//
// A *Cond is safe for concurrent use.
type Cond struct {
	cl cell
	nc *nats.Conn
	l  *Lock
}

// NewCond opens the condition variable named name on c, used with l.
func NewCond(ctx context.Context, c *Cluster, name string, l *Lock) (*Cond, error) {
	if l == nil {
		panic("cluster: NewCond with a nil Lock")
	}
	cl, err := openCell(ctx, c, "cond", name)
	if err != nil {
		return nil, err
	}
	return &Cond{cl: cl, nc: c.nc, l: l}, nil
}

// Name returns the condition variable's name.
func (cd *Cond) Name() string { return cd.cl.name }

// Lock locks the Cond's lock (see Lock.Lock).
func (cd *Cond) Lock(ctx context.Context) (uint64, error) { return cd.l.Lock(ctx) }

// Unlock unlocks the Cond's lock (see Lock.Unlock).
func (cd *Cond) Unlock(ctx context.Context) error { return cd.l.Unlock(ctx) }

// Wait releases the lock, which this process's proxy must hold (else
// mp.ErrNotOwner), waits until notified or until ctx ends, and takes the
// lock again, whatever happened, before it returns. It returns nil when
// notified, and an error that matches ctx's error (and mp.ErrTimeout for
// a deadline) when ctx ended first. If the lock's holder died meanwhile,
// Wait holds the lock and its error matches mp.ErrOwnerDead.
func (cd *Cond) Wait(ctx context.Context) error {
	if !cd.l.holds() {
		return fmt.Errorf("cluster: cond %q: wait without the lock: %w", cd.cl.name, mp.ErrNotOwner)
	}
	key := cd.cl.key + "." + randomOwner()
	w, err := watchKeys(ctx, cd.nc, cd.cl.kv, []string{key}, true)
	if err != nil {
		return cd.cl.error("wait", err)
	}
	defer w.stop()
	rev, err := cd.cl.kv.Create(ctx, key, []byte{0xf6}) // CBOR null
	if err != nil {
		return cd.cl.error("wait", err)
	}
	if err := cd.l.Unlock(ctx); err != nil {
		cd.cl.kv.Delete(context.WithoutCancel(ctx), key)
		return err
	}
	sleepErr := cd.sleep(ctx, w, key, rev)
	if _, err := cd.l.Lock(context.WithoutCancel(ctx)); err != nil {
		return errors.Join(sleepErr, err)
	}
	return sleepErr
}

// sleep waits until key is deleted by a Notify, or ctx ends; then it
// deletes key itself, unless a Notify did just before. When the
// connection to the engine comes back, it watches again from key as it is
// then, so that a Notify made while its watch was gone is seen at once:
// a key that the new watch does not list, or lists deleted, was deleted.
func (cd *Cond) sleep(ctx context.Context, w *rewatch, key string, rev uint64) error {
	listing, listed := false, false // the new watch's first entries; key among them
	for {
		select {
		case <-w.reconnected():
			if err := w.restart(ctx); err != nil {
				return cd.cl.rewatchError(ctx, err)
			}
			listing, listed = true, false
		case e, ok := <-w.updates():
			if !ok {
				if err := w.lost(ctx); err != nil {
					return cd.cl.rewatchError(ctx, err)
				}
				listing, listed = true, false
				break
			}
			switch {
			case e == nil:
				if listing && !listed {
					return nil
				}
				listing = false
			case e.Operation() != jetstream.KeyValuePut:
				return nil
			default:
				listed = true
			}
		case <-ctx.Done():
			err := cd.cl.kv.Delete(context.WithoutCancel(ctx), key, jetstream.LastRevision(rev))
			if isConflict(err) {
				return nil // a Notify came first
			}
			return errors.Join(fmt.Errorf("cluster: cond %q: %w", cd.cl.name, errs.Deadline(ctx.Err())), err)
		}
	}
}

// WaitFor waits until cond returns true (Python: wait_for). It calls cond
// with the lock held, first at once and then after every notification. If
// ctx ends first, it returns nil if cond holds by then, and Wait's error
// otherwise. An mp.ErrOwnerDead from Wait is returned at once, lock held.
func (cd *Cond) WaitFor(ctx context.Context, cond func(ctx context.Context) (bool, error)) error {
	for {
		ok, err := cond(ctx)
		if ok || err != nil {
			return err
		}
		if err := cd.Wait(ctx); err != nil {
			if errors.Is(err, mp.ErrOwnerDead) {
				return err
			}
			if ok, cerr := cond(context.WithoutCancel(ctx)); ok && cerr == nil {
				return nil
			}
			return err
		}
	}
}

// Notify wakes up to n waiters, the longest waiting first. This process's
// proxy of the lock must hold it, else mp.ErrNotOwner.
func (cd *Cond) Notify(ctx context.Context, n int) error {
	if !cd.l.holds() {
		return fmt.Errorf("cluster: cond %q: notify without the lock: %w", cd.cl.name, mp.ErrNotOwner)
	}
	waiters, err := cd.waiters(ctx)
	if err != nil {
		return err
	}
	for _, e := range waiters {
		if n <= 0 {
			break
		}
		err := cd.cl.kv.Delete(ctx, e.Key(), jetstream.LastRevision(e.Revision()))
		switch {
		case err == nil:
			n--
		case !isConflict(err):
			return cd.cl.error("notify", err)
		}
	}
	return nil
}

// waiters lists the registrations of the waiters, oldest first. The list
// comes from a watch, which starts again if the connection to the engine
// comes back meanwhile.
func (cd *Cond) waiters(ctx context.Context) ([]jetstream.KeyValueEntry, error) {
	w, err := watchKeys(ctx, cd.nc, cd.cl.kv, []string{cd.cl.key + ".*"}, false, jetstream.IgnoreDeletes(), jetstream.MetaOnly())
	if err != nil {
		return nil, cd.cl.error("notify", err)
	}
	defer w.stop()
	var waiters []jetstream.KeyValueEntry
	for {
		select {
		case e, ok := <-w.updates():
			if !ok {
				if err := w.lost(ctx); err != nil {
					return nil, cd.cl.rewatchError(ctx, err)
				}
				waiters = waiters[:0]
				break
			}
			if e == nil {
				return waiters, nil
			}
			waiters = append(waiters, e)
		case <-w.reconnected():
			if err := w.restart(ctx); err != nil {
				return nil, cd.cl.rewatchError(ctx, err)
			}
			waiters = waiters[:0]
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: cond %q: %w", cd.cl.name, errs.Deadline(ctx.Err()))
		}
	}
}

// NotifyAll wakes every waiter; the lock must be held, as for Notify.
func (cd *Cond) NotifyAll(ctx context.Context) error { return cd.Notify(ctx, 1<<30) }
