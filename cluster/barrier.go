package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Barrier makes a fixed number of parties — processes anywhere that open
// its name on the same engine — wait for each other (Python: a manager's
// Barrier). Each calls Wait; when the last arrives, all are released
// together, and the barrier is ready for the next round.
//
// The barrier is a key of the engine's MP_STATE bucket holding the round
// (a generation number) and how many have arrived; each arrival is a
// write that expects the revision it read, and waiters watch the key. If
// a party's Wait ends early (its context ends) or Abort is called, the
// barrier breaks: every party waiting, and every later Wait until Reset,
// fails with mp.ErrBrokenBarrier.
//
// A party waiting holds a lease on a key of its own, refreshed like a
// Lock's, and the others watch those keys: a party whose process dies, or
// whose machine is cut off, while it waits breaks the barrier once its
// lease has stood still for its TTL, and the others fail with
// mp.ErrBrokenBarrier (Python's Barrier leaves them waiting).
//
// A *Barrier is safe for concurrent use. It holds nothing to close.
type Barrier struct {
	cl      cell
	nc      *nats.Conn
	parties int
	lease   []byte // what a waiting party's lease holds
}

// BarrierOptions configure a Barrier proxy.
type BarrierOptions struct {
	// TTL is how long a waiting party's lease stands after the party last
	// refreshed it, as for a Lock (see LockOptions.TTL): a party that
	// stops refreshing it while it waits breaks the barrier after TTL.
	// Zero means 10 seconds.
	TTL time.Duration
}

// barrierState is the barrier's value.
type barrierState struct {
	// Parties is the number of parties, fixed when the barrier is made.
	Parties int
	// Gen counts the rounds ended, by release or by Reset.
	Gen uint64
	// Arrived is the number of parties waiting in round Gen.
	Arrived int
	// Broken reports round Gen broken.
	Broken bool
	// Resets lists the last rounds that Reset ended (their waiters fail),
	// newest last, at most maxResets.
	Resets []uint64
}

const maxResets = 16

// NewBarrier opens the barrier named name on c, making it for parties
// parties if it does not exist; one that exists keeps its number. It
// panics if parties < 1.
func NewBarrier(ctx context.Context, c *Cluster, name string, parties int, o *BarrierOptions) (*Barrier, error) {
	if parties < 1 {
		panic("cluster: NewBarrier with fewer than 1 party")
	}
	ttl := 10 * time.Second
	if o != nil && o.TTL != 0 {
		if o.TTL < 30*time.Millisecond {
			panic("cluster: NewBarrier with a TTL under 30ms")
		}
		ttl = o.TTL
	}
	lease, err := encode(leaseState{TTL: ttl})
	if err != nil {
		return nil, err
	}
	cl, err := openCell(ctx, c, "barrier", name)
	if err != nil {
		return nil, err
	}
	data, err := encode(barrierState{Parties: parties})
	if err != nil {
		return nil, err
	}
	if _, err := cl.kv.Create(ctx, cl.key, data); err != nil && !isConflict(err) {
		return nil, cl.error("create", err)
	}
	b := &Barrier{cl: cl, nc: c.nc, lease: lease}
	st, _, err := b.state(ctx)
	if err != nil {
		return nil, err
	}
	b.parties = st.Parties
	return b, nil
}

// Name returns the barrier's name.
func (b *Barrier) Name() string { return b.cl.name }

// state reads the barrier's state and its revision.
func (b *Barrier) state(ctx context.Context) (barrierState, uint64, error) {
	var st barrierState
	e, err := b.cl.get(ctx)
	if err != nil {
		return st, 0, err
	}
	if e == nil {
		return st, 0, b.cl.error("read", errors.New("the barrier was deleted"))
	}
	err = decode(e.Value(), &st)
	return st, e.Revision(), err
}

