package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
)

// leaseState is a held lease's value in the state bucket.
type leaseState struct {
	// Owner tells holders apart; only the holder's own writes carry it.
	Owner string
	// TTL is how long the lease stands after its last write; waiters use
	// the holder's, so every waiter judges by the same rule.
	TTL time.Duration
}

// lease is a held lease on a key: its refresher rewrites the key every
// third of the TTL, so that each write moves the revision on.
type lease struct {
	cl    cell
	data  []byte
	token uint64 // the revision of the acquiring write

	stop chan struct{} // closed to stop the refresher
	done chan struct{} // closed when it has stopped; rev and lost are its until then
	rev  uint64        // the revision of the last write
	lost bool          // another took the key over: this lease ended
}

// acquire takes the lease on cl's key, waiting while another holds it. A
// key that is deleted (released) or absent is taken at once; a key whose
// revision has not moved for its holder's TTL, measured on this process's
// monotonic clock from when this process saw that revision, is taken
// over, and dead reports it. Every take is a write that expects the
// revision seen, so of several waiters exactly one takes the key.
func acquire(ctx context.Context, cl cell, st leaseState) (l *lease, dead bool, err error) {
	data, err := encode(st)
	if err != nil {
		return nil, false, err
	}
	w, err := cl.kv.Watch(ctx, cl.key)
	if err != nil {
		return nil, false, cl.error("watch", err)
	}
	defer w.Stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var cur jetstream.KeyValueEntry
	for {
		take, stale := false, false
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, false, cl.error("lock", ErrClosed)
			}
			if e == nil && cur != nil {
				continue // the end of the initial value
			}
			cur, take = e, e == nil || e.Operation() != jetstream.KeyValuePut
			if !take {
				timer.Reset(cl.ttlOf(e))
			}
		case <-timer.C:
			take, stale = true, true
		case <-ctx.Done():
			return nil, false, fmt.Errorf("cluster: %s %q: %w", cl.kind, cl.name, errs.Deadline(ctx.Err()))
		}
		if !take {
			continue
		}
		l, err := cl.take(ctx, data, cur)
		if l != nil || err != nil {
			return l, stale, err
		}
	}
}

// tryAcquire takes the lease if the key is free now.
func tryAcquire(ctx context.Context, cl cell, st leaseState) (*lease, error) {
	data, err := encode(st)
	if err != nil {
		return nil, err
	}
	_, err = cl.kv.Get(ctx, cl.key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		// Free: Create writes over nothing or over a delete marker.
	case err != nil:
		return nil, cl.error("lock", err)
	default:
		return nil, nil
	}
	return cl.take(ctx, data, nil)
}

// ttlOf returns the TTL a held key's holder declared.
func (cl cell) ttlOf(e jetstream.KeyValueEntry) time.Duration {
	var st leaseState
	if err := decode(e.Value(), &st); err != nil || st.TTL <= 0 {
		return time.Minute // not one of ours: judge it slowly
	}
	return st.TTL
}

// take writes data over cur (nil: over nothing, or a delete marker) and
// starts refreshing it; it returns nil, nil if another write came first.
func (cl cell) take(ctx context.Context, data []byte, cur jetstream.KeyValueEntry) (*lease, error) {
	var rev uint64
	var err error
	if cur == nil {
		rev, err = cl.kv.Create(ctx, cl.key, data)
	} else {
		rev, err = cl.kv.Update(ctx, cl.key, data, cur.Revision())
	}
	if isConflict(err) {
		return nil, nil
	}
	if err != nil {
		return nil, cl.error("lock", err)
	}
	var st leaseState
	decode(data, &st)
	l := &lease{cl: cl, data: data, token: rev, rev: rev, stop: make(chan struct{}), done: make(chan struct{})}
	go l.refresh(st.TTL / 3)
	return l, nil
}

// refresh rewrites the key every period, expecting its own last revision,
// until stopped or until another has taken the key over. A write that
// fails for another reason (the engine out of reach) is tried again next
// period: if the engine stays out of reach for the TTL, waiters take the
// lease over and the next write finds it lost.
func (l *lease) refresh(period time.Duration) {
	defer close(l.done)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), period)
		rev, err := l.cl.kv.Update(ctx, l.cl.key, l.data, l.rev)
		cancel()
		switch {
		case err == nil:
			l.rev = rev
		case isConflict(err):
			l.lost = true
			return
		case isClosed(err):
			return
		}
	}
}

// release stops refreshing and deletes the key if this lease still holds
// it; a lease that was lost gives mp.ErrNotOwner.
func (l *lease) release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	notOwner := fmt.Errorf("cluster: %s %q: the lease expired and another took it: %w", l.cl.kind, l.cl.name, mp.ErrNotOwner)
	if l.lost {
		return notOwner
	}
	err := l.cl.kv.Delete(ctx, l.cl.key, jetstream.LastRevision(l.rev))
	if isConflict(err) {
		return notOwner
	}
	if err != nil {
		return l.cl.error("unlock", err)
	}
	return nil
}
