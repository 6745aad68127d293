//go:build linux && !mpportable

package transport

import (
	"context"
	"errors"

	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/errs"
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

// TryRecvInto is RecvInto without waiting: one receive, no polling; it
// returns ErrWouldBlock if no datagram waits.
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

// AwaitWritable waits until the socket may take more than when a TrySend
// last found it full, or until ctx ends. It may return early; the caller
// tries again.
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
	first := true
	err := c.rc.Write(func(uintptr) bool {
		// The first call comes before any wait: decline it, so that the
		// poller waits for the socket to become writable (or reports a
		// readiness it had noted before).
		if first {
			first = false
			return false
		}
		return true
	})
	return c.opErr("send", ctx, err)
}
