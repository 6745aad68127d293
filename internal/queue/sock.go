package queue

import (
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mp/internal/descr"
	"golang.org/x/sys/unix"
)

// A FIFO queue carries items that hold descriptors, and items too large for
// its ring, in a socket pair: producers send on one end, consumers receive
// from the other, one datagram per item (a SOCK_SEQPACKET pair on Linux,
// sock_seqpacket.go; a Unix stream pair with a frame per datagram in the
// portable build, sock_stream.go). The ring holds a ticket where such an
// item stands in the order. Datagram and ticket are sent and written under
// the queue's lock, and received and removed under it, so the socket's
// order is the tickets' order, a receive under the lock never waits, and
// only one process at a time sends, or receives, on the socket.
//
// A datagram is a flags byte, its sequence number (8 bytes, little-endian,
// the same as in its ticket) and the item's bytes; with flagBlob, the bytes
// live in a sealed memfd that travels as the last descriptor, and the
// datagram holds their length (8 bytes, little-endian) instead; flagRawItem
// carries Item.Raw. Items of more than dgramInline bytes travel as blobs.
const (
	flagBlob     = 1
	flagRawItem  = 2
	maxItemFDs   = 250 // SCM_MAX_FD is 253; one is kept for the blob
	blobMinBytes = 64 << 10
	maxBlobBytes = 1 << 30
	sockBuffer   = 4 << 20
	seqLen       = 8 // bytes of a sequence number
	dgramHdr     = 1 + seqLen
)

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

// recvBuf is a receiver's scratch space.
type recvBuf struct {
	data, oob []byte
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
