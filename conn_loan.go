package mp

import (
	"context"
	"fmt"

	"github.com/mpgo/mp/internal/connring"
	"github.com/mpgo/mp/internal/descr"
)

// A Loan is memory lent by a Conn for a message of bytes that the caller
// fills in place and then sends, with no copy: on Linux, a Pipe's end lends
// room in the pipe's shared-memory ring, which the other end can read in
// place too (BorrowBytes). A Conn of the portable mechanisms, or one made by
// Listen or Dial, lends memory of its own and sends a copy, so the same
// code runs everywhere.
//
// While a loan is out, other sends on the same end wait (in every process,
// for a ring), so fill it and send it promptly; Close of the Conn waits for
// it. A Loan is used by one goroutine at a time. Its bytes start as
// whatever the memory held, and must not be touched after Send or Cancel:
// in a ring they may hold another message by then.
type Loan struct {
	c    *Conn
	ring *connring.Loan
	own  []byte
	done bool
}

// LendBytes lends n bytes for one message. On a ring it waits for room,
// until ctx ends; n over MaxLoan gives an error matching ErrTooLarge.
func (c *Conn) LendBytes(ctx context.Context, n int) (*Loan, error) {
	if !c.writable {
		return nil, ErrReadOnly
	}
	switch {
	case n < 0:
		return nil, fmt.Errorf("mp: a loan of %d bytes", n)
	case n > c.MaxLoan():
		return nil, fmt.Errorf("%w: a loan of %d bytes, at most %d", ErrTooLarge, n, c.MaxLoan())
	}
	if c.r == nil {
		return &Loan{c: c, own: make([]byte, n)}, nil
	}
	l, err := c.r.Lend(ctx, msgBytes, n)
	if err != nil {
		return nil, err
	}
	return &Loan{c: c, ring: l}, nil
}

// MaxLoan is the largest loan LendBytes makes: a quarter of the ring in
// shared memory (256 KiB for Pipe, a quarter of PipeOptions.RingSize), or,
// on a Conn without a ring, DefaultMaxMessageSize.
func (c *Conn) MaxLoan() int {
	if c.r == nil {
		return DefaultMaxMessageSize
	}
	return c.r.MaxLoan()
}

// Bytes is the lent memory. Write the message into it, then call Send.
func (l *Loan) Bytes() []byte {
	if l.ring != nil {
		return l.ring.Bytes()
	}
	return l.own
}

// Send sends the lent bytes as one message, as SendBytes would, and ends
// the loan.
func (l *Loan) Send(ctx context.Context) error {
	if l.done {
		return ErrClosed
	}
	l.done = true
	if l.ring != nil {
		return l.ring.Send(ctx)
	}
	return l.c.SendBytes(ctx, l.own)
}

// Cancel ends the loan without sending anything.
func (l *Loan) Cancel() {
	if l.done {
		return
	}
	l.done = true
	if l.ring != nil {
		l.ring.Cancel()
	}
}

// Borrowed is a message received in place (BorrowBytes): its bytes stay in
// the pipe's shared memory until Release.
type Borrowed struct {
	ring *connring.Borrowed
	own  []byte
	done bool
}

// BorrowBytes receives the next message and gives it in place, without
// copying it out of the pipe's shared memory where it lies there (a Pipe's
// end on Linux, a message without handles of up to a quarter of the ring:
// MaxLoan); otherwise it receives it as RecvBytes does, handles closed.
// Release it once read: until then other receives on the same end wait (in
// every process, for a ring), and Close of the Conn waits for it. A
// Borrowed is used by one goroutine at a time, and its bytes not after
// Release.
func (c *Conn) BorrowBytes(ctx context.Context) (*Borrowed, error) {
	if !c.readable {
		return nil, ErrWriteOnly
	}
	if c.r == nil {
		b, err := c.RecvBytes(ctx, 0)
		if err != nil {
			return nil, err
		}
		return &Borrowed{own: b}, nil
	}
	b, err := c.r.Borrow(ctx)
	if err != nil {
		return nil, err
	}
	// As RecvBytes does, a message's handles are closed: its bytes are
	// what is asked for.
	descr.Close(b.FDs())
	return &Borrowed{ring: b}, nil
}

// Bytes is the message; it stays valid until Release.
func (b *Borrowed) Bytes() []byte {
	if b.done {
		return nil
	}
	if b.ring != nil {
		return b.ring.Bytes()
	}
	return b.own
}

// Release gives the message's memory back. The bytes must not be used
// after it.
func (b *Borrowed) Release() {
	if b.done {
		return
	}
	b.done = true
	if b.ring != nil {
		b.ring.Release()
	}
	b.own = nil
}
