package queue

import (
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mp/internal/descr"
	"golang.org/x/sys/unix"
)

// A FIFO queue carries items that hold descriptors, and items too large for
// its ring, in a SOCK_SEQPACKET socket pair: producers send on one end,
// consumers receive from the other, one datagram per item. The ring holds a
// ticket where such an item stands in the order. Datagram and ticket are
// sent and written under the queue's lock, and received and removed under
// it, so the socket's order is the tickets' order and a receive under the
// lock never waits.
//
// A datagram is a flags byte, its sequence number (8 bytes, little-endian,
// the same as in its ticket) and the item's bytes; with flagBlob, the bytes
// live in a sealed memfd that travels as the last descriptor, and the
// datagram holds their length (8 bytes, little-endian) instead; flagRawItem
// carries Item.Raw.
const (
	flagBlob     = 1
	flagRawItem  = 2
	dgramInline  = 32 << 10
	maxItemFDs   = 250 // SCM_MAX_FD is 253; one is kept for the blob
	blobMinBytes = 64 << 10
	maxBlobBytes = 1 << 30
	sockBuffer   = 4 << 20
	seqLen       = 8 // bytes of a sequence number
	dgramHdr     = 1 + seqLen
)

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

// packet is an item ready to be sent: the datagram and its descriptors.
// A blob it made is closed by release.
type packet struct {
	dgram []byte
	fds   []int
	blob  int
}

// makePacket prepares data and fds for the socket, writing data to a memfd
// if it is large. It runs before the lock is taken.
func makePacket(data []byte, fds []int, itemFlags byte) (*packet, error) {
	if len(fds) > maxItemFDs {
		return nil, fmt.Errorf("mp: an item holds %d descriptors, at most %d", len(fds), maxItemFDs)
	}
	var flags byte
	if itemFlags&flagRaw != 0 {
		flags = flagRawItem
	}
	if len(data) <= dgramInline {
		dg := make([]byte, dgramHdr, dgramHdr+len(data))
		dg[0] = flags
		return &packet{dgram: append(dg, data...), fds: fds, blob: -1}, nil
	}
	blob, err := writeBlob(data)
	if err != nil {
		return nil, err
	}
	dg := make([]byte, dgramHdr, dgramHdr+8)
	dg[0] = flags | flagBlob
	dg = binary.LittleEndian.AppendUint64(dg, uint64(len(data)))
	return &packet{dgram: dg, fds: append(fds[:len(fds):len(fds)], blob), blob: blob}, nil
}

// setSeq writes the datagram's sequence number; the lock is held.
func (p *packet) setSeq(seq uint64) { binary.LittleEndian.PutUint64(p.dgram[1:], seq) }

func (p *packet) release() {
	if p != nil && p.blob >= 0 {
		unix.Close(p.blob)
		p.blob = -1
	}
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

// recvBuf is a receiver's scratch space.
type recvBuf struct {
	data, oob []byte
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
func discardPacket(fd int) {
	var b [1]byte
	for {
		_, _, _, _, err := unix.Recvmsg(fd, b[:], nil, unix.MSG_DONTWAIT)
		if err != unix.EINTR {
			return
		}
	}
}

// peekPacket reads a copy of the datagram first in the socket, which is
// known to be waiting, and returns the item's bytes and copies of its
// descriptors (the caller owns them); the datagram stays in the socket.
func peekPacket(fd int, rb *recvBuf) (dgram []byte, fds []int, err error) {
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

// openPacket turns a received datagram and its descriptors into the item,
// reading a blob. It owns fds: on error it closes them all.
func openPacket(dgram []byte, fds []int) (Item, error) {
	if len(dgram) < dgramHdr || dgram[0]&^(flagBlob|flagRawItem) != 0 {
		descr.Close(fds)
		return Item{}, protoErr("malformed queue datagram")
	}
	raw := dgram[0]&flagRawItem != 0
	if dgram[0]&flagBlob == 0 {
		return Item{Data: dgram[dgramHdr:], FDs: fds, Raw: raw}, nil
	}
	if len(dgram) != dgramHdr+8 || len(fds) == 0 {
		descr.Close(fds)
		return Item{}, protoErr("malformed large-item datagram")
	}
	size := binary.LittleEndian.Uint64(dgram[dgramHdr:])
	blob := fds[len(fds)-1]
	fds = fds[:len(fds)-1]
	data, err := readBlob(blob, size)
	if err != nil {
		descr.Close(fds)
		return Item{}, err
	}
	return Item{Data: data, FDs: fds, Raw: raw}, nil
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			descr.Close(fds)
			return nil, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}
