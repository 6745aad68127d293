package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

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
	// wmu serializes senders, so that each can arm its own write deadline;
	// it guards send.
	wmu  ctxio.Lock
	send sendState
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
	c.recv.pollFn, c.recv.readFn, c.recv.tryFn = c.pollRecv, c.readRecv, c.tryRecv
	c.send.tryFn, c.send.writeFn = c.tryWrite, c.writeOnce
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
	if c.closed.Load() {
		return errs.ErrClosed
	}
	if len(m.Data) > c.inline {
		memfd, err := writeMemfd(m.Data)
		if err != nil {
			return err
		}
		defer unix.Close(memfd)
		fds := append(m.FDs[:len(m.FDs):len(m.FDs)], memfd)
		return c.sendmsg(ctx, m.Kind, flagMemfd, uint64(len(m.Data)), nil, unix.UnixRights(fds...))
	}
	var oob []byte
	if len(m.FDs) > 0 {
		oob = unix.UnixRights(m.FDs...)
	}
	return c.sendmsg(ctx, m.Kind, 0, 0, m.Data, oob)
}

// sendState is the state of one send, kept in the Conn (under wmu) so that
// a send allocates nothing: the message header, its vector and the
// function given to the raw connection are made once.
type sendState struct {
	msg     unix.Msghdr
	iov     [2]unix.Iovec
	hdr     [headerLen]byte
	err     error
	tryFn   func(fd uintptr)
	writeFn func(fd uintptr) bool
}

// sendmsg sends one datagram, a header (see putHeader) and data, with the
// control message oob. It tries once at once; only a send that finds the socket's
// buffer full arms ctx's deadline and waits in the poller.
func (c *Conn) sendmsg(ctx context.Context, kind, flags byte, memfdSize uint64, data, oob []byte) error {
	if err := c.wmu.Lock(ctx); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	s := &c.send
	putHeader(&s.hdr, kind, flags, memfdSize)
	s.iov[0] = unix.Iovec{Base: &s.hdr[0]}
	s.iov[0].SetLen(headerLen)
	s.msg.Iov = &s.iov[0]
	s.msg.Iovlen = 1
	if len(data) > 0 {
		s.iov[1] = unix.Iovec{Base: &data[0]}
		s.iov[1].SetLen(len(data))
		s.msg.Iovlen = 2
	}
	s.msg.Control = nil
	s.msg.SetControllen(0)
	if len(oob) > 0 {
		s.msg.Control = &oob[0]
		s.msg.SetControllen(len(oob))
	}
	s.err = unix.EAGAIN
	defer func() {
		// Keep no reference to the caller's memory.
		s.iov[1], s.msg.Control = unix.Iovec{}, nil
		s.err = nil
	}()
	err := c.rc.Control(s.tryFn)
	if err == nil && s.err == unix.EAGAIN {
		disarm := ctxio.ArmDeadline(ctx, c.f.SetWriteDeadline)
		err = c.rc.Write(s.writeFn)
		disarm()
	}
	if err == nil {
		err = s.err
	}
	return c.opErr("send", ctx, err)
}

func (c *Conn) tryWrite(fd uintptr) { c.writeOnce(fd) }

// writeOnce makes one send of the prepared datagram, and reports whether
// it got an answer other than a full buffer.
func (c *Conn) writeOnce(fd uintptr) bool {
	s := &c.send
	for {
		_, _, e := unix.Syscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&s.msg)), unix.MSG_NOSIGNAL)
		if e == unix.EINTR {
			continue
		}
		s.err = nil
		if e != 0 {
			s.err = e
		}
		return e != unix.EAGAIN
	}
}

// Recv receives one message, blocking until one arrives or ctx ends. It
// returns io.EOF once every copy of the other end is closed and everything
// sent has been received. The caller owns the message's descriptors.
func (c *Conn) Recv(ctx context.Context) (Msg, error) { return c.RecvInto(ctx, nil) }

// RecvInto is Recv, with buf as the place for the message's bytes: a
// message whose payload fits buf is received into it (its Data is then a
// prefix of buf), with no memory made for it; a longer one, or one over a
// byte stream, comes in memory of its own, whole.
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
	if c.stream != nil {
		return c.recvStream(ctx)
	}
	if c.rbuf == nil {
		c.rbuf = make([]byte, smallRecv)
		c.oob = make([]byte, unix.CmsgSpace(4*maxFDs+12))
	}
	if len(buf) == 0 {
		buf = nil
	}
	c.recv.into = buf
	defer func() { c.recv.into = nil }()
	return c.recvmsg(ctx)
}

// recvState is the state of one receive, kept in the Conn (under rmu) so
// that a receive allocates only the message it returns: the message
// header, its vector and the functions given to the raw connection and to
// the poller are made once.
type recvState struct {
	msg            unix.Msghdr
	iov            [3]unix.Iovec
	into           []byte // the caller's memory for the payload (RecvInto)
	fd             int
	first          []byte // what the datagram was received into ahead of the spill region
	owned          bool   // first was made for this datagram: it can become the message
	n, oobn, flags int
	err            error
	reset          bool
	// large: the last datagram was larger than peekAbove, so the next
	// receive first asks the size of the datagram (see tryRecv).
	large  bool
	done   bool
	pollFn func(fd uintptr)
	readFn func(fd uintptr) bool
	tryFn  func() bool
}

