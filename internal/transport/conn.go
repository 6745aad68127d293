package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	_ "github.com/mpgo/mp/internal/linuxonly"
	"github.com/mpgo/mp/internal/spin"
	"golang.org/x/sys/unix"
)

// Conn is one end of a SOCK_SEQPACKET socket, or of a byte stream that
// carries framed messages (NewStream). It is safe for concurrent use: sends
// are serialized, and so are receives.
type Conn struct {
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
	// stream is the state of a Conn over a byte stream; nil for a
	// SOCK_SEQPACKET socket.
	stream *streamState
	// maxSize caps the size of a received message; zero means 1 GiB.
	maxSize atomic.Int64

	// inline is the largest payload sent in the datagram itself: what the
	// socket's send buffer allows, at most maxInline.
	inline int
	// wait is how a receive polls before it parks (package spin); it is
	// used under rmu.
	wait spin.Waiter

	// rmu guards rbuf, spill, oob and recv (one receiver at a time).
	rmu   ctxio.Lock
	rbuf  []byte
	spill *spillRegion
	oob   []byte
	recv  recvState
	// wmu serializes senders, so that each can arm its own write deadline.
	wmu ctxio.Lock
}

// Pair returns the two ends of a new socket.
func Pair() (*Conn, *Conn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("mp: socketpair: %w", err)
	}
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

// NewConn makes a Conn of fd, a SOCK_SEQPACKET socket, and takes ownership
// of it.
func NewConn(fd int) (*Conn, error) {
	f, rc, err := adopt(fd, unix.SOCK_SEQPACKET, "SOCK_SEQPACKET", "mp-socket")
	if err != nil {
		return nil, err
	}
	c := &Conn{f: f, rc: rc, inline: inlineLimit(fd), rmu: ctxio.NewLock(), wmu: ctxio.NewLock()}
	c.recv.readFn, c.recv.tryFn = c.pollRecv, c.tryRecv
	return c, nil
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
	// spill region can go.
	c.rmu.Lock(context.Background())
	if c.spill != nil {
		c.spill.unmap()
		c.spill = nil
	}
	c.rmu.Unlock()
	return err
}

// Send sends one message. fds are sent with it and stay owned by the
// caller. It blocks while the socket's buffer is full, until ctx ends.
func (c *Conn) Send(ctx context.Context, m Msg) error {
	if c.stream != nil {
		return c.sendStream(ctx, m)
	}
	if len(m.FDs) > maxFDs {
		return fmt.Errorf("mp: %d descriptors in one message, at most %d", len(m.FDs), maxFDs)
	}
	hdr := []byte{m.Kind, 0}
	bufs := [][]byte{hdr, m.Data}
	fds := m.FDs
	if len(m.Data) > c.inline {
		memfd, err := writeMemfd(m.Data)
		if err != nil {
			return err
		}
		defer unix.Close(memfd)
		hdr[1] = flagMemfd
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(len(m.Data)))
		bufs = [][]byte{hdr}
		fds = append(fds[:len(fds):len(fds)], memfd)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	return c.sendmsg(ctx, bufs, oob)
}

