//go:build !linux || mpportable

package queue

import (
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mp/internal/descr"
	"golang.org/x/sys/unix"
)

// In the portable build the queue's socket is a Unix stream pair (macOS
// has no SOCK_SEQPACKET), on which each datagram is a frame: its length (4
// bytes, big-endian), then the datagram. Only one process at a time sends
// or receives on it (under the queue's lock), so frames cannot interleave.
//
// Every send and receive of a frame is one system call, so that a process
// killed at any instruction leaves the stream at a frame boundary: a frame
// is sent with one non-blocking sendmsg, which the systems carry out whole
// or not at all while it is small enough (Linux, up to half the send
// buffer; macOS and FreeBSD, up to the send low-water mark, which
// newSocketPair raises to frameMax); a frame is received with one recvmsg
// of exactly its length, read first with MSG_PEEK, which the systems end
// at the frame's end and, with the descriptors sent with its first byte,
// at no earlier point.
//
// The datagram cannot stay in the socket while a Get hands its item over,
// as it does on a SOCK_SEQPACKET socket: a peek hands over no descriptors
// on macOS and FreeBSD (only Linux installs copies of a peeked message's
// descriptors), so a Get takes the frame out (takePacket) before it hands
// the item over and commits its removal. So that a getter killed in
// between does not lose the item, the Get first sends the frame, with its
// descriptors, back into the pair the other way (hold: written on the
// receive end, read on the send end, a direction nothing else uses), and
// removes that copy once it has committed (dropTaken). The next Get looks
// there first (takeHeld): a copy whose ticket is still first is the item
// of a getter that died before its commit, and is handed over again; an
// older one is the leftover of a getter that died after, and is dropped.
//
// What is left: a getter killed between the receive and the send of the
// copy (two system calls, a few microseconds) loses that item, and so
// does a Get that finds no room for the copy (the pair's buffer full the
// other way, which only copies fill). The next Get finds the ticket
// without its datagram and drops it, and the queue goes on. Items that
// travel through the queue's memory (those without descriptors, up to the
// bulk ring's limit) are not affected.

const (
	// dgramInline is the largest item sent in the frame itself; a larger
	// one travels as a blob, so that frames stay small.
	dgramInline = 1 << 10
	frameLen    = 4
	// frameMax bounds a frame with its control message (250 descriptors
	// are 2 KiB inside the kernel on 64-bit systems).
	frameMax = 8 << 10
)

// newSocketPair returns a non-blocking Unix stream pair, close-on-exec.
func newSocketPair() ([2]int, error) {
	fds, err := descr.StreamPair()
	if err != nil {
		return fds, fmt.Errorf("mp: socket pair for a queue: %w", err)
	}
	for _, fd := range fds {
		unix.SetNonblock(fd, true)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sockBuffer)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, sockBuffer)
		// BSD sockets send a non-blocking write in part once the buffer
		// has the low-water mark's room: raised, a frame goes whole or
		// waits. Linux refuses the option, and never splits a frame this
		// small.
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDLOWAT, frameMax)
	}
	return fds, nil
}

// checkSocket checks that fd, received from another process, is a
// SOCK_STREAM socket, and makes it non-blocking.
func checkSocket(fd int) error {
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		return protoErr("queue socket is not a SOCK_STREAM socket")
	}
	return unix.SetNonblock(fd, true)
}

// trySend sends p's frame without waiting; it returns false if the socket
// has no room for it.
func trySend(fd int, p *packet) (bool, error) {
	var oob []byte
	if len(p.fds) > 0 {
		oob = unix.UnixRights(p.fds...)
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, frameLen+len(p.dgram)), uint32(len(p.dgram)))
	frame = append(frame, p.dgram...)
	for {
		n, err := unix.SendmsgN(fd, frame, oob, nil, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN || err == unix.ENOBUFS:
			return false, nil
		case err != nil:
			return false, fmt.Errorf("mp: queue send: %w", err)
		case n != len(frame):
			// Not for frames of this size (see the comment at the top);
			// the stream now holds part of a frame, which the next Get
			// reports as damage.
			return false, fmt.Errorf("mp: queue send: %d of a frame's %d bytes went out", n, len(frame))
		}
		return true, nil
	}
}

// peekFrame reads the start of the first frame in the socket without
// taking it: its length, and what fits b of its datagram. present is false
// when the socket is empty.
func peekFrame(fd int, b []byte) (n, size int, present bool, err error) {
	var hdr [frameLen + dgramHdr]byte
	for {
		k, _, _, _, err := unix.Recvmsg(fd, hdr[:], nil, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, 0, false, nil
		case err != nil:
			return 0, 0, false, fmt.Errorf("mp: queue receive: %w", err)
		case k == 0:
			return 0, 0, false, nil // cannot be: this process holds the other end
		case k < frameLen:
			return 0, 0, true, protoErr("queue frame shorter than its length")
		}
		return copy(b, hdr[frameLen:k]), int(binary.BigEndian.Uint32(hdr[:])), true, nil
	}
}

