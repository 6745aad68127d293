//go:build linux && !mpportable

package transport

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"
	"unsafe"

	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// Linux's own message socket is SOCK_SEQPACKET: each message is one
// datagram (datagram.go), so the kernel keeps boundaries, and keeps each
// datagram whole between senders, and between receivers, in different
// processes that hold one end.

// UnixNetwork is the network of Unix listeners and dialers whose
// connections NewConn takes: SOCK_SEQPACKET.
const UnixNetwork = "unixpacket"

// packetState is what a SOCK_SEQPACKET Conn keeps besides the common
// state.
type packetState struct {
	// inline is the largest payload sent in the datagram itself: what the
	// socket's send buffer allows, at most MaxInline.
	inline int
	// rbuf, spill, oob and recv are guarded by the Conn's rmu.
	rbuf  []byte
	spill *spillRegion
	oob   []byte
	recv  recvState
	// send is guarded by the Conn's wmu.
	send sendState
}

// release unmaps the spill region; called with rmu held, once closed.
func (p *packetState) release() {
	if p.spill != nil {
		p.spill.unmap()
		p.spill = nil
	}
}

// SocketPair returns a new pair of connected sockets of the type NewConn
// takes, close-on-exec and blocking, for a caller that hands one end to
// another process before making a Conn of its own.
func SocketPair() ([2]int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fds, fmt.Errorf("mp: socketpair: %w", err)
	}
	return fds, nil
}

// send sends m on a SOCK_SEQPACKET socket or a stream.
func (c *Conn) send(ctx context.Context, m Msg) error {
	if c.stream != nil {
		return c.sendStream(ctx, m)
	}
	return c.sendPacket(ctx, m)
}

// recvLocked receives from a SOCK_SEQPACKET socket or a stream; rmu is
// held.
func (c *Conn) recvLocked(ctx context.Context, buf []byte) (Msg, error) {
	if c.stream != nil {
		return c.recvStream(ctx, buf)
	}
	return c.recvPacket(ctx, buf)
}

// readyTest returns Poll's test of whether a receive would not block.
func (c *Conn) readyTest() func(fd int) bool {
	if c.stream != nil {
		return c.frameReady
	}
	return readable
}

// readable reports whether fd has a datagram waiting or is at end of stream.
func readable(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0
}

// Pair returns the two ends of a new socket.
func Pair() (*Conn, *Conn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("mp: socketpair: %w", err)
	}
	return pairOf(fds)
}

// NewConn makes a Conn of fd, a SOCK_SEQPACKET socket, and takes ownership
// of it.
func NewConn(fd int) (*Conn, error) {
	f, rc, err := adopt(fd, unix.SOCK_SEQPACKET, "SOCK_SEQPACKET", "mp-socket")
	if err != nil {
		return nil, err
	}
	c := &Conn{f: f, rc: rc, rmu: ctxio.NewLock(), wmu: ctxio.NewLock()}
	c.pk.inline = inlineLimit(fd)
	c.pk.recv.pollFn, c.pk.recv.onceFn, c.pk.recv.readFn, c.pk.recv.tryFn = c.pollRecv, c.onceRecv, c.readRecv, c.tryRecv
	c.pk.send.tryFn, c.pk.send.writeFn = c.tryWrite, c.writeOnce
	return c, nil
}

// sendPacket sends m as one datagram: the payload inline if it fits the
// socket's send buffer, else in a sealed memfd sent as the last
// descriptor.
func (c *Conn) sendPacket(ctx context.Context, m Msg) error { return c.sendPacketMode(ctx, m, true) }

// sendPacketMode is sendPacket; without park, a send that finds the
// socket's buffer full returns ErrWouldBlock, having sent nothing.
func (c *Conn) sendPacketMode(ctx context.Context, m Msg, park bool) error {
	p, err := c.prepare(m)
	if err != nil {
		return err
	}
	defer p.Close()
	return c.sendPrepared(ctx, p, m.Seq, park)
}