// change applies fn to the state until a write of its result goes
// through; fn returning false writes nothing.
func (b *Barrier) change(ctx context.Context, fn func(*barrierState) (bool, error)) error {
	return b.cl.modify(ctx, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, b.cl.error("read", errors.New("the barrier was deleted"))
		}
		var st barrierState
		if err := decode(cur, &st); err != nil {
			return nil, err
		}
		if ok, err := fn(&st); !ok || err != nil {
			return nil, err
		}
		return encode(st)
	})
}

func (b *Barrier) broken() error {
	return fmt.Errorf("cluster: barrier %q: %w", b.cl.name, mp.ErrBrokenBarrier)
}

// Wait waits until every party has called Wait, and returns the caller's
// arrival index, from 0 for the first to Parties()-1 for the last. It
// returns mp.ErrBrokenBarrier if the barrier is or becomes broken; if
// ctx ends first, Wait breaks the barrier and its error matches ctx's
// error too.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	// Watch before arriving, so that the release cannot pass unseen, and
	// the parties' leases with it.
	w, err := watchKeys(ctx, b.nc, b.cl.kv, []string{b.cl.key, b.cl.key + ".>"}, false)
	if err != nil {
		return 0, b.cl.error("wait", err)
	}
	defer w.stop()
	for {
		st, rev, err := b.state(ctx)
		if err != nil {
			return 0, err
		}
		if st.Broken {
			return 0, b.broken()
		}
		if st.Arrived+1 == st.Parties {
			st.Gen, st.Arrived = st.Gen+1, 0
			if ok, err := b.write(ctx, st, rev); ok || err != nil {
				return st.Parties - 1, err
			}
			continue
		}
		index, gen := st.Arrived, st.Gen
		ls, err := b.cl.take(ctx, b.partyKey(gen, randomOwner()), b.lease, nil)
		if err != nil {
			return 0, err
		}
		st.Arrived++
		ok, err := b.write(ctx, st, rev)
		if ok && err == nil {
			err = b.await(ctx, w, gen, ls.key)
		}
		if rerr := ls.release(ctx); err == nil && !ok {
			err = rerr
		}
		if ok || err != nil {
			return index, err
		}
	}
}

// partyKey is the key of a party waiting in round gen: it holds a lease
// while the party waits.
func (b *Barrier) partyKey(gen uint64, owner string) string {
	return b.cl.key + ".p" + strconv.FormatUint(gen, 10) + "." + owner
}

// write writes st if the state is still at rev, and reports whether it
// did.
func (b *Barrier) write(ctx context.Context, st barrierState, rev uint64) (bool, error) {
	data, err := encode(st)
	if err != nil {
		return false, err
	}
	_, err = b.cl.st.update(ctx, b.cl.key, data, rev)
	if isConflict(err) {
		return false, nil
	}
	if err != nil {
		return false, b.cl.error("write", err)
	}
	return true, nil
}

// await waits for round gen to end, by release, break or Reset, or for a
// party of the round to stop refreshing its lease (which breaks it).
// When the connection to the engine comes back, it makes its watch again,
// which brings the state and the parties' leases again; as acquire does,
// it starts the leases' clocks again then (see acquire).
func (b *Barrier) await(ctx context.Context, w *rewatch, gen uint64, own string) error {
	ws := newWaitState(b.cl, nil)
	defer ws.timer.Stop()
	prefix := b.partyKey(gen, "")
	ended := func() error {
		cerr := errs.WithContext(mp.ErrBrokenBarrier, ctx.Err())
		return errors.Join(fmt.Errorf("cluster: barrier %q: %w", b.cl.name, cerr), b.breakRound(context.WithoutCancel(ctx), gen))
	}
	for {
		select {
		case e, ok := <-w.updates():
			if !ok {
				if err := w.lost(ctx); ctx.Err() != nil {
					return ended()
				} else if err != nil {
					return b.cl.error("wait", err)
				}
				ws.reset()
				break
			}
			if e == nil {
				continue
			}
			if e.Key() != b.cl.key {
				ws.party(e, prefix, own)
				continue
			}
			if done, err := b.ended(e, gen); done {
				return err
			}
		case <-w.reconnected():
			if err := w.restart(ctx); ctx.Err() != nil {
				return ended()
			} else if err != nil {
				return b.cl.error("wait", err)
			}
			ws.reset()
		case <-ws.timer.C:
			if stale := ws.expired(); len(stale) > 0 {
				return b.breakFor(ctx, gen, stale, ws)
			}
		case <-ctx.Done():
			return ended()
		}
		ws.arm()
	}
}

