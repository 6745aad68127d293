package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
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
// Unlike mp.Barrier, a party whose process dies while it waits is not
// noticed: the others wait until their contexts end, which breaks the
// barrier. Give every Wait a deadline.
//
// A *Barrier is safe for concurrent use. It holds nothing to close.
type Barrier struct {
	cl      cell
	parties int
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
func NewBarrier(ctx context.Context, c *Cluster, name string, parties int) (*Barrier, error) {
	if parties < 1 {
		panic("cluster: NewBarrier with fewer than 1 party")
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
	b := &Barrier{cl: cl}
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
	for {
		st, rev, err := b.state(ctx)
		if err != nil {
			return err
		}
		if ok, err := fn(&st); !ok || err != nil {
			return err
		}
		data, err := encode(st)
		if err != nil {
			return err
		}
		_, err = b.cl.kv.Update(ctx, b.cl.key, data, rev)
		if !isConflict(err) {
			if err != nil {
				return b.cl.error("write", err)
			}
			return nil
		}
	}
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
	// Watch before arriving, so that the release cannot pass unseen.
	w, err := b.cl.kv.Watch(ctx, b.cl.key, jetstream.UpdatesOnly())
	if err != nil {
		return 0, b.cl.error("wait", err)
	}
	defer w.Stop()
	var index int
	var gen uint64
	last := false
	err = b.change(ctx, func(st *barrierState) (bool, error) {
		if st.Broken {
			return false, b.broken()
		}
		index, gen = st.Arrived, st.Gen
		last = st.Arrived+1 == st.Parties
		if last {
			st.Gen, st.Arrived = st.Gen+1, 0
		} else {
			st.Arrived++
		}
		return true, nil
	})
	if err != nil || last {
		return index, err
	}
	return index, b.await(ctx, w, gen)
}

// await waits for round gen to end, by release, break or Reset.
func (b *Barrier) await(ctx context.Context, w jetstream.KeyWatcher, gen uint64) error {
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return b.cl.error("wait", ErrClosed)
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			var st barrierState
			if err := decode(e.Value(), &st); err != nil {
				return err
			}
			switch {
			case st.Gen == gen && st.Broken:
				return b.broken()
			case st.Gen > gen && slices.Contains(st.Resets, gen):
				return b.broken()
			case st.Gen > gen:
				return nil
			}
		case <-ctx.Done():
			cerr := errs.WithContext(mp.ErrBrokenBarrier, ctx.Err())
			err := b.change(context.WithoutCancel(ctx), func(st *barrierState) (bool, error) {
				if st.Gen != gen || st.Broken {
					return false, nil
				}
				st.Broken = true
				return true, nil
			})
			return errors.Join(fmt.Errorf("cluster: barrier %q: %w", b.cl.name, cerr), err)
		}
	}
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
