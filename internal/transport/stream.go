package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// A stream Conn carries messages over a byte stream, which keeps no
// message boundaries: a TCP connection (NewStream), which carries no
// descriptors, or a Unix stream socket (NewUnixStream, unixstream.go),
// which does. Each message travels as a frame: its payload's length as 4
// big-endian bytes, the kind byte, a flags byte, then the payload. The
// flags, on a Unix stream only: frameFDs, descriptors travel with the
// frame's first bytes; frameMemfd, the payload is in a memfd that travels
// as the last descriptor, and the frame holds its size (8 big-endian
// bytes).
//
// A Unix stream sends a payload larger than smallMsg in a memfd, as a
// SOCK_SEQPACKET Conn does above its socket's limit: it moves 1 MiB about
// three times faster than the stream itself (whose buffers the kernel
// caps, so that the bytes cross in many rounds of wake-ups), and it keeps
// every frame small, so that a frame goes out in one sendmsg, which the
// kernel takes whole once it has room: a send that its context ends
// while it waits for room leaves the stream as it was, where an inline
// frame of 1 MiB cut half way would break the sending side for good.
const (
	streamHeaderLen = 4 + 2
	frameFDs        = 1 << 0
	frameMemfd      = 1 << 1
	memfdFrameLen   = 8
)

// streamState is what a stream Conn keeps between calls: a receive that
// its context ended in the middle of a frame leaves what it read here, and
// the next receive goes on from there, so that the stream never loses its
// place. A send cut in the middle of a frame cannot be resumed (the rest
// of the frame would follow whatever the next send wrote): it breaks the
// sending side for good.
//
// The payload's buffer grows as its bytes arrive, never ahead of them by
// more than it already holds (or firstChunk): a peer that declares a frame
// of 1 GiB and sends ten bytes of it costs this side 64 KiB, not 1 GiB,
// while a frame that does arrive whole is copied about once more than it
// would be into a buffer of its final size.
type streamState struct {
	// unix says the stream is a Unix socket, whose frames carry
	// descriptors; set at creation.
	unix bool
	// hdr, hdrN, body, size, fds, lost and oob are guarded by the Conn's
	// rmu.
	hdr  [streamHeaderLen]byte
	hdrN int
	body []byte // nil until the header is complete; then what has arrived
	size int    // the payload's length, once the header is complete
	// fds are the descriptors received with the frame being received: a
	// receive never reads past the end of a frame, so every descriptor
	// the kernel hands over with its bytes is this frame's.
	fds []int
	// lost says some of the frame's descriptors did not arrive (the
	// kernel dropped those beyond the control buffer, or beyond maxFDs):
	// the frame is refused once read.
	lost bool
	oob  []byte // the control buffer of a Unix stream's receives
	// into is the caller's memory for the payload (RecvInto) during a
	// receive; inInto says body is part of it.
	into   []byte
	inInto bool
	// ended is the end of the stream, or the error of a read, that a Poll
	// found: the receive after it returns that instead of reading again
	// (where an ended context could win over what the Poll saw).
	ended error
	// broken, guarded by the Conn's wmu, is why the sending side can no
	// longer be used; nil while it can.
	broken error
}

// NewStream makes a Conn of fd, a connected SOCK_STREAM socket of a
// network (TCP), and takes ownership of it. Messages keep their boundaries
// by framing; they cannot carry descriptors (a send with some fails with
// an error matching errs.ErrHandles).
func NewStream(fd int) (*Conn, error) {
	f, rc, err := adopt(fd, unix.SOCK_STREAM, "SOCK_STREAM", "mp-stream")
	if err != nil {
		return nil, err
	}
	return &Conn{f: f, rc: rc, stream: new(streamState), rmu: ctxio.NewLock(), wmu: ctxio.NewLock()}, nil
}

