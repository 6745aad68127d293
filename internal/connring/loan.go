package connring

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
	"golang.org/x/sys/unix"
)

// A Loan is room in the ring lent to a sender, to fill in place: the
// message crosses without a copy. The sender holds the writers' lock (and
// this End's send side) until it sends or cancels the loan, so other
// senders of the direction wait meanwhile. A Loan is used by one
// goroutine at a time; its bytes must not be touched after Send or
// Cancel (they are the ring's, and may hold another record by then).
type Loan struct {
	e    *End
	buf  []byte
	kind byte
	done bool
}

// MaxLoan is the largest loan the End's ring can make: a quarter of it.
func (e *End) MaxLoan() int { return int(e.out.size / 4) }

// Lend returns n bytes of the ring, to be sent with Loan.Send as one
// message of kind, once filled. It waits for room, until ctx ends, and
// gives an error matching errs.ErrTooLarge if n is over MaxLoan. Close
// waits for the loan to end.
func (e *End) Lend(ctx context.Context, kind byte, n int) (*Loan, error) {
	if kind >= FirstOwnKind {
		return nil, fmt.Errorf("connring: message kind %#x is reserved", kind)
	}
	if n < 0 || !e.out.fits(n) {
		return nil, fmt.Errorf("%w: a loan of %d bytes, at most %d", errs.ErrTooLarge, n, e.MaxLoan())
	}
	if err := e.enter(); err != nil {
		return nil, err
	}
	l, err := e.lend(ctx, kind, n)
	if err != nil {
		e.live.RUnlock()
		return nil, err
	}
	return l, nil
}

// lend is Lend once the End is held open: it returns holding the End's
// send side and the writers' lock, or holding nothing.
func (e *End) lend(ctx context.Context, kind byte, n int) (*Loan, error) {
	if err := e.wmu.Lock(ctx); err != nil {
		return nil, err
	}
	if err := e.peerGone(false); err != nil {
		e.wmu.Unlock()
		return nil, err
	}
	d := &e.out
	for {
		if e.closed.Load() {
			e.wmu.Unlock()
			return nil, errs.ErrClosed
		}
		if err := e.lock(ctx, d.wlk); err != nil {
			e.wmu.Unlock()
			return nil, err
		}
		w, err := e.needRoom(ctx, n)
		if err == nil && !w.room {
			return &Loan{e: e, buf: d.lent(n), kind: kind}, nil
		}
		d.wlk.Unlock()
		if err == nil {
			err = e.await(ctx, w)
		}
		if err != nil {
			e.wmu.Unlock()
			return nil, err
		}
	}
}

// Bytes is the lent memory, to fill before Send. It is shared with the
// other end: a reader sees it only once sent.
func (l *Loan) Bytes() []byte { return l.buf }

// Send sends the lent bytes as one message and ends the loan. A send to a
// closed end gives an error matching EPIPE; the loan ends either way.
func (l *Loan) Send(ctx context.Context) error {
	if l.done {
		return errs.ErrClosed
	}
	e, d := l.e, &l.e.out
	defer l.end()
	// The room after the tail only grew since the loan was made: place
	// writes the header (and the wrap before it) around the filled bytes.
	_, tail, ok, err := d.place(l.kind, len(l.buf))
	if err != nil {
		return err
	}
	if !ok {
		return corrupt("a loan's room is gone")
	}
	if err := e.peerGone(false); err != nil {
		return err
	}
	err = l.commit(ctx, tail)
	if errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNRESET) {
		e.gone.Store(true)
		return errPeerGone
	}
	return err
}

// commit commits the loan's record, once its wake (if needed) is out.
// The state lock is waited for with ctx alone: Close waits for the loan.
func (l *Loan) commit(ctx context.Context, tail uint64) error {
	e, d := l.e, &l.e.out
	for {
		if err := lock(ctx, d.lk); err != nil {
			return err
		}
		w, err := e.wakeReaders(d, false)
		if err == nil && w.done {
			d.tail.Store(tail)
		}
		d.lk.Unlock()
		if err != nil || w.done {
			return err
		}
		if err := e.await(ctx, w); err != nil { // a full socket, for the wake
			return err
		}
	}
}

