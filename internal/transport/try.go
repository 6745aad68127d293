//go:build linux && !mpportable

package transport

import (
	"context"
	"errors"
	"os"

	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// The methods here let a layer above (package connring) keep an order of
// its own across several processes: it sends and receives under a lock of
// its own, and so must never wait in the socket while it holds that lock.

// CanTry reports whether this Conn has TrySend, TryRecvInto and
// AwaitWritable: a SOCK_SEQPACKET Conn has, a stream Conn has not.
func (c *Conn) CanTry() bool { return c.stream == nil }

// TrySend sends m if the socket can take it at once; otherwise it returns
// ErrWouldBlock, having sent nothing (a datagram goes whole or not at all).
func (c *Conn) TrySend(m Msg) error {
	if c.stream != nil {
		return errors.ErrUnsupported
	}
	return c.sendPacketMode(context.Background(), m, false)
}

// Prepare makes m ready to send with TrySendPrepared: a payload too large
// for one datagram is written to its memfd now, so that the send itself
// costs only its system call. The caller keeps m's descriptors open until
// it closes the Prepared.
func (c *Conn) Prepare(m Msg) (*Prepared, error) {
	if c.stream != nil {
		return nil, errors.ErrUnsupported
	}
	return c.prepare(m)
}

// TrySendPrepared is TrySend of a prepared message, numbered seq.
func (c *Conn) TrySendPrepared(p *Prepared, seq uint32) error {
	if c.stream != nil {
		return errors.ErrUnsupported
	}
	if c.closed.Load() {
		return errs.ErrClosed
	}
	return c.sendPrepared(context.Background(), p, seq, false)
}

// TryRecvInto is RecvInto without waiting: one receive, no polling; it
// returns ErrWouldBlock if no datagram waits. If a datagram was taken but
// could not become a message (over the size cap, or malformed), the error
// comes with the Kind and Seq of its header, and no data.
func (c *Conn) TryRecvInto(buf []byte) (Msg, error) {
	if c.stream != nil {
		return Msg{}, errors.ErrUnsupported
	}
	if c.closed.Load() {
		return Msg{}, errs.ErrClosed
	}
	if err := c.rmu.Lock(context.Background()); err != nil {
		return Msg{}, err
	}
	defer c.rmu.Unlock()
	if c.closed.Load() {
		return Msg{}, errs.ErrClosed
	}
	return c.recvPacketMode(context.Background(), buf, false)
}

// AwaitWritable waits until the socket may take a datagram (poll(2) says
// it is writable, which for a SOCK_SEQPACKET socket means a send no longer
// finds it full), or until ctx ends.
func (c *Conn) AwaitWritable(ctx context.Context) error {
	if c.closed.Load() {
		return errs.ErrClosed
	}
	if err := c.wmu.Lock(ctx); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	disarm := ctxio.ArmDeadline(ctx, c.f.SetWriteDeadline)
	defer disarm()
	// The runtime forgets what readiness it had noted before it calls the
	// function the first time, so the function looks for itself.
	err := c.rc.Write(func(fd uintptr) bool { return writable(int(fd)) })
	return c.opErr("send", ctx, err)
}

// WaitReadable waits until the socket is readable (a datagram waits, or
// the peer is gone) or ctx ends, and reports whether it is; it returns
// false, nil when ctx ends first. It does not take the receiving side's
// lock, so that TryRecvInto can go on meanwhile: the caller makes sure that
// no other wait on this Conn's reads runs at the same time (each sets the
// socket's read deadline).
func (c *Conn) WaitReadable(ctx context.Context) (bool, error) {
	if c.closed.Load() {
		return false, errs.ErrClosed
	}
	var ready bool
	if err := c.rc.Control(func(fd uintptr) { ready = readable(int(fd)) }); err != nil {
		return false, c.opErr("poll", ctx, err)
	}
	if ready || ctx.Err() != nil {
		return ready, nil
	}
	disarm := ctxio.ArmDeadline(ctx, c.f.SetReadDeadline)
	defer disarm()
	err := c.rc.Read(func(fd uintptr) bool { return readable(int(fd)) })
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false, nil
	}
	if err != nil {
		return false, c.opErr("poll", ctx, err)
	}
	return true, nil
}

// writable reports whether fd can take a datagram, or has an error to
// report, without waiting.
func writable(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0
}
