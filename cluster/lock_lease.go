package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
	key   string
	data  []byte
	token uint64 // the revision of the acquiring write

	stop chan struct{} // closed to stop the refresher
	done chan struct{} // closed when it has stopped; rev and lost are its until then
	rev  uint64        // the revision of the last write
	lost bool          // another took the key over: this lease ended
}

// acquire takes a lease on one of keys (keys of cl's bucket; several
// only when they are cl.key's children, cl.key.*), waiting while others
// hold them all. A key that is deleted (released) or absent is taken at
// once; a key whose revision has not moved for its holder's TTL, measured
// on this process's monotonic clock from when this process saw that
// revision, is taken over, and dead reports it. Every take is a write that
// expects the revision seen, so of several waiters exactly one takes a
// key.
//
// When the connection to the engine comes back (the engine may have
// restarted, and its watch with it), acquire makes its watch again and
// starts over from the keys' current entries: a key released or expired
// meanwhile is taken then. The clock of every held key starts again too,
// as if its revision had just changed: its holder could not refresh it
// while the engine was away either, so the outage is not held against
// it, and a holder that died meanwhile is taken over one TTL after the
// engine's return. (Holders reconnect within moments of each other:
// reconnect waits are short.)
func acquire(ctx context.Context, nc *nats.Conn, cl cell, keys []string, st leaseState) (l *lease, dead bool, err error) {
	// A free key is taken without a watch, which costs the engine a
	// consumer.
	if l, err := tryAcquire(ctx, cl, keys, st); l != nil || err != nil {
		return l, false, err
	}
	data, err := encode(st)
	if err != nil {
		return nil, false, err
	}
	filter := cl.key
	if len(keys) > 1 {
		filter = cl.key + ".*"
	}
	w, err := watchKeys(ctx, nc, cl.kv, []string{filter}, false)
	if err != nil {
		return nil, false, cl.error("watch", err)
	}
	defer w.stop()
	ws := newWaitState(cl, keys)
	defer ws.timer.Stop()
	for {
		var try []string
		stale := false
		select {
		case e, ok := <-w.updates():
			if !ok {
				if err := w.lost(ctx); err != nil {
					return nil, false, cl.rewatchError(ctx, err)
				}
				ws.reset() // the new watch brings every key's entry again
				break
			}
			try = ws.saw(e)
		case <-w.reconnected():
			if err := w.restart(ctx); err != nil {
				return nil, false, cl.rewatchError(ctx, err)
			}
			ws.reset() // the new watch brings every key's entry again
		case <-ws.timer.C:
			try, stale = ws.expired(), true
		case <-ctx.Done():
			return nil, false, fmt.Errorf("cluster: %s %q: %w", cl.kind, cl.name, errs.Deadline(ctx.Err()))
		}
		for _, key := range try {
			l, err := cl.take(ctx, key, data, ws.cur[key])
			if l != nil || err != nil {
				return l, stale, err
			}
			// Another write came first; the watch will bring it, and
			// until then the key is not worth trying.
			delete(ws.since, key)
		}
		ws.arm()
	}
}

// waitState is what acquire knows of the keys it waits for.
type waitState struct {
	cl     cell
	keys   []string
	cur    map[string]jetstream.KeyValueEntry // each key's last entry seen
	since  map[string]time.Time               // held keys: when their last entry was seen
	listed bool                               // the initial entries are all in
	timer  *time.Timer                        // fires at the first lease to expire
}

func newWaitState(cl cell, keys []string) *waitState {
	ws := &waitState{cl: cl, keys: keys, cur: map[string]jetstream.KeyValueEntry{}, since: map[string]time.Time{}}
	ws.timer = time.NewTimer(time.Hour)
	ws.timer.Stop()
	return ws
}

// reset forgets what was seen, for a watch made again.
func (ws *waitState) reset() {
	clear(ws.cur)
	clear(ws.since)
	ws.listed = false
}