// party records the lease entry e of another party of the round.
func (ws *waitState) party(e jetstream.KeyValueEntry, prefix, own string) {
	k := e.Key()
	if !strings.HasPrefix(k, prefix) || k == own {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(ws.since, k)
		return
	}
	ws.cur[k], ws.since[k] = e, time.Now()
}

// ended reports whether the state e ends round gen, and how.
func (b *Barrier) ended(e jetstream.KeyValueEntry, gen uint64) (bool, error) {
	if e.Operation() != jetstream.KeyValuePut {
		return false, nil
	}
	var st barrierState
	if err := decode(e.Value(), &st); err != nil {
		return true, err
	}
	switch {
	case st.Gen == gen && st.Broken:
		return true, b.broken()
	case st.Gen > gen && slices.Contains(st.Resets, gen):
		return true, b.broken()
	case st.Gen > gen:
		return true, nil
	}
	return false, nil
}

// breakFor breaks round gen because the parties holding the stale keys
// stopped refreshing them, and deletes those keys.
func (b *Barrier) breakFor(ctx context.Context, gen uint64, stale []string, ws *waitState) error {
	err := b.breakRound(ctx, gen)
	for _, k := range stale {
		if derr := b.cl.kv.Delete(ctx, k, jetstream.LastRevision(ws.cur[k].Revision())); derr != nil && !isConflict(derr) && err == nil {
			err = b.cl.error("break", derr)
		}
	}
	return errors.Join(fmt.Errorf("cluster: barrier %q: a waiting party stopped refreshing its lease (its process died?): %w", b.cl.name, mp.ErrBrokenBarrier), err)
}

// breakRound marks round gen broken, unless it ended already.
func (b *Barrier) breakRound(ctx context.Context, gen uint64) error {
	return b.change(ctx, func(st *barrierState) (bool, error) {
		if st.Gen != gen || st.Broken {
			return false, nil
		}
		st.Broken = true
		return true, nil
	})
}

// Abort breaks the barrier: every party waiting, and every later Wait
// until Reset, fails with mp.ErrBrokenBarrier.
func (b *Barrier) Abort(ctx context.Context) error {
	return b.change(ctx, func(st *barrierState) (bool, error) {
		if st.Broken {
			return false, nil
		}
		st.Broken = true
		return true, nil
	})
}

// Reset returns the barrier to its empty state: parties waiting fail with
// mp.ErrBrokenBarrier, and later Waits start a new round.
func (b *Barrier) Reset(ctx context.Context) error {
	return b.change(ctx, func(st *barrierState) (bool, error) {
		st.Resets = append(st.Resets, st.Gen)
		if len(st.Resets) > maxResets {
			st.Resets = st.Resets[len(st.Resets)-maxResets:]
		}
		st.Gen, st.Arrived, st.Broken = st.Gen+1, 0, false
		return true, nil
	})
}

// Parties returns the number of parties the barrier was made for.
func (b *Barrier) Parties() int { return b.parties }

// NWaiting returns the number of parties waiting in the current round.
func (b *Barrier) NWaiting(ctx context.Context) (int, error) {
	st, _, err := b.state(ctx)
	return st.Arrived, err
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken(ctx context.Context) (bool, error) {
	st, _, err := b.state(ctx)
	return st.Broken, err
}
