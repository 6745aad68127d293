package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"

	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/spin"
	"golang.org/x/sys/unix"
)

// Conn is one end of a message socket: a SOCK_SEQPACKET socket (Linux's
// own mechanism), or a byte stream that carries framed messages, with
// descriptors over a Unix socket (NewUnixStream; every Unix Conn of the
// portable build) or without over a network (NewStream). It is safe for
// concurrent use: sends are serialized, and so are receives.
type Conn struct {
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
	// stream is the state of a Conn over a byte stream; nil for a
	// SOCK_SEQPACKET socket.
	stream *streamState
	// maxSize caps the size of a received message; zero means 1 GiB.
	maxSize atomic.Int64

	// wait is how a receive polls before it parks (package spin); it is
	// used under rmu.
	wait spin.Waiter

	// rmu guards the receiving side's state (one receiver at a time): pk's
	// receive buffers, or stream's frame being received.
	rmu ctxio.Lock
	// wmu serializes senders, so that each can arm its own write deadline;
	// it guards the sending side's state.
	wmu ctxio.Lock
	// pk is the state of a SOCK_SEQPACKET Conn (seqpacket.go); in the
	// portable build, which has none, it is empty and releases nothing.
	pk packetState
}

// adopt takes ownership of fd, a socket of type typ (named typName in
// errors), and makes it non-blocking under Go's poller as a file named
// name. It closes fd if it fails.
func adopt(fd, typ int, typName, name string) (*os.File, syscall.RawConn, error) {
	if t, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || t != typ {
		unix.Close(fd)
		return nil, nil, protoErr("descriptor is not a " + typName + " socket")
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, rc, nil
}

// pairOf makes the two Conns of a new socket pair, and takes ownership of
// its descriptors.
func pairOf(fds [2]int) (*Conn, *Conn, error) {
	a, err := NewConn(fds[0])
	if err != nil {
		unix.Close(fds[1])
		return nil, nil, err
	}
	b, err := NewConn(fds[1])
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// SetSpin switches off (or on again) the polling a receive on this end
// does before it parks (see package spin): where more goroutines and
// processes are runnable than there are processors, polling costs more CPU
// than it saves in wake-ups. Call it before the first receive.
func (c *Conn) SetSpin(on bool) { c.wait.SetPolling(on) }

// SetMaxSize caps the size of messages this end accepts (zero or less:
// 1 GiB), from the next receive on; it is safe to call at any time. A
// larger datagram is discarded with an error matching errs.ErrTooLarge; on
// a stream Conn, a larger frame's header gives that error, and so does
// every receive after it, since the stream cannot find the frame after it
// without reading the whole of it.
func (c *Conn) SetMaxSize(n int) { c.maxSize.Store(int64(n)) }

// limit returns the cap on the size of a received message.
func (c *Conn) limit() int {
	if n := c.maxSize.Load(); n > 0 {
		return int(n)
	}
	return defaultCap
}

// Control calls fn with the socket's descriptor, which stays open until fn
// returns.
func (c *Conn) Control(fn func(fd int)) error {
	if c.closed.Load() {
		return errs.ErrClosed
	}
	return c.rc.Control(func(fd uintptr) { fn(int(fd)) })
}

// Close closes this end. Blocked operations return errs.ErrClosed.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return errs.ErrClosed
	}
	err := c.f.Close()
	// A receive in progress returns once the descriptor is closed; then the
	// receiving side's buffers, and descriptors of a frame half received,
	// can go.
	c.rmu.Lock(context.Background())
	if c.stream != nil {
		c.stream.drop()
	}
	c.pk.release()
	c.rmu.Unlock()
	return err
}

// Send sends one message. fds are sent with it and stay owned by the
// caller. It blocks while the socket's buffer is full, until ctx ends.
func (c *Conn) Send(ctx context.Context, m Msg) error {
	return c.send(ctx, m)
}

// Recv receives one message, blocking until one arrives or ctx ends. It
// returns io.EOF once every copy of the other end is closed and everything
// sent has been received. The caller owns the message's descriptors.
func (c *Conn) Recv(ctx context.Context) (Msg, error) { return c.RecvInto(ctx, nil) }

// RecvInto is Recv, with buf as the place for the message's bytes: a
// message whose payload fits buf is received into it (its Data is then a
// prefix of buf), with no memory made for it, also when it was sent in a
// memfd; a longer one comes in memory of its own, whole, and so does one
// on a stream whose start an earlier receive or Poll had read.
func (c *Conn) RecvInto(ctx context.Context, buf []byte) (Msg, error) {
	if c.closed.Load() {
		return Msg{}, errs.ErrClosed
	}
	if err := c.rmu.Lock(ctx); err != nil {
		return Msg{}, err
	}
	defer c.rmu.Unlock()
	if c.closed.Load() { // closed while this receive waited for its turn
		return Msg{}, errs.ErrClosed
	}
	return c.recvLocked(ctx, buf)
}

// opErr turns a socket operation's error into mp's vocabulary.
func (c *Conn) opErr(op string, ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case c.closed.Load() || errors.Is(err, os.ErrClosed):
		return errs.ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return ctxio.Err(ctx, err)
	case errors.Is(err, unix.ECONNRESET) && op == "receive":
		return io.EOF
	}
	return fmt.Errorf("mp: %s: %w", op, err)
}

// parseRights returns the descriptors of SCM_RIGHTS messages in oob.
func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, protoErr("bad control message")
	}
	var fds []int
	for _, cm := range cmsgs {
		got, err := unix.ParseUnixRights(&cm)
		if err != nil {
			continue
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// Poll reports whether a message (or the end of the stream) can be received
// without blocking, waiting until one can or ctx ends; it returns false, nil
// when ctx ends first. No message is consumed. On a stream Conn a message
// can be received once the whole of its frame has arrived: Poll reads what
// has arrived of it into the Conn, where the next receive takes it up.
func (c *Conn) Poll(ctx context.Context) (bool, error) {
	if c.closed.Load() {
		return false, errs.ErrClosed
	}
	if err := c.rmu.Lock(ctx); err != nil {
		return false, nil
	}
	defer c.rmu.Unlock()
	// Look once before arming anything: with a context that has already
	// ended the poller would report the deadline without looking at all.
	test := c.readyTest()
	var ready bool
	if err := c.rc.Control(func(fd uintptr) { ready = test(int(fd)) }); err != nil {
		return false, c.opErr("poll", ctx, err)
	}
	if ready || ctx.Err() != nil {
		return ready, nil
	}
	disarm := ctxio.ArmDeadline(ctx, c.f.SetReadDeadline)
	defer disarm()
	err := c.rc.Read(func(fd uintptr) bool { return test(int(fd)) })
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false, nil
	}
	if err != nil {
		return false, c.opErr("poll", ctx, err)
	}
	return true, nil
}