// Stream reports whether c carries its messages over a network byte
// stream (NewStream), and so cannot carry descriptors or travel to
// another process. A Conn over a Unix stream socket (NewUnixStream) can
// do both: Stream reports false for it.
func (c *Conn) Stream() bool { return c.stream != nil && !c.stream.unix }

// Framed reports whether c carries its messages as frames on a byte
// stream (NewStream, NewUnixStream), whose socket is readable from a
// frame's first byte on: a caller that polls the descriptor itself must
// then ask Poll whether a whole message has arrived.
func (c *Conn) Framed() bool { return c.stream != nil }

// sendStream writes m as one frame.
func (c *Conn) sendStream(ctx context.Context, m Msg) error {
	s := c.stream
	var oob []byte
	switch {
	case len(m.FDs) > 0 && !s.unix:
		return fmt.Errorf("%w: a Conn over a network connection carries no descriptors", errs.ErrHandles)
	case len(m.FDs) > maxFDs:
		return fmt.Errorf("mp: %d descriptors in one message, at most %d", len(m.FDs), maxFDs)
	case uint64(len(m.Data)) > 1<<32-1:
		return fmt.Errorf("%w: %d bytes in one message", errs.ErrTooLarge, len(m.Data))
	case m.Seq != 0:
		return protoErr("a stream carries no message numbers")
	}
	if c.closed.Load() {
		return errs.ErrClosed
	}
	var flags byte
	fds, data := m.FDs, m.Data
	if s.unix && len(data) > smallMsg {
		memfd, err := writeMemfd(data)
		if err != nil {
			return err
		}
		defer unix.Close(memfd)
		fds = append(fds[:len(fds):len(fds)], memfd)
		data = binary.BigEndian.AppendUint64(nil, uint64(len(data)))
		flags |= frameMemfd
	}
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
		flags |= frameFDs
	}
	if err := c.wmu.Lock(ctx); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	if s.broken != nil {
		return s.broken
	}
	hdr := binary.BigEndian.AppendUint32(make([]byte, 0, streamHeaderLen+len(data)), uint32(len(data)))
	hdr = append(hdr, m.Kind, flags)
	disarm := ctxio.ArmDeadline(ctx, c.f.SetWriteDeadline)
	defer disarm()
	var n int
	var err error
	if len(data) <= smallMsg { // one write
		n, err = c.writeFrame(append(hdr, data...), oob)
	} else { // large (over TCP): no copy
		if n, err = c.writeFrame(hdr, oob); err == nil {
			var k int
			k, err = c.f.Write(data)
			n += k
		}
	}
	if err != nil && n > 0 {
		// Part of the frame went out: the peer could not tell the rest of
		// it from the next frame. End the stream in a way it notices.
		c.rc.Control(func(fd uintptr) { unix.Shutdown(int(fd), unix.SHUT_WR) })
		s.broken = fmt.Errorf("mp: send: an earlier send was cut off in the middle of a message (%w), so the connection can no longer send", c.opErr("send", ctx, err))
		return s.broken
	}
	return c.opErr("send", ctx, err)
}

// writeFrame writes b, the start of a frame, with the control message oob
// (descriptors) if there is one, waiting while the socket is full; it
// returns how much of b went out.
func (c *Conn) writeFrame(b, oob []byte) (int, error) {
	if oob == nil {
		return c.f.Write(b)
	}
	n, err := c.sendRights(b, oob)
	if err == nil && n < len(b) {
		var k int
		k, err = c.f.Write(b[n:])
		n += k
	}
	return n, err
}

