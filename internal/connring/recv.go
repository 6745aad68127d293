package connring

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/futex"
	"github.com/mpgo/mp/internal/transport"
)

// RecvInto receives the next message, blocking until one comes or ctx ends. It
// returns io.EOF once every copy of the other end is closed and every
// message sent has been received. If buf is long enough for the message's
// bytes, they are received into it (the message's Data is then a prefix
// of buf); otherwise into memory of their own. The caller owns the
// message's descriptors.
func (e *End) RecvInto(ctx context.Context, buf []byte) (transport.Msg, error) {
	if err := e.enter(); err != nil {
		return transport.Msg{}, err
	}
	defer e.live.RUnlock()
	if err := e.rmu.Lock(ctx); err != nil {
		return transport.Msg{}, err
	}
	defer e.rmu.Unlock()
	if e.closed.Load() {
		return transport.Msg{}, errs.ErrClosed
	}
	start := time.Now()
	defer func() { e.wait.Waited(time.Since(start)) }()
	for {
		e.wait.Until(e.notEmpty)
		m, got, err := e.take(ctx, buf)
		if got == taken || err != nil {
			return m, err
		}
		if got == asleep {
			if err := e.sleep(ctx); err != nil {
				return transport.Msg{}, err
			}
		}
	}
}

// Poll waits until a message can be received without blocking, or the
// other end is closed, and reports whether one can; it returns false, nil
// when ctx ends first. With an ended ctx it answers at once.
func (e *End) Poll(ctx context.Context) (bool, error) {
	if err := e.enter(); err != nil {
		return false, err
	}
	defer e.live.RUnlock()
	if err := e.rmu.Lock(ctx); err != nil {
		return false, nil
	}
	defer e.rmu.Unlock()
	if e.closed.Load() {
		return false, errs.ErrClosed
	}
	for {
		if !e.in.empty() {
			return true, nil
		}
		ready, registered, err := e.lookEmpty(ctx, ctx.Err() == nil)
		if ready || err != nil || !registered {
			return ready, err
		}
		// Registered as a sleeper: sleep, which unregisters.
		if err := e.sleep(ctx); err != nil {
			// The poller's deadline may pass a moment before ctx's timer.
			if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
				return false, nil
			}
			return false, err
		}
	}
}

// Armed makes the socket readable whenever a message waits, from now
// on, for a caller that polls its descriptor (mp.Wait), and reports
// whether a message (or the end of the stream) waits now. It gives up,
// reporting false, when ctx ends.
func (e *End) Armed(ctx context.Context) (bool, error) {
	if err := e.enter(); err != nil {
		return false, err
	}
	defer e.live.RUnlock()
	d := &e.in
	d.polled.Store(1)
	if !d.empty() {
		return true, nil
	}
	ready, _, err := e.lookEmpty(ctx, false)
	return ready, err
}

// Fd returns the descriptor to poll for this end's messages, or -1 once
// closed: the socket, which is readable while a message waits or once the
// other end is closed. Handing it out makes every sender keep that
// true from then on. A message that already waited when Fd was first
// called may not make it readable until the next one comes: check Poll
// with an ended context first, as mp.Wait does.
func (e *End) Fd() int {
	if e.enter() != nil {
		return -1
	}
	defer e.live.RUnlock()
	fd := -1
	e.sock.Control(func(f int) { fd = f })
	e.in.polled.Store(1)
	return fd
}

// lookEmpty takes the readers' and the state lock and, if the ring is
// empty, clears the socket of leftovers; it reports true if the ring holds
// a message or the other end is gone. With register, an empty ring
// registers this process as a sleeper before the locks are let go (see
// sleep), and registered says so.
func (e *End) lookEmpty(ctx context.Context, register bool) (ready, registered bool, err error) {
	d := &e.in
	if err := e.lock(ctx, d.rlk); err != nil {
		return false, false, ctxQuiet(ctx, err)
	}
	defer d.rlk.Unlock()
	if err := e.lock(ctx, d.lk); err != nil {
		return false, false, ctxQuiet(ctx, err)
	}
	defer d.lk.Unlock()
	return e.emptyLocked(d, register)
}

