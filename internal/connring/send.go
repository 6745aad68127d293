package connring

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/futex"
	"github.com/mpgo/mp/internal/transport"
)

// Send sends m: into the ring if it has no descriptors and takes at most
// a quarter of the ring, otherwise as a datagram with a ticket in the
// ring. The descriptors stay the caller's. It blocks while the ring (or
// the socket, for a datagram or a wake) is full, until ctx ends, and
// returns an error matching EPIPE once every copy of the other end is
// closed (a send looks at most once a millisecond while it finds room, so
// one sent within a millisecond of the other end's last close can be
// accepted and lost, as one sent just before it would be).
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
	if e.closed.Load() {
		return errs.ErrClosed
	}
	if err := e.peerGone(false); err != nil {
		return err
	}
	err := e.send(ctx, m)
	if errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNRESET) {
		// The other end is gone (a peer that died with datagrams of ours
		// unread makes the socket report ECONNRESET once): it stays gone.
		e.gone.Store(true)
		return errPeerGone
	}
	return err
}

// send is Send's loop: try, and wait for what stopped the try.
func (e *End) send(ctx context.Context, m transport.Msg) error {
	var p *transport.Prepared
	if len(m.FDs) > 0 || !e.out.fits(len(m.Data)) {
		// A large payload goes into its memfd now, outside the locks,
		// and once only, however many tries the send takes.
		var err error
		if p, err = e.sock.Prepare(m); err != nil {
			return err
		}
		defer p.Close()
	}
	for {
		var w wait
		var err error
		if p != nil {
			w, err = e.tryTicket(ctx, p)
		} else {
			w, err = e.tryPut(ctx, m.Kind, m.Data)
		}
		if err != nil || w.done {
			return err
		}
		if !w.room && !w.sock {
			continue // the room it saw was gone: look again
		}
		if err := e.await(ctx, w); err != nil {
			return err
		}
	}
}

// wait says what a send that could not finish waits for: room in the ring
// (then seen is the count of reads it waits to see change, and it is
// registered as waiting), or room in the socket.
type wait struct {
	done, room, sock bool
	seen             uint32
}

// await waits as w says, with the End's life: Close ends it.
func (e *End) await(ctx context.Context, w wait) error {
	ctx, stop := e.withLife(ctx)
	defer stop()
	var err error
	if w.room {
		err = futex.WaitCtx(ctx, e.out.pops, w.seen)
		e.out.space.Add(^uint32(0))
	} else {
		err = e.sock.AwaitWritable(ctx)
	}
	if e.closed.Load() {
		return errs.ErrClosed
	}
	if err != nil {
		return err
	}
	return e.peerGone(w.room)
}

// tryPut puts a record into the ring, if it has room and the wake it may
// need goes out. It copies the record in with the writers' lock held, and
// takes the state lock only to commit it.
func (e *End) tryPut(ctx context.Context, kind byte, payload []byte) (wait, error) {
	d := &e.out
	if err := e.lock(ctx, d.wlk); err != nil {
		return wait{}, err
	}
	defer d.wlk.Unlock()
	if w, err := e.needRoom(ctx, len(payload)); err != nil || w.room {
		return w, err
	}
	tail, ok, err := d.put(kind, payload)
	if err != nil || !ok {
		return wait{}, err // no room after all: corrupt, or try again
	}
	if err := e.lock(ctx, d.lk); err != nil {
		return wait{}, err
	}
	defer d.lk.Unlock()
	if w, err := e.wakeReaders(d, false); err != nil || !w.done {
		return w, err
	}
	d.tail.Store(tail)
	return wait{done: true}, nil
}

// needRoom looks, with the writers' lock held, whether a record of n
// payload bytes fits; if it does not, it registers (under the state lock,
// where readers commit) as a sender waiting for room, and says so.
func (e *End) needRoom(ctx context.Context, n int) (wait, error) {
	d := &e.out
	if ok, err := d.room(n); ok || err != nil {
		return wait{}, err
	}
	if err := e.lock(ctx, d.lk); err != nil {
		return wait{}, err
	}
	defer d.lk.Unlock()
	if ok, err := d.room(n); ok || err != nil {
		return wait{}, err
	}
	return e.waitForRoom(d), nil
}

// tryTicket sends p as a datagram numbered by a ticket, and puts the
// ticket into the ring, if the ring has room for it and the socket takes
// the datagram (and the wake it may need) at once. The number is reserved
// (committed) before the datagram goes, so that a sender that dies
// between the two, or that cannot send the wake, leaves a datagram no
// ticket names, which readers drop, and never reuses a number. The
// datagram goes under the state lock, so that a reader that empties the
// socket under it never takes a datagram whose ticket is still to come.
func (e *End) tryTicket(ctx context.Context, p *transport.Prepared) (wait, error) {
	d := &e.out
	if err := e.lock(ctx, d.wlk); err != nil {
		return wait{}, err
	}
	defer d.wlk.Unlock()
	if w, err := e.needRoom(ctx, ticketLen); err != nil || w.room {
		return w, err
	}
	seq := d.seq.Load() + 1
	if seq == 0 { // the number wrapped: 0 is no ticket's
		seq = 1
	}
	tail, ok, err := d.put(kindTicket, ticket(seq, p.InlineSize()))
	if err != nil || !ok {
		return wait{}, err
	}
	if err := e.lock(ctx, d.lk); err != nil {
		return wait{}, err
	}
	defer d.lk.Unlock()
	d.seq.Store(seq)
	if err := e.sock.TrySendPrepared(p, seq); err != nil {
		if errors.Is(err, transport.ErrWouldBlock) {
			// Wait for room in the socket without the locks, which the
			// readers that make that room need.
			return wait{sock: true}, nil
		}
		return wait{}, err
	}
	if w, err := e.wakeReaders(d, true); err != nil || !w.done {
		return w, err
	}
	d.tail.Store(tail)
	return wait{done: true}, nil
}

// waitForRoom registers, under the state lock, a sender about to wait for
// room.
func (e *End) waitForRoom(d *dir) wait {
	d.space.Add(1)
	return wait{room: true, seen: d.pops.Load()}
}

// wakeReaders sends a wake to the reading end, before a record is
// committed, if a reader sleeps (or the reading end's descriptor may be
// polled) and no wake is in its socket already; after a ticket's datagram,
// also if one is, needed or not (see the package doc: a reader that takes
// the datagram takes the wakes in front of it, so one must stay behind,
// for a poller that comes later). If the socket
// is full, the record must not be committed: the wake could not be
// counted on to come later. Called with the state lock held.
func (e *End) wakeReaders(d *dir, afterDatagram bool) (wait, error) {
	needed := d.sleepers.Load() != 0 || d.polled.Load() != 0
	flagged := d.wake.Load() != 0
	switch {
	case afterDatagram && (needed || flagged):
		// A wake in front of the datagram, if any, goes with it: one
		// must stay behind.
	case !needed || flagged:
		return wait{done: true}, nil
	}
	switch err := e.sock.TrySend(transport.Msg{Kind: kindWake}); {
	case err == nil:
		d.wake.Store(1)
		return wait{done: true}, nil
	case errors.Is(err, transport.ErrWouldBlock):
		return wait{sock: true}, nil
	default:
		return wait{}, err
	}
}