// recvStream reads the next frame, or the rest of the one a receive or a
// Poll before it began. A frame whose header it reads, and whose payload
// fits into, is received into into (RecvInto).
func (c *Conn) recvStream(ctx context.Context, into []byte) (Msg, error) {
	disarm := ctxio.ArmDeadline(ctx, c.f.SetReadDeadline)
	defer disarm()
	s := c.stream
	s.into = into
	defer func() {
		s.into = nil
		if s.inInto && s.body != nil {
			// Cut off: what arrived of the frame cannot stay in the
			// caller's memory, which is the caller's again.
			s.body, s.inInto = bytes.Clone(s.body), false
		}
	}()
	err := c.fillFrame(func(b []byte) (int, error) {
		if s.ended != nil {
			return 0, c.streamErr(ctx, s.ended, s.hdrN > 0)
		}
		n, err := c.readStream(b)
		if err != nil {
			err = c.streamErr(ctx, err, s.hdrN+n > 0)
		}
		return n, err
	})
	if err != nil {
		return Msg{}, err
	}
	return s.takeFrame(c.limit(), into)
}

// readStream reads once into b, waiting until something arrives. On a
// Unix stream it polls for a while first (package spin), as a receive on
// a SOCK_SEQPACKET socket does: the other side is most often another
// process of this program, about to answer, and waking from the poller
// costs most of a round trip. A network stream parks at once.
func (c *Conn) readStream(b []byte) (int, error) {
	var n int
	rerr := error(unix.EAGAIN)
	try := func(fd uintptr) bool {
		n, rerr = c.recvOnce(int(fd), b)
		return rerr != unix.EAGAIN
	}
	start := time.Now()
	var err error
	if c.stream.unix {
		err = c.rc.Control(func(fd uintptr) { c.wait.Until(func() bool { return try(fd) }) })
	}
	if err == nil && rerr == unix.EAGAIN {
		err = c.rc.Read(try)
	}
	if c.stream.unix {
		c.wait.Waited(time.Since(start))
	}
	if err == nil {
		err = rerr
	}
	return n, err
}

// takeFrame returns the frame just received whole as a message, reading
// its payload from its memfd if it is in one, and makes ready for the
// next; a frame whose descriptors did not all arrive, or that has
// descriptors its header does not announce, or a malformed memfd frame,
// is refused (its descriptors closed), and the stream goes on at the next
// frame.
func (s *streamState) takeFrame(limit int, dst []byte) (Msg, error) {
	m := Msg{Kind: s.hdr[4], Data: s.body, FDs: s.fds}
	flags, lost := s.hdr[5], s.lost
	s.hdrN, s.body, s.size, s.fds, s.lost, s.inInto = 0, nil, 0, nil, false, false
	switch {
	case lost:
		m.Close()
		return Msg{}, protoErr("a message's descriptors did not all arrive")
	case flags&frameFDs != 0 != (len(m.FDs) > 0):
		m.Close()
		return Msg{}, protoErr("a message's descriptors do not match its header")
	case flags&frameMemfd == 0:
		return m, nil
	case len(m.Data) != memfdFrameLen || len(m.FDs) == 0:
		m.Close()
		return Msg{}, protoErr("malformed large-message frame")
	}
	size := binary.BigEndian.Uint64(m.Data)
	memfd := m.FDs[len(m.FDs)-1]
	m.FDs = m.FDs[:len(m.FDs)-1]
	if size > uint64(limit) {
		unix.Close(memfd)
		m.Close()
		return Msg{}, fmt.Errorf("%w: %d bytes, cap %d", errs.ErrTooLarge, size, limit)
	}
	data, err := readMemfd(memfd, int(size), dst)
	if err != nil {
		m.Close()
		return Msg{}, err
	}
	m.Data = data
	return m, nil
}

// drop closes the descriptors of a frame half received; called with rmu
// held, once the Conn is closed.
func (s *streamState) drop() {
	descr.Close(s.fds)
	s.fds = nil
}

// fillFrame reads into the frame being received with read until the frame
// is whole or read fails, and returns read's error, or the header's if it
// is not valid. Called with rmu held.
func (c *Conn) fillFrame(read func([]byte) (int, error)) error {
	s := c.stream
	for s.body == nil {
		n, err := read(s.hdr[s.hdrN:])
		s.hdrN += n
		if err != nil {
			return err
		}
		if s.hdrN == len(s.hdr) {
			if err := c.startBody(); err != nil {
				return err
			}
		}
	}
	for len(s.body) < s.size {
		n, err := read(s.room())
		s.body = s.body[:len(s.body)+n]
		if err != nil {
			return err
		}
	}
	return nil
}