// emptyLocked is lookEmpty with both locks held.
func (e *End) emptyLocked(d *dir, register bool) (ready, registered bool, err error) {
	if !d.empty() {
		return true, false, nil
	}
	eof, err := e.clearSocket(d)
	if eof || err != nil {
		return eof, false, err
	}
	if register {
		d.sleepers.Add(1)
	}
	return false, register, nil
}

// ctxQuiet turns the error of a wait that its context ended into none: a
// poll that ran out of time found nothing.
func ctxQuiet(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// sleep waits, registered as a sleeper, until the socket is readable,
// ctx ends or the End closes; then it unregisters. It does not hold the
// socket's receiving lock meanwhile: another goroutine's Armed may empty
// the socket under the state lock.
func (e *End) sleep(ctx context.Context) error {
	lctx, stop := e.withLife(ctx)
	ready, err := e.sock.WaitReadable(lctx)
	stop()
	e.in.sleepers.Add(^uint32(0))
	switch {
	case e.closed.Load():
		return errs.ErrClosed
	case err != nil:
		return err
	case !ready:
		if err := ctx.Err(); err != nil {
			return err
		}
		return context.DeadlineExceeded
	}
	return nil
}

// What take did.
type took int

const (
	none   took = iota // found nothing, or a record came meanwhile: look again
	taken              // took a message
	asleep             // found the ring empty and registered as a sleeper
)

// take takes the message at the head of the ring, if there is one. With
// an empty ring, it looks for the end of the stream and, if the other end
// is open, registers as a sleeper. It holds the readers'
// lock throughout, and the state lock only to commit, settle the wake and
// register.
func (e *End) take(ctx context.Context, buf []byte) (transport.Msg, took, error) {
	d := &e.in
	if err := e.lock(ctx, d.rlk); err != nil {
		return transport.Msg{}, none, err
	}
	defer d.rlk.Unlock()
	kind, payload, head, ok, err := d.next()
	if err != nil {
		return transport.Msg{}, none, err
	}
	if !ok {
		if err := e.lock(ctx, d.lk); err != nil {
			return transport.Msg{}, none, err
		}
		defer d.lk.Unlock()
		ready, registered, err := e.emptyLocked(d, true)
		switch {
		case err != nil:
			return transport.Msg{}, none, err
		case registered:
			return transport.Msg{}, asleep, nil
		case ready && d.empty():
			return transport.Msg{}, none, io.EOF
		}
		return transport.Msg{}, none, nil
	}
	if kind == kindTicket {
		seq, size := ticketOf(payload)
		if err := e.commitLocked(ctx, d, head, false); err != nil {
			return transport.Msg{}, none, err
		}
		m, err := e.takeDatagram(seq, e.ticketBuf(buf, size))
		// The message is taken: settle whatever ctx says (the wait is short).
		e.settleLocked(context.Background(), d)
		return m, taken, err
	}
	if len(payload) > e.limit() {
		if err := e.commitLocked(ctx, d, head, true); err != nil {
			return transport.Msg{}, none, err
		}
		return transport.Msg{}, none, fmt.Errorf("%w: %d bytes, cap %d", errs.ErrTooLarge, len(payload), e.limit())
	}
	var data []byte
	if len(payload) <= len(buf) {
		data = buf[:len(payload):len(payload)]
		copy(data, payload)
	} else {
		// Appending to nil makes memory that is not cleared first, since
		// the copy fills it: fresh memory costs one pass, not two.
		data = append([]byte(nil), payload...)
	}
	if err := e.commitLocked(ctx, d, head, true); err != nil {
		return transport.Msg{}, none, err
	}
	return transport.Msg{Kind: kind, Data: data}, taken, nil
}

// commitLocked takes the state lock and commits taking a record (commit);
// with settle, it also settles the wake (settle).
func (e *End) commitLocked(ctx context.Context, d *dir, head uint64, settle bool) error {
	if err := e.lock(ctx, d.lk); err != nil {
		return err
	}
	defer d.lk.Unlock()
	e.commit(d, head)
	if settle {
		e.settle(d)
	}
	return nil
}

// settleLocked takes the state lock and settles the wake.
func (e *End) settleLocked(ctx context.Context, d *dir) error {
	if err := e.lock(ctx, d.lk); err != nil {
		return err
	}
	defer d.lk.Unlock()
	e.settle(d)
	return nil
}

// commit moves the head past a record taken, and wakes senders waiting
// for room. Called with both locks held.
func (e *End) commit(d *dir, head uint64) {
	d.head.Store(head)
	d.pops.Add(1)
	if d.space.Load() != 0 {
		futex.WakeAll(d.pops)
	}
}

// settle keeps the socket unreadable while the ring is empty: after a
// take that emptied the ring, it clears the wake flag and then takes the
// wake out (in that order: a death in between leaves a wake without a
// record, a spurious wake-up, and never a record without a wake). Called
// with both locks held.
func (e *End) settle(d *dir) {
	if !d.empty() || d.wake.Load() == 0 {
		return
	}
	e.clearSocket(d)
}

// clearSocket empties the socket, with both locks held and the ring
// empty, and reports whether the other end is gone. With no ticket in the
// ring, what the socket holds is left over: wakes, and the datagrams of
// senders that died before writing their tickets, whose descriptors are
// closed here. The wake flag is cleared first: a sender that died between
// sending its wake and committing its record left it set with no record,
// and a set flag would keep every later sender from waking anyone.
func (e *End) clearSocket(d *dir) (eof bool, err error) {
	d.wake.Store(0)
	return e.drainWakes()
}

// drainWakes empties the socket (see clearSocket) and reports whether the
// other end is gone.
func (e *End) drainWakes() (eof bool, err error) {
	for {
		m, err := e.sock.TryRecvInto(nil)
		switch {
		case err == nil:
			m.Close()
		case errors.Is(err, transport.ErrWouldBlock):
			return false, nil
		case errors.Is(err, io.EOF):
			return true, nil
		case errors.Is(err, errs.ErrProtocol):
			// A datagram no sender of the package makes: gone with the
			// error, as on a plain socket.
		default:
			return false, err
		}
	}
}

// ticketBuf returns the memory to receive a ticket's datagram into: buf,
// or new memory of the size the ticket announces if buf is smaller. That
// memory becomes the message; without it, a large datagram went through
// the socket's spill memory and a copy. The size is only a hint (a
// corrupt one costs at most an allocation of transport.MaxInline bytes;
// the datagram is received correctly whatever its size).
func (e *End) ticketBuf(buf []byte, size int) []byte {
	if size <= len(buf) || size > e.limit() || size > transport.MaxInline {
		return buf
	}
	return make([]byte, size)
}

// takeDatagram receives the datagram of ticket seq, into buf if it fits,
// dropping on the way those of senders that died between reserving their
// numbers and writing their tickets. Called with the readers' lock held,
// once the ticket is committed as taken.
func (e *End) takeDatagram(seq uint32, buf []byte) (transport.Msg, error) {
	for {
		m, err := e.sock.TryRecvInto(buf)
		if errors.Is(err, transport.ErrWouldBlock) || errors.Is(err, io.EOF) {
			return transport.Msg{}, corrupt(fmt.Sprintf("ticket %d without its datagram", seq))
		}
		if m.Kind == kindWake {
			m.Close()
			continue
		}
		if err != nil {
			// A datagram that could not be taken (over this end's cap,
			// malformed, its descriptors lost) fails this receive only if
			// it is this ticket's, or cannot be told (no number: 0 is no
			// ticket's).
			if errors.Is(err, errs.ErrProtocol) && m.Seq != 0 && int32(m.Seq-seq) < 0 {
				continue
			}
			return transport.Msg{}, err
		}
		switch diff := int32(m.Seq - seq); {
		case diff < 0:
			m.Close()
		case diff > 0:
			m.Close()
			return transport.Msg{}, corrupt(fmt.Sprintf("ticket %d found datagram %d", seq, m.Seq))
		default:
			return m, nil
		}
	}
}