// peekSeq looks at the sequence number of the frame first in the socket
// without taking it (its descriptors stay in the socket too). present is
// false when the socket is empty; a frame too short to hold a sequence
// number gets number zero, which no ticket has.
func peekSeq(fd int) (seq uint64, present bool, err error) {
	var b [dgramHdr]byte
	n, _, present, err := peekFrame(fd, b[:])
	if err != nil || !present || n < dgramHdr {
		return 0, present, err
	}
	return binary.LittleEndian.Uint64(b[1:]), true, nil
}

// discardPacket takes the first frame out of the socket without taking
// its descriptors: the kernel closes them with it. A frame too long to be
// a queue's, or one that is not there whole, means the stream is out of
// step with its frames, which no later receive can repair: the error then
// matches errCorrupt.
func discardPacket(fd int) error {
	_, size, present, err := peekFrame(fd, nil)
	if err != nil || !present {
		return err
	}
	if size > maxDgram {
		return errOutOfStep
	}
	b := make([]byte, frameLen+size)
	for {
		n, _, _, _, err := unix.Recvmsg(fd, b, nil, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("mp: queue receive: %w", err)
		case n != len(b):
			return errOutOfStep
		}
		return nil
	}
}

// maxDgram is the longest datagram a queue's frame carries.
const maxDgram = dgramHdr + max(dgramInline, 8)

// errOutOfStep says that the queue's stream no longer starts with a
// frame's length.
var errOutOfStep = fmt.Errorf("%w: its socket is out of step with its frames", errCorrupt)

// takePacket takes the frame first in the socket, which is known to be
// waiting, out of it, and returns the item's bytes and its descriptors
// (the caller owns them).
func takePacket(fd int, rb *recvBuf) (dgram []byte, fds []int, err error) {
	if rb.data == nil {
		rb.data = make([]byte, frameLen+dgramHdr+dgramInline)
		rb.oob = make([]byte, unix.CmsgSpace(4*(maxItemFDs+3)))
	}
	_, size, present, err := peekFrame(fd, nil)
	if err != nil || !present {
		return nil, nil, fmt.Errorf("mp: queue receive (a ticket without its item: %v)", err)
	}
	if size > maxDgram {
		// Not a frame of a queue's: the bytes cannot be trusted.
		return nil, nil, errOutOfStep
	}
	b := rb.data[:frameLen+size]
	for {
		n, oobn, flags, err := descr.Recvmsg(fd, b, rb.oob, unix.MSG_DONTWAIT)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("mp: queue receive (a ticket without its item: %w)", err)
		}
		fds, perr := parseRights(rb.oob[:oobn])
		if perr != nil || flags&unix.MSG_CTRUNC != 0 || n != len(b) {
			descr.Close(fds)
			return nil, nil, protoErr("malformed queue frame")
		}
		return append([]byte(nil), b[frameLen:]...), fds, nil
	}
}

// hold sends a copy of a frame just taken out, with its descriptors, back
// into the pair the other way, where it stays until the Get that took it
// commits (dropTaken). Without room for it, the item goes unguarded.
func hold(sock [2]int, dgram []byte, fds []int) {
	trySend(sock[1], &packet{dgram: dgram, fds: fds, blob: -1})
}

// takeHeld takes out the copy of the frame whose sequence number is want,
// if a getter that died before its commit left one (found), dropping older
// copies on the way.
func takeHeld(sock [2]int, want uint64, rb *recvBuf) (dgram []byte, fds []int, found bool, err error) {
	for range maxHeld {
		seq, present, err := peekSeq(sock[0])
		switch {
		case err != nil:
			return nil, nil, false, err
		case !present:
			return nil, nil, false, nil
		case seq != want:
			if err := discardPacket(sock[0]); err != nil {
				return nil, nil, false, err
			}
			continue
		}
		dgram, fds, err := takePacket(sock[0], rb)
		return dgram, fds, err == nil, err
	}
	return nil, nil, false, nil
}

// dropTaken removes the copy hold made, once the Get that took its item
// committed the removal.
func dropTaken(sock [2]int) {
	for range maxHeld {
		if _, present, err := peekSeq(sock[0]); err != nil || !present || discardPacket(sock[0]) != nil {
			return
		}
	}
}

// maxHeld bounds the copies a Get looks through: at most one is held at a
// time, and one more can be left by a getter that died after its commit.
const maxHeld = 4
