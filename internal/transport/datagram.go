//go:build linux && !mpportable

package transport

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
)

// A datagram starts with a 16-byte header: the message kind (the upper
// layer's business), flags, two zero bytes, the message's Seq as 4
// big-endian bytes, and a length as 8 big-endian bytes, zero unless flagMemfd is set. With flagMemfd, the payload lives in
// a memfd that travels as the last descriptor, the length is its size, and
// the header is the whole datagram; otherwise the payload follows the
// header.
//
// The header is 16 bytes, not 2, for the kernel's copy: a payload that
// starts 16 bytes into the datagram lies at the same offset modulo 16 in
// the sender's memory (a Go allocation), in the socket's buffer and in the
// receiver's, and Linux copies 1 MiB about five times faster so (12 GB/s
// against 2.4 GB/s here, where a 2- or 8-byte header leaves it misaligned).
const (
	headerLen  = 16
	flagMemfd  = 1 << 0
	knownFlags = flagMemfd
	// smallRecv is the part of the receive buffer every Conn has; a
	// datagram larger than that spills into a lazily mapped region, or is
	// received into memory of its own size (see Conn.tryRecv).
	smallRecv = smallMsg + headerLen
	// peekAbove is the size of a datagram above which a receive that
	// expects another like it asks its size first and receives it into
	// memory of its own, which becomes the message (see Conn.tryRecv):
	// beyond it, the copy out of the small buffer costs more than the
	// system call that asks.
	peekAbove = 16 << 10
	// maxDatagram is the largest datagram a receiver takes whole: the
	// payloads above the socket's own limit (or above MaxInline) travel
	// in a memfd.
	maxDatagram = MaxInline + headerLen
)

// putHeader writes a datagram's header to b.
func putHeader(b *[headerLen]byte, kind, flags byte, seq uint32, memfdSize uint64) {
	*b = [headerLen]byte{kind, flags}
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint64(b[8:], memfdSize)
}

// parseDatagram turns a received datagram and its descriptors into a Msg.
// It owns fds: on error it closes them all. If owned, buf is the caller's
// to give away and the message's Data is part of it; otherwise Data is
// copied out of buf.
func parseDatagram(buf []byte, owned bool, fds []int, maxSize int) (Msg, error) {
	m, err := parse(buf, owned, fds, maxSize, nil)
	if err != nil {
		descr.Close(fds)
		return Msg{}, err
	}
	return m, nil
}

func parse(buf []byte, owned bool, fds []int, maxSize int, dst []byte) (Msg, error) {
	if len(buf) < headerLen {
		return Msg{}, protoErr("datagram shorter than its header")
	}
	return parseParts(buf[:headerLen], buf[headerLen:], owned, fds, maxSize, dst)
}

// parseParts is parseDatagram of a datagram received in two parts: its
// header and what follows it; a payload in a memfd is read into dst if it
// is large enough.
func parseParts(hdr, payload []byte, owned bool, fds []int, maxSize int, dst []byte) (Msg, error) {
	m, err := parseHeaderAnd(hdr, payload, owned, fds, maxSize, dst)
	if err != nil {
		descr.Close(fds)
		return Msg{}, err
	}
	return m, nil
}

func parseHeaderAnd(buf, payload []byte, owned bool, fds []int, maxSize int, dst []byte) (Msg, error) {
	kind, flags := buf[0], buf[1]
	if flags&^knownFlags != 0 {
		return Msg{}, protoErr(fmt.Sprintf("unknown datagram flags %#x", flags))
	}
	if buf[2] != 0 || buf[3] != 0 {
		return Msg{}, protoErr("datagram header with unknown fields set")
	}
	seq := binary.BigEndian.Uint32(buf[4:8])
	size := binary.BigEndian.Uint64(buf[8:headerLen])
	if flags&flagMemfd == 0 {
		if size != 0 {
			return Msg{}, protoErr("datagram header with a memfd size and no memfd")
		}
		if len(payload) > maxSize {
			return Msg{}, fmt.Errorf("%w: %d bytes, cap %d", errs.ErrTooLarge, len(payload), maxSize)
		}
		data := payload[:len(payload):len(payload)]
		if !owned {
			data = bytes.Clone(payload)
		}
		return Msg{Kind: kind, Data: data, FDs: fds, Seq: seq}, nil
	}
	if len(payload) != 0 || len(fds) == 0 {
		return Msg{}, protoErr("malformed large-message datagram")
	}
	if size > uint64(maxSize) {
		return Msg{}, fmt.Errorf("%w: %d bytes, cap %d", errs.ErrTooLarge, size, maxSize)
	}
	memfd := fds[len(fds)-1]
	data, err := readMemfd(memfd, int(size), dst)
	fds = fds[:len(fds)-1]
	if err != nil {
		descr.Close(fds)
		return Msg{}, err
	}
	return Msg{Kind: kind, Data: data, FDs: fds, Seq: seq}, nil
}
