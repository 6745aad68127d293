package connring

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/futex"
	"github.com/mpgo/mp/internal/transport"
)

// Send sends m: into the ring if it has no descriptors and takes at most
// a quarter of the ring, otherwise as a datagram with a ticket in the
// ring. The descriptors stay the caller's. It blocks while the ring (or
// the socket, for a datagram) is full, until ctx ends, and returns an
// error matching EPIPE once every copy of the other end is closed.
func (e *End) Send(ctx context.Context, m transport.Msg) error {
	if m.Kind >= FirstOwnKind {
		return fmt.Errorf("connring: message kind %#x is reserved", m.Kind)
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.live.RUnlock()
	if err := e.wmu.Lock(ctx); err != nil {
		return err
	}
	defer e.wmu.Unlock()
	if err := e.peerGone(false); err != nil {
		return err
	}
	ticketed := len(m.FDs) > 0 || !e.out.fits(len(m.Data))
	for {
		var done bool
		var seen uint32
		var err error
		if ticketed {
			done, seen, err = e.tryTicket(ctx, m)
		} else {
			done, seen, err = e.tryPut(ctx, m.Kind, m.Data)
		}
		if done || err != nil {
			return err
		}
		if err := e.awaitRoom(ctx, seen); err != nil {
			return err
		}
	}
}

// tryPut puts a record into the ring if it has room. If it has not, it
// registers as a sender waiting for room and returns the count of reads
// to wait on (awaitRoom).
func (e *End) tryPut(ctx context.Context, kind byte, payload []byte) (done bool, seen uint32, err error) {
	d := &e.out
	if err := lock(ctx, d); err != nil {
		return false, 0, err
	}
	defer d.lk.Unlock()
	tail, ok, err := d.put(kind, payload)
	if err != nil {
		return false, 0, err
	}
	if !ok {
		return false, e.waitForRoom(d), nil
	}
	if err := e.wakeReaders(d); err != nil {
		return false, 0, err
	}
	d.tail.Store(tail)
	return true, 0, nil
}

// tryTicket sends m as a datagram numbered by a ticket, and puts the
// ticket into the ring, if the ring has room for it and the socket takes
// the datagram at once. The number is reserved (committed) before the
// datagram goes, so that a sender that dies between the two leaves a
// datagram no ticket names, which readers drop, and never reuses a number.
func (e *End) tryTicket(ctx context.Context, m transport.Msg) (done bool, seen uint32, err error) {
	for {
		d := &e.out
		if err := lock(ctx, d); err != nil {
			return false, 0, err
		}
		seq := d.seq.Load() + 1
		tail, ok, err := d.put(kindTicket, ticket(seq))
		if err != nil || !ok {
			if err == nil {
				seen = e.waitForRoom(d)
			}
			d.lk.Unlock()
			return false, seen, err
		}
		d.seq.Store(seq)
		m.Seq = seq
		err = e.sock.TrySend(m)
		if err == nil {
			if err = e.wakeBehind(d); err == nil {
				d.tail.Store(tail)
			}
		}
		d.lk.Unlock()
		if !errors.Is(err, transport.ErrWouldBlock) {
			return err == nil, 0, err
		}
		// The socket is full: wait for room in it without the ring's
		// lock, which the readers that make that room need.
		if err := e.sock.AwaitWritable(ctx); err != nil {
			return false, 0, err
		}
	}
}

// waitForRoom registers, under the ring's lock, a sender about to wait for
// room, and returns the count of reads it waits to see change.
func (e *End) waitForRoom(d *dir) uint32 {
	d.space.Add(1)
	return d.pops.Load()
}

// awaitRoom sleeps until a reader has taken a record since seen, or for a
// slice of time after which the caller looks again (and looks whether the
// other end is gone), or until ctx ends.
func (e *End) awaitRoom(ctx context.Context, seen uint32) error {
	d := &e.out
	err := futex.WaitCtx(ctx, d.pops, seen)
	d.space.Add(^uint32(0))
	if err != nil {
		return err
	}
	if e.closed.Load() {
		return errs.ErrClosed
	}
	return e.peerGone(true)
}

// wakeReaders sends a wake to the reading end, before a record is
// committed, if a reader sleeps (or the reading end's descriptor may be
// polled) and no wake is in its socket already. A full socket needs no
// wake: it is readable. Called with the ring's lock held.
func (e *End) wakeReaders(d *dir) error {
	if d.wake.Load() != 0 || (d.sleepers.Load() == 0 && d.polled.Load() == 0) {
		return nil
	}
	return e.sendWake(d)
}

// wakeBehind follows a ticket's datagram with a wake if one is believed to
// be in the socket already (see the package doc: a reader that takes the
// datagram takes the wakes in front of it), and otherwise does what
// wakeReaders does. Called with the ring's lock held.
func (e *End) wakeBehind(d *dir) error {
	if d.wake.Load() != 0 {
		return e.sendWake(d)
	}
	return e.wakeReaders(d)
}

// sendWake sends a wake and sets the wake flag, in that order (see the
// package doc). Called with the ring's lock held.
func (e *End) sendWake(d *dir) error {
	switch err := e.sock.TrySend(transport.Msg{Kind: kindWake}); {
	case err == nil:
		d.wake.Store(1)
	case errors.Is(err, transport.ErrWouldBlock):
	default:
		return err
	}
	return nil
}