// saw records entry e (nil: the end of the initial entries) and returns
// the keys worth trying to take.
func (ws *waitState) saw(e jetstream.KeyValueEntry) []string {
	if e == nil {
		ws.listed = true
		var absent []string
		for _, k := range ws.keys {
			if ws.cur[k] == nil {
				absent = append(absent, k)
			}
		}
		return absent
	}
	k := e.Key()
	if !slices.Contains(ws.keys, k) {
		return nil
	}
	ws.cur[k] = e
	if e.Operation() != jetstream.KeyValuePut {
		delete(ws.since, k)
		return []string{k}
	}
	ws.since[k] = time.Now()
	return nil
}

// expired returns the held keys whose revision has stood still for their
// TTL.
func (ws *waitState) expired() []string {
	var keys []string
	for k, t := range ws.since {
		if time.Since(t) >= ws.cl.ttlOf(ws.cur[k]) {
			keys = append(keys, k)
		}
	}
	return keys
}

// arm sets the timer to the first lease to expire.
func (ws *waitState) arm() {
	ws.timer.Stop()
	first := time.Duration(-1)
	for k, t := range ws.since {
		if d := time.Until(t.Add(ws.cl.ttlOf(ws.cur[k]))); first < 0 || d < first {
			first = max(d, 0)
		}
	}
	if first >= 0 {
		ws.timer.Reset(first)
	}
}

// tryAcquire takes a lease on one of keys if one is free now.
func tryAcquire(ctx context.Context, cl cell, keys []string, st leaseState) (*lease, error) {
	data, err := encode(st)
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		// Create writes if the key is absent or deleted, and reads it to
		// tell which.
		if l, err := cl.take(ctx, key, data, nil); l != nil || err != nil {
			return l, err
		}
	}
	return nil, nil
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
func (cl cell) take(ctx context.Context, key string, data []byte, cur jetstream.KeyValueEntry) (*lease, error) {
	var expect uint64 // 0: the key is not there, or deleted
	if cur != nil {
		expect = cur.Revision()
	}
	// Through the store, so that a write whose answer was lost with the
	// engine's death is recognised as ours, not left as a lease nobody
	// refreshes.
	rev, err := cl.st.update(ctx, key, data, expect)
	if isConflict(err) {
		return nil, nil
	}
	if err != nil {
		return nil, cl.error("lock", err)
	}
	var st leaseState
	decode(data, &st)
	l := &lease{cl: cl, key: key, data: data, token: rev, rev: rev, stop: make(chan struct{}), done: make(chan struct{})}
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
		rev, err := l.cl.kv.Update(ctx, l.key, l.data, l.rev)
		cancel()
		switch {
		case err == nil:
			l.rev = rev
		case isConflict(err):
			if rev, ok := l.mine(period); ok {
				l.rev = rev
				continue
			}
			l.lost = true
			return
		case isClosed(err):
			return
		}
	}
}

// mine reports whether the key still holds this lease's own write, and
// its revision: a write whose reply was lost (the engine stopped between
// taking it and answering) leaves rev behind the key's revision, and
// only this lease writes its data, which names its owner.
func (l *lease) mine(timeout time.Duration) (uint64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	e, err := l.cl.kv.Get(ctx, l.key)
	if err != nil || e.Operation() != jetstream.KeyValuePut || !bytes.Equal(e.Value(), l.data) {
		return 0, false
	}
	return e.Revision(), true
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
	// The delete is cleanup that others wait for: a ctx already ended must
	// not leave the key to expire, which would report this holder dead.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	err := l.cl.kv.Delete(dctx, l.key, jetstream.LastRevision(l.rev))
	if isConflict(err) {
		rev, ok := l.mine(ackTimeout)
		if !ok {
			return notOwner
		}
		err = l.cl.kv.Delete(dctx, l.key, jetstream.LastRevision(rev))
		if isConflict(err) {
			return notOwner
		}
	}
	if err != nil {
		return l.cl.error("unlock", err)
	}
	return nil
}

// randomOwner names a new holder.
func randomOwner() string { return rand.Text() }