// pollRecv receives, polling for a while (package spin), without parking;
// r.done reports whether it got an answer.
func (c *Conn) pollRecv(fd uintptr) {
	c.recv.fd = int(fd)
	c.recv.done = c.wait.Until(c.recv.tryFn)
}

// readRecv makes one receive; it returns false to park until the socket
// is readable, after which the runtime calls it again.
func (c *Conn) readRecv(fd uintptr) bool {
	c.recv.fd = int(fd)
	return c.tryRecv()
}

// tryRecv makes one receive, and reports whether it got an answer.
//
// A datagram is received into the small buffer and, beyond it, into the
// spill region: one system call for a small message. After a large one
// (over peekAbove),
// the next receive first asks the size of the datagram waiting
// (MSG_PEEK|MSG_TRUNC, which copies nothing), so that a large message is
// received straight into memory of its own size, which becomes the
// message: no copy in this process, and the spill region stays untouched.
// If another process takes that datagram in between, the one received
// instead still fits (the spill region follows), and is copied as usual.
func (c *Conn) tryRecv() bool {
	r := &c.recv
	for {
		r.first, r.owned = c.rbuf, false
		if r.into != nil {
			// The header, then the payload in the caller's memory, then
			// the spill region for what does not fit.
			r.first = c.rbuf[:headerLen]
		} else if r.large {
			size, err := peekSize(r.fd)
			switch {
			case err == unix.EAGAIN:
				return false
			case err == nil && size > peekAbove && size <= maxDatagram && size-headerLen <= c.limit():
				r.first, r.owned = make([]byte, size), true
			case err == nil && size <= peekAbove:
				r.large = false
			}
		}
		iov := r.iov[:0]
		for _, b := range [][]byte{r.first, r.into, c.spill.mem} {
			if len(b) > 0 {
				v := unix.Iovec{Base: &b[0]}
				v.SetLen(len(b))
				iov = append(iov, v)
			}
		}
		r.msg.Iov = &r.iov[0]
		r.msg.SetIovlen(len(iov))
		r.msg.Control = &c.oob[0]
		r.msg.SetControllen(len(c.oob))
		r.msg.Flags = 0
		n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(r.fd), uintptr(unsafe.Pointer(&r.msg)), unix.MSG_CMSG_CLOEXEC)
		r.iov = [3]unix.Iovec{}
		if e == unix.EINTR {
			continue
		}
		r.err = nil
		if e != 0 {
			r.err = e
		}
		r.n, r.oobn, r.flags = int(n), int(r.msg.Controllen), int(r.msg.Flags)
		if r.err != unix.ECONNRESET || r.reset {
			return r.err != unix.EAGAIN
		}
		// The peer closed with messages of ours unread. Linux reports that
		// once, before the messages the peer sent ahead of closing: read
		// those, then EOF.
		r.reset = true
	}
}

// peekSize returns the size of the datagram waiting on fd, without taking
// it or its descriptors.
func peekSize(fd int) (int, error) {
	var b [1]byte
	for {
		n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_TRUNC)
		if err != unix.EINTR {
			return n, err
		}
	}
}

func (c *Conn) recvmsg(ctx context.Context) (Msg, error) {
	if c.spill == nil {
		s, err := newSpillRegion(maxDatagram - smallRecv)
		if err != nil {
			return Msg{}, err
		}
		c.spill = s
	}
	r := &c.recv
	r.err, r.reset = nil, false
	start := time.Now()
	err := c.rc.Control(r.pollFn)
	if err == nil && !r.done {
		disarm := ctxio.ArmDeadline(ctx, c.f.SetReadDeadline)
		err = c.rc.Read(r.readFn)
		disarm()
	}
	c.wait.Waited(time.Since(start))
	n, oobn, flags := r.n, r.oobn, r.flags
	if err == nil {
		err = r.err
	}
	first, owned := r.first, r.owned
	r.err, r.first = nil, nil
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
	r.large = n > peekAbove
	if into := r.into; into != nil && n >= headerLen && n-headerLen <= len(into) {
		return parseParts(c.rbuf[:headerLen], into[:n-headerLen], true, fds, c.limit())
	}
	dgram, owned := c.received(first, owned, n)
	return parseDatagram(dgram, owned, fds, c.limit())
}

// received returns the n bytes of the datagram just received into first,
// the caller's memory (RecvInto) and the spill region, contiguous, and
// whether they are memory of their own (which can become the message)
// rather than the Conn's buffer.
func (c *Conn) received(first []byte, owned bool, n int) ([]byte, bool) {
	if n <= len(first) {
		return first[:n], owned
	}
	buf := make([]byte, n)
	k := copy(buf, first)
	k += copy(buf[k:], c.recv.into)
	if k < n {
		copy(buf[k:], c.spill.mem[:n-k])
		c.spill.release(n - k)
	}
	return buf, true
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