// Prepared is a message made ready for a SOCK_SEQPACKET Conn to send: a
// payload too large for one datagram is already in a sealed memfd, so that
// a send made under some other lock (TrySendPrepared) costs only its
// system call. Close it once sent.
type Prepared struct {
	m     Msg // without its Data when that is in memfd
	memfd int // -1 if none
	size  uint64
}

// InlineSize is the size of the payload p carries in its datagram: 0 if
// the payload is in a memfd.
func (p *Prepared) InlineSize() int { return len(p.m.Data) }

// Close closes the memfd of a large message.
func (p *Prepared) Close() {
	if p.memfd >= 0 {
		unix.Close(p.memfd)
		p.memfd = -1
	}
}

func (c *Conn) prepare(m Msg) (*Prepared, error) {
	if len(m.FDs) > maxFDs {
		return nil, fmt.Errorf("mp: %d descriptors in one message, at most %d", len(m.FDs), maxFDs)
	}
	if c.closed.Load() {
		return nil, errs.ErrClosed
	}
	p := &Prepared{m: m, memfd: -1}
	if len(m.Data) > c.pk.inline {
		memfd, err := writeMemfd(m.Data)
		if err != nil {
			return nil, err
		}
		p.memfd, p.size, p.m.Data = memfd, uint64(len(m.Data)), nil
	}
	return p, nil
}

