//go:build linux && !mpportable

package queue

import (
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mp/internal/descr"
	"golang.org/x/sys/unix"
)

// On Linux the queue's socket is a SOCK_SEQPACKET pair, and a Get reads a
// copy of the item's datagram with MSG_PEEK, descriptors included (Linux
// installs duplicates of a peeked datagram's descriptors), so that the
// datagram stays in the socket until the Get has handed the item over and
// committed its removal: a getter that dies in between leaves the item in
// the queue (see handOverAndUnlock).

// dgramInline is the largest item sent in the datagram itself.
const dgramInline = 32 << 10

// newSocketPair returns a non-blocking SOCK_SEQPACKET pair.
func newSocketPair() ([2]int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return fds, fmt.Errorf("mp: socket pair for a queue: %w", err)
	}
	for _, fd := range fds {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sockBuffer)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, sockBuffer)
	}
	return fds, nil
}

// checkSocket checks that fd, received from another process, is a
// SOCK_SEQPACKET socket, and makes it non-blocking.
func checkSocket(fd int) error {
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_SEQPACKET {
		return protoErr("queue socket is not a SOCK_SEQPACKET socket")
	}
	return unix.SetNonblock(fd, true)
}

// trySend sends p without waiting; it returns false if the socket is full.
func trySend(fd int, p *packet) (bool, error) {
	var oob []byte
	if len(p.fds) > 0 {
		oob = unix.UnixRights(p.fds...)
	}
	for {
		err := unix.Sendmsg(fd, p.dgram, oob, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
		switch err {
		case nil:
			return true, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN, unix.ENOBUFS:
			return false, nil
		}
		return false, fmt.Errorf("mp: queue send: %w", err)
	}
}

// peekSeq looks at the sequence number of the datagram first in the
// socket without taking it (its descriptors stay in the socket too).
// present is false when the socket is empty; a datagram too short to hold
// a sequence number gets number zero, which no ticket has.
func peekSeq(fd int) (seq uint64, present bool, err error) {
	var b [dgramHdr]byte
	for {
		n, _, _, _, err := unix.Recvmsg(fd, b[:], nil, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, false, nil
		case err != nil:
			return 0, false, fmt.Errorf("mp: queue receive: %w", err)
		case n < dgramHdr:
			return 0, true, nil
		}
		return binary.LittleEndian.Uint64(b[1:]), true, nil
	}
}

// discardPacket takes the first datagram out of the socket without taking
// its descriptors: the kernel closes them with it.
// It never fails: a datagram always goes whole.
func discardPacket(fd int) error {
	var b [1]byte
	for {
		_, _, _, _, err := unix.Recvmsg(fd, b[:], nil, unix.MSG_DONTWAIT)
		if err != unix.EINTR {
			return nil
		}
	}
}

// takePacket reads a copy of the datagram first in the socket, which is
// known to be waiting, and returns the item's bytes and copies of its
// descriptors (the caller owns them); the datagram stays in the socket.
func takePacket(fd int, rb *recvBuf) (dgram []byte, fds []int, err error) {
	if rb.data == nil {
		rb.data = make([]byte, dgramInline+dgramHdr+8)
		rb.oob = make([]byte, unix.CmsgSpace(4*(maxItemFDs+3)))
	}
	for {
		n, oobn, flags, _, err := unix.Recvmsg(fd, rb.data, rb.oob, unix.MSG_PEEK|unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("mp: queue receive (a ticket without its item: %w)", err)
		}
		fds, perr := parseRights(rb.oob[:oobn])
		if perr != nil || flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || n == 0 {
			descr.Close(fds)
			return nil, nil, protoErr("malformed queue datagram")
		}
		return append([]byte(nil), rb.data[:n]...), fds, nil
	}
}

// dropTaken removes the datagram takePacket read a copy of, once the Get
// that took its item committed the removal.
func dropTaken(sock [2]int) { discardPacket(sock[1]) }

// takeHeld finds nothing: a datagram stays in the socket until its Get
// commits (dropTaken), so no copy is ever held aside.
func takeHeld([2]int, uint64, *recvBuf) ([]byte, []int, bool, error) { return nil, nil, false, nil }

// hold has nothing to do, for the same reason.
func hold([2]int, []byte, []int) {}