func (c *Conn) sendmsg(ctx context.Context, bufs [][]byte, oob []byte) error {
	if c.closed.Load() {
		return errs.ErrClosed
	}
	if err := c.wmu.Lock(ctx); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	disarm := ctxio.ArmDeadline(ctx, c.f.SetWriteDeadline)
	defer disarm()
	var serr error
	err := c.rc.Write(func(fd uintptr) bool {
		_, serr = unix.SendmsgBuffers(int(fd), bufs, oob, nil, unix.MSG_NOSIGNAL)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	return c.opErr("send", ctx, err)
}

// Recv receives one message, blocking until one arrives or ctx ends. It
// returns io.EOF once every copy of the other end is closed and everything
// sent has been received. The caller owns the message's descriptors.
func (c *Conn) Recv(ctx context.Context) (Msg, error) {
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
	if c.stream != nil {
		return c.recvStream(ctx)
	}
	if c.rbuf == nil {
		c.rbuf = make([]byte, smallRecv)
		c.oob = make([]byte, unix.CmsgSpace(4*maxFDs+12))
	}
	disarm := ctxio.ArmDeadline(ctx, c.f.SetReadDeadline)
	defer disarm()
	return c.recvmsg(ctx)
}

// recvState is the state of one receive, kept in the Conn so that the
// functions given to the raw connection and to the poller are made once,
// not once per receive.
type recvState struct {
	bufs           [][]byte
	fd             int
	n, oobn, flags int
	err            error
	reset          bool
	readFn         func(fd uintptr) bool
	tryFn          func() bool
}

// pollRecv receives, polling for a while (package spin); it returns false
// to park until the socket is readable, after which the runtime calls it
// again.
func (c *Conn) pollRecv(fd uintptr) bool {
	c.recv.fd = int(fd)
	return c.wait.Until(c.recv.tryFn)
}

// tryRecv makes one receive, and reports whether it got an answer.
func (c *Conn) tryRecv() bool {
	r := &c.recv
	for {
		r.n, r.oobn, r.flags, _, r.err = unix.RecvmsgBuffers(r.fd, r.bufs, c.oob, unix.MSG_CMSG_CLOEXEC)
		if r.err != unix.ECONNRESET || r.reset {
			return r.err != unix.EAGAIN
		}
		// The peer closed with messages of ours unread. Linux reports that
		// once, before the messages the peer sent ahead of closing: read
		// those, then EOF.
		r.reset = true
	}
}

func (c *Conn) recvmsg(ctx context.Context) (Msg, error) {
	bufs, err := c.recvBuffers()
	if err != nil {
		return Msg{}, err
	}
	r := &c.recv
	r.bufs, r.err, r.reset = bufs, nil, false
	start := time.Now()
	err = c.rc.Read(r.readFn)
	c.wait.Waited(time.Since(start))
	n, oobn, flags := r.n, r.oobn, r.flags
	if err == nil {
		err = r.err
	}
	r.bufs, r.err = nil, nil
	if err != nil {
		return Msg{}, c.opErr("receive", ctx, err)
	}
	fds, err := parseRights(c.oob[:oobn])
	if err != nil {
		return Msg{}, err
	}
	if n == 0 && len(fds) == 0 {
		return Msg{}, io.EOF
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		descr.Close(fds)
		return Msg{}, protoErr("datagram truncated: larger than the inline limit")
	}
	return parseDatagram(c.received(n), fds, c.limit())
}

// recvBuffers returns the buffers a datagram is received into: the small
// buffer, then the spill region for the rest of the largest datagram.
func (c *Conn) recvBuffers() ([][]byte, error) {
	if c.spill == nil {
		s, err := newSpillRegion(maxInline + headerLen + memfdExtra - smallRecv)
		if err != nil {
			return nil, err
		}
		c.spill = s
	}
	return [][]byte{c.rbuf, c.spill.mem}, nil
}

// received returns the n bytes of the datagram just received, contiguous.
func (c *Conn) received(n int) []byte {
	if n <= len(c.rbuf) {
		return c.rbuf[:n]
	}
	buf := make([]byte, n)
	copy(buf, c.rbuf)
	copy(buf[len(c.rbuf):], c.spill.mem[:n-len(c.rbuf)])
	c.spill.release(n - len(c.rbuf))
	return buf
}

// inlineLimit returns the largest payload that fits one datagram of the
// socket fd, raising its send buffer as far as the system allows.
func inlineLimit(fd int) int {
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, maxInline+(1<<20))
	sb, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		return smallRecv - headerLen
	}
	// The kernel refuses a datagram larger than the send buffer less a
	// little; keep a margin for its accounting.
	return max(smallRecv-headerLen, min(maxInline, sb/2-4096))
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
	test := readable
	if c.stream != nil {
		test = c.frameReady
	}
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

// readable reports whether fd has a datagram waiting or is at end of stream.
func readable(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0
}