// sendPrepared sends p as one datagram numbered seq; without park, a full
// socket gives ErrWouldBlock.
func (c *Conn) sendPrepared(ctx context.Context, p *Prepared, seq uint32, park bool) error {
	m := p.m
	if p.memfd >= 0 {
		fds := append(m.FDs[:len(m.FDs):len(m.FDs)], p.memfd)
		return c.sendmsg(ctx, park, m.Kind, flagMemfd, seq, p.size, nil, unix.UnixRights(fds...))
	}
	var oob []byte
	if len(m.FDs) > 0 {
		oob = unix.UnixRights(m.FDs...)
	}
	return c.sendmsg(ctx, park, m.Kind, 0, seq, 0, m.Data, oob)
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
// buffer full arms ctx's deadline and waits in the poller, if park (else
// it returns ErrWouldBlock).
func (c *Conn) sendmsg(ctx context.Context, park bool, kind, flags byte, seq uint32, memfdSize uint64, data, oob []byte) error {
	if err := c.wmu.Lock(ctx); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	s := &c.pk.send
	putHeader(&s.hdr, kind, flags, seq, memfdSize)
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
	if err == nil && s.err == unix.EAGAIN && !park {
		return ErrWouldBlock
	}
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
	s := &c.pk.send
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

// recvPacket receives one datagram, into buf if its payload fits (see
// RecvInto). Called with rmu held.
func (c *Conn) recvPacket(ctx context.Context, buf []byte) (Msg, error) {
	return c.recvPacketMode(ctx, buf, true)
}

// recvPacketMode is recvPacket; without park, it makes one receive, with
// no polling, and returns ErrWouldBlock if no datagram waits.
func (c *Conn) recvPacketMode(ctx context.Context, buf []byte, park bool) (Msg, error) {
	if c.pk.rbuf == nil {
		c.pk.rbuf = make([]byte, smallRecv)
		c.pk.oob = make([]byte, unix.CmsgSpace(4*maxFDs+12))
	}
	if len(buf) == 0 {
		buf = nil
	}
	c.pk.recv.into = buf
	defer func() { c.pk.recv.into = nil }()
	return c.recvmsg(ctx, park)
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
	onceFn func(fd uintptr)
	readFn func(fd uintptr) bool
	tryFn  func() bool
}

// pollRecv receives, polling for a while (package spin), without parking;
// r.done reports whether it got an answer.
func (c *Conn) pollRecv(fd uintptr) {
	c.pk.recv.fd = int(fd)
	c.pk.recv.done = c.wait.Until(c.pk.recv.tryFn)
}

// onceRecv makes one receive, without polling; r.done reports whether it
// got an answer.
func (c *Conn) onceRecv(fd uintptr) {
	c.pk.recv.fd = int(fd)
	c.pk.recv.done = c.tryRecv()
}

// readRecv makes one receive; it returns false to park until the socket
// is readable, after which the runtime calls it again.
func (c *Conn) readRecv(fd uintptr) bool {
	c.pk.recv.fd = int(fd)
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
	r := &c.pk.recv
	for {
		r.first, r.owned = c.pk.rbuf, false
		if r.into != nil {
			// The header, then the payload in the caller's memory, then
			// the spill region for what does not fit.
			r.first = c.pk.rbuf[:headerLen]
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
		for _, b := range [][]byte{r.first, r.into, c.pk.spill.mem} {
			if len(b) > 0 {
				v := unix.Iovec{Base: &b[0]}
				v.SetLen(len(b))
				iov = append(iov, v)
			}
		}
		r.msg.Iov = &r.iov[0]
		r.msg.SetIovlen(len(iov))
		r.msg.Control = &c.pk.oob[0]
		r.msg.SetControllen(len(c.pk.oob))
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

func (c *Conn) recvmsg(ctx context.Context, park bool) (Msg, error) {
	if c.pk.spill == nil {
		s, err := newSpillRegion(maxDatagram - smallRecv)
		if err != nil {
			return Msg{}, err
		}
		c.pk.spill = s
	}
	r := &c.pk.recv
	r.err, r.reset = nil, false
	start := time.Now()
	fn := r.pollFn
	if !park {
		fn = r.onceFn
	}
	err := c.rc.Control(fn)
	if err == nil && !r.done && !park {
		r.err, r.first = nil, nil
		return Msg{}, ErrWouldBlock
	}
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
	hdr := first[:min(n, len(first))]
	fds, err := parseRights(c.pk.oob[:oobn])
	if err != nil {
		return withHeader(Msg{}, err, hdr)
	}
	if n == 0 && len(fds) == 0 {
		return Msg{}, io.EOF
	}
	switch {
	case flags&unix.MSG_CTRUNC != 0:
		descr.Close(fds)
		return withHeader(Msg{}, protoErr("descriptors of a message lost on receipt (is this process out of descriptors?)"), hdr)
	case flags&unix.MSG_TRUNC != 0:
		descr.Close(fds)
		return withHeader(Msg{}, protoErr("datagram truncated: larger than the inline limit"), hdr)
	}
	r.large = n > peekAbove
	if into := r.into; into != nil && n >= headerLen && n-headerLen <= len(into) {
		m, err := parseParts(c.pk.rbuf[:headerLen], into[:n-headerLen], true, fds, c.limit(), into)
		return withHeader(m, err, c.pk.rbuf[:headerLen])
	}
	dgram, owned := c.received(first, owned, n)
	m, err := parseDatagram(dgram, owned, fds, c.limit())
	return withHeader(m, err, dgram)
}

// withHeader gives a receive that failed on a datagram (too large for the
// cap, or malformed) the Kind and Seq its header, dgram's start, says, so
// that a caller that numbers its datagrams knows which one was lost.
func withHeader(m Msg, err error, dgram []byte) (Msg, error) {
	if err != nil && len(dgram) >= headerLen {
		m = Msg{Kind: dgram[0], Seq: binary.BigEndian.Uint32(dgram[4:8])}
	}
	return m, err
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
	k += copy(buf[k:], c.pk.recv.into)
	if k < n {
		copy(buf[k:], c.pk.spill.mem[:n-k])
		c.pk.spill.release(n - k)
	}
	return buf, true
}

// inlineLimit returns the largest payload that fits one datagram of the
// socket fd, raising its send buffer as far as the system allows.
func inlineLimit(fd int) int {
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, MaxInline+(1<<20))
	sb, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		return smallRecv - headerLen
	}
	// The kernel refuses a datagram larger than the send buffer less a
	// little; keep a margin for its accounting.
	return max(smallRecv-headerLen, min(MaxInline, sb/2-4096))
}
