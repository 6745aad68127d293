package transport

import (
	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/descr"
	"golang.org/x/sys/unix"
)

// A Unix stream socket carries frames (stream.go) with descriptors: the
// sender passes a frame's descriptors (SCM_RIGHTS) with the sendmsg that
// writes its first bytes, and the receiver reads with recvmsg and a
// control buffer, never past the end of the frame it is reading. The
// kernel hands descriptors over with the bytes they were sent with, and a
// read never takes bytes of two sends that carry descriptors (Linux's
// unix(7), FreeBSD's and macOS's unix(4)), so every descriptor a read
// brings belongs to the frame being read, whatever the systems' other
// differences in how they attach descriptors to bytes.
//
// A payload larger than smallMsg travels in a memfd (see frameMemfd).
//
// It is the portable build's only Unix message socket (NewConn), and is
// built everywhere so that its tests run on Linux's own build too.
//
// What a byte stream cannot do that SOCK_SEQPACKET does: keep messages
// whole between DIFFERENT PROCESSES sending on one end at the same time,
// or receiving from one end at the same time. A frame is written, and
// read, in more than one system call when it is large (and the receiver
// reads its header before its payload), and the calls of two processes
// interleave: the stream is then corrupt (a receiver reports a protocol
// error, or takes the wrong bytes as a message). Python documents the same
// of its Pipe ("data in a pipe may become corrupted if two processes try
// to read from or write to the same end at the same time"). Within one
// process, sends are serialized, and so are receives, as on every Conn.
// A send that a context ends after part of a frame went out breaks the
// sending side (see streamState); a small frame (up to smallMsg bytes)
// goes out in one sendmsg, which systems carry out whole or not at all
// when the socket's buffer has room for it, so in practice only large
// messages can be cut.

// unixBuffer is the send and receive buffer a Unix stream socket asks for:
// macOS's default (8 KiB) would make a large message take hundreds of
// system calls and wake-ups. Systems cap it at their own limit.
const unixBuffer = 1 << 20

// NewUnixStream makes a Conn of fd, a connected AF_UNIX SOCK_STREAM
// socket, and takes ownership of it. Its messages carry descriptors, and
// the Conn can travel to another process.
func NewUnixStream(fd int) (*Conn, error) {
	f, rc, err := adopt(fd, unix.SOCK_STREAM, "SOCK_STREAM", "mp-socket")
	if err != nil {
		return nil, err
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, unixBuffer)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, unixBuffer)
	s := &streamState{unix: true, oob: make([]byte, unix.CmsgSpace(4*(maxFDs+1)))}
	return &Conn{f: f, rc: rc, stream: s, rmu: ctxio.NewLock(), wmu: ctxio.NewLock()}, nil
}

// sendRights makes one sendmsg of b with the control message oob, waiting
// while the socket is full; it returns how much of b went out, at least
// one byte (which carries the descriptors) unless it fails.
func (c *Conn) sendRights(b, oob []byte) (int, error) {
	var n int
	var serr error
	err := c.rc.Write(func(fd uintptr) bool {
		for {
			n, serr = unix.SendmsgN(int(fd), b, oob, nil, 0)
			if serr != unix.EINTR {
				return serr != unix.EAGAIN
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// recvRights makes one recvmsg into b, with the stream's control buffer.
func (c *Conn) recvRights(fd int, b []byte) (n, oobn, flags int, err error) {
	return descr.Recvmsg(fd, b, c.stream.oob, 0)
}

// addRights adds the descriptors of the control message just received
// (oobn bytes of the control buffer, with recvmsg's flags) to the frame's.
//
// They are close-on-exec already (descr.Recvmsg).
func (s *streamState) addRights(oobn, flags int) {
	if oobn == 0 && flags&unix.MSG_CTRUNC == 0 {
		return
	}
	fds, err := parseRights(s.oob[:oobn])
	if err != nil || flags&unix.MSG_CTRUNC != 0 || len(s.fds)+len(fds) > maxFDs+1 {
		// The kernel dropped some (the control buffer holds maxFDs and a
		// memfd), or a hostile peer sends more with every part of a frame:
		// keep none beyond the limit, and refuse the frame once read.
		s.lost = true
		keep := max(0, min(len(fds), maxFDs+1-len(s.fds)))
		descr.Close(fds[keep:])
		fds = fds[:keep]
	}
	s.fds = append(s.fds, fds...)
}
