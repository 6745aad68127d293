package transport

import (
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
