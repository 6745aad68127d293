package transport

import (
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// A datagram starts with a two-byte header: the message kind (the upper
// layer's business) and flags. With flagMemfd, the payload lives in a memfd
// that travels as the last descriptor, and the header is followed by its
// length as 8 big-endian bytes; otherwise the payload follows the header.
const (
	headerLen  = 2
	flagMemfd  = 1 << 0
	knownFlags = flagMemfd
	memfdExtra = 8
	maxFDs     = 250 // SCM_MAX_FD is 253
	defaultCap = 1 << 30
	// smallRecv is the part of the receive buffer every Conn has; a
	// datagram larger than that spills into a lazily mapped region.
	smallRecv = 64 << 10
	// maxInline is the largest datagram a receiver accepts: the payloads
	// above the socket's own limit (or above this) travel in a memfd.
	maxInline = 8 << 20
)

// Msg is one message: a kind byte for the layer above, the payload, and
// descriptors that travel with it (owned by whoever holds the Msg).
type Msg struct {
	Kind byte
	Data []byte
	FDs  []int
}

// Close closes the message's descriptors.
func (m *Msg) Close() {
	for _, fd := range m.FDs {
		unix.Close(fd)
	}
	m.FDs = nil
}

func protoErr(msg string) error { return errs.ProtocolError(msg) }

// parseDatagram turns a received datagram and its descriptors into a Msg.
// It owns fds: on error it closes them all. Data is copied out of buf.
func parseDatagram(buf []byte, fds []int, maxSize int) (Msg, error) {
	m, err := parse(buf, fds, maxSize)
	if err != nil {
		descr.Close(fds)
		return Msg{}, err
	}
	return m, nil
}

func parse(buf []byte, fds []int, maxSize int) (Msg, error) {
	if len(buf) < headerLen {
		return Msg{}, protoErr("datagram shorter than its header")
	}
	kind, flags := buf[0], buf[1]
	if flags&^knownFlags != 0 {
		return Msg{}, protoErr(fmt.Sprintf("unknown datagram flags %#x", flags))
	}
	if flags&flagMemfd == 0 {
		if len(buf)-headerLen > maxSize {
			return Msg{}, fmt.Errorf("%w: %d bytes, cap %d", errs.ErrTooLarge, len(buf)-headerLen, maxSize)
		}
		data := make([]byte, len(buf)-headerLen)
		copy(data, buf[headerLen:])
		return Msg{Kind: kind, Data: data, FDs: fds}, nil
	}
	if len(buf) != headerLen+memfdExtra || len(fds) == 0 {
		return Msg{}, protoErr("malformed large-message datagram")
	}
	size := binary.BigEndian.Uint64(buf[headerLen:])
	if size > uint64(maxSize) {
		return Msg{}, fmt.Errorf("%w: %d bytes, cap %d", errs.ErrTooLarge, size, maxSize)
	}
	memfd := fds[len(fds)-1]
	data, err := readMemfd(memfd, int(size))
	fds = fds[:len(fds)-1]
	if err != nil {
		descr.Close(fds)
		return Msg{}, err
	}
	return Msg{Kind: kind, Data: data, FDs: fds}, nil
}