// Cancel ends the loan without sending.
func (l *Loan) Cancel() {
	if !l.done {
		l.end()
	}
}

func (l *Loan) end() {
	l.done = true
	l.buf = nil
	l.e.out.wlk.Unlock()
	l.e.wmu.Unlock()
	l.e.live.RUnlock()
}

// A Borrowed message is the message at the head of the ring, read in
// place: the reader holds the readers' lock (and this End's receive side)
// until Release, so other readers of the direction wait meanwhile (and
// Poll or mp.Wait elsewhere may see it waiting, though another receive
// would wait for its Release). A Borrowed is used by one goroutine at a
// time; its bytes must not be touched after Release.
type Borrowed struct {
	e    *End
	m    transport.Msg
	head uint64
	// inRing: the bytes are the ring's, given back by Release; otherwise
	// they are the message's own (a ticket's datagram).
	inRing bool
	done   bool
}

// Borrow receives the next message without copying it out of the ring, as
// RecvInto would receive it otherwise. A message that travelled as a datagram
// (descriptors, or over a quarter of the ring) is received into memory of
// its own. Release gives the ring's memory back; Close waits for it.
func (e *End) Borrow(ctx context.Context) (*Borrowed, error) {
	if err := e.enter(); err != nil {
		return nil, err
	}
	b, err := e.borrow(ctx)
	if err != nil {
		e.live.RUnlock()
		return nil, err
	}
	return b, nil
}

func (e *End) borrow(ctx context.Context) (*Borrowed, error) {
	if err := e.rmu.Lock(ctx); err != nil {
		return nil, err
	}
	d := &e.in
	for {
		if e.closed.Load() {
			e.rmu.Unlock()
			return nil, errs.ErrClosed
		}
		e.wait.Until(e.notEmpty)
		if err := e.lock(ctx, d.rlk); err != nil {
			e.rmu.Unlock()
			return nil, err
		}
		kind, payload, head, ok, err := d.next()
		if err == nil && ok && kind != kindTicket {
			if len(payload) > e.limit() {
				err = e.commitLocked(context.Background(), d, head, true)
				d.rlk.Unlock()
				e.rmu.Unlock()
				if err == nil {
					err = fmt.Errorf("%w: %d bytes, cap %d", errs.ErrTooLarge, len(payload), e.limit())
				}
				return nil, err
			}
			return &Borrowed{e: e, m: transport.Msg{Kind: kind, Data: payload[:len(payload):len(payload)]}, head: head, inRing: true}, nil
		}
		d.rlk.Unlock()
		if err != nil {
			e.rmu.Unlock()
			return nil, err
		}
		// A ticket, or nothing yet: take it as RecvInto does.
		m, got, err := e.take(ctx, nil)
		switch {
		case err != nil:
			e.rmu.Unlock()
			return nil, err
		case got == taken:
			return &Borrowed{e: e, m: m}, nil
		case got == asleep:
			if err := e.sleep(ctx); err != nil {
				e.rmu.Unlock()
				return nil, err
			}
		}
	}
}

// Kind is the message's kind.
func (b *Borrowed) Kind() byte { return b.m.Kind }

// Bytes is the message's bytes; they stay valid until Release.
func (b *Borrowed) Bytes() []byte { return b.m.Data }

// FDs are the message's descriptors, which the caller owns.
func (b *Borrowed) FDs() []int { return b.m.FDs }

// Release ends the borrowing: the ring's memory goes back to the senders.
func (b *Borrowed) Release() {
	if b.done {
		return
	}
	b.done = true
	e, d := b.e, &b.e.in
	if b.inRing {
		// The state lock is waited for whatever happens, Close included
		// (the memory stays mapped until this returns): the message is
		// taken, and the ring must know it, or it would be taken twice.
		lock(context.Background(), d.lk)
		e.commit(d, b.head)
		e.settle(d)
		d.lk.Unlock()
		d.rlk.Unlock()
	}
	b.m.Data = nil
	e.rmu.Unlock()
	e.live.RUnlock()
}
