package transport

import (
	"errors"

	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

const (
	// maxFDs is the most descriptors one message carries (Linux's
	// SCM_MAX_FD is 253; one is kept for a large message's memfd).
	maxFDs = 250
	// defaultCap is the largest message a Conn accepts unless told
	// otherwise (SetMaxSize).
	defaultCap = 1 << 30
	// smallMsg is the size up to which a message's payload is sent in
	// one write with its header, and received into memory every Conn has.
	smallMsg = 64 << 10
)

// MaxInline is the largest payload a datagram carries inline; a larger
// one travels in a memfd.
const MaxInline = 8 << 20

// Msg is one message: a kind byte for the layer above, the payload, and
// descriptors that travel with it (owned by whoever holds the Msg).
type Msg struct {
	Kind byte
	Data []byte
	FDs  []int
	// Seq is a number the layer above gives the message (package connring
	// numbers the datagrams of a ring's tickets). Only a SOCK_SEQPACKET
	// datagram carries it; a stream Conn refuses a message with one.
	Seq uint32
}

// Close closes the message's descriptors.
func (m *Msg) Close() {
	for _, fd := range m.FDs {
		unix.Close(fd)
	}
	m.FDs = nil
}

// ErrWouldBlock is the error of TrySend and TryRecvInto when the socket
// could not take the message, or had none, without waiting.
var ErrWouldBlock = errors.New("mp: transport: would block")

func protoErr(msg string) error { return errs.ProtocolError(msg) }