// recvOnce reads once from fd, without blocking, into b, which never
// reaches past the end of the frame being received; on a Unix stream the
// descriptors that come with those bytes join the frame's. It returns
// io.EOF at the end of the stream, and unix.EAGAIN if nothing has
// arrived. Called with rmu held.
func (c *Conn) recvOnce(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	s := c.stream
	for {
		var n, oobn, flags int
		var err error
		if s.unix {
			n, oobn, flags, err = c.recvRights(fd, b)
		} else {
			n, err = unix.Read(fd, b)
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ECONNRESET:
			// A Unix peer closed with bytes of ours unread; Linux reports
			// that once, after everything it sent was read. A TCP peer
			// that resets ends the stream too.
			return 0, io.EOF
		case err != nil:
			return 0, err
		}
		if s.unix {
			s.addRights(oobn, flags)
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// frameReady reports whether a receive would return without blocking:
// whether the frame being received is whole once what has arrived of it is
// read, without blocking, from fd, or the stream has ended or failed. It
// is Poll's test for a stream Conn: the socket is readable as soon as the
// first byte of a frame arrives, and the receive would then wait for the
// rest. Called with rmu held.
func (c *Conn) frameReady(fd int) bool {
	err := c.fillFrame(func(b []byte) (int, error) { return c.recvOnce(fd, b) })
	if err != nil && err != unix.EAGAIN && !errors.Is(err, errs.ErrProtocol) {
		c.stream.ended = err
	}
	return err != unix.EAGAIN
}

// firstChunk is the most a frame's buffer holds before its bytes arrive.
const firstChunk = 64 << 10

// room returns the part of the payload's buffer the next read fills: the
// free space after what has arrived, which it first doubles if there is
// none, up to the frame's end (never beyond: the next frame's bytes are
// not this one's).
func (s *streamState) room() []byte {
	if len(s.body) == cap(s.body) {
		s.body = slices.Grow(s.body, min(s.size-len(s.body), max(len(s.body), firstChunk)))
	}
	return s.body[len(s.body):min(cap(s.body), s.size)]
}

// startBody checks a complete header and makes room for its payload.
func (c *Conn) startBody() error {
	s := c.stream
	size := binary.BigEndian.Uint32(s.hdr[:4])
	limit := c.limit()
	known := byte(0)
	if s.unix {
		known = frameFDs | frameMemfd
	}
	var err error
	switch {
	case s.hdr[5]&^known != 0:
		err = protoErr(fmt.Sprintf("unknown frame flags %#x", s.hdr[5]))
	case uint64(size) > uint64(limit):
		err = fmt.Errorf("%w: %d bytes, cap %d", errs.ErrTooLarge, size, limit)
	}
	if err != nil {
		// The stream cannot go past this frame: the descriptors that came
		// with its first bytes will never be handed over.
		descr.Close(s.fds)
		s.fds = nil
		return err
	}
	if size > 0 && int(size) <= len(s.into) {
		s.body, s.size, s.inInto = s.into[:0:size], int(size), true
		return nil
	}
	s.body, s.size = make([]byte, 0, min(int(size), firstChunk)), int(size)
	return nil
}

// streamErr turns a failed read into the receive's error; inside says
// whether a frame had begun.
func (c *Conn) streamErr(ctx context.Context, err error, inside bool) error {
	if errors.Is(err, io.EOF) && c.stream.body != nil {
		return fmt.Errorf("%w: the connection ended after %d of the %d bytes of a message", io.ErrUnexpectedEOF, len(c.stream.body), c.stream.size)
	}
	if errors.Is(err, io.EOF) && inside {
		return fmt.Errorf("%w: the connection ended inside a message's header", io.ErrUnexpectedEOF)
	}
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return c.opErr("receive", ctx, err)
}
