//go:build !linux || mpportable

package transport

import (
	"context"

	"github.com/mpgo/mp/internal/descr"
)

// The portable build's Unix message socket is a SOCK_STREAM socket that
// carries framed messages with descriptors (unixstream.go): macOS has no
// SOCK_SEQPACKET for Unix sockets. What that changes is written there:
// several processes must not send, or receive, on one end at the same
// time.

// UnixNetwork is the network of Unix listeners and dialers whose
// connections NewConn takes: a Unix stream.
const UnixNetwork = "unix"

// packetState is empty: this build has no SOCK_SEQPACKET Conn.
type packetState struct{}

// release has nothing to release: this build maps no receive buffers.
func (packetState) release() {}

// Pair returns the two ends of a new socket.
func Pair() (*Conn, *Conn, error) {
	fds, err := descr.StreamPair()
	if err != nil {
		return nil, nil, err
	}
	return pairOf(fds)
}

// SocketPair returns a new pair of connected sockets of the type NewConn
// takes, close-on-exec and blocking, for a caller that hands one end to
// another process before making a Conn of its own.
func SocketPair() ([2]int, error) { return descr.StreamPair() }

// NewConn makes a Conn of fd, a Unix stream socket, and takes ownership of
// it (NewUnixStream).
func NewConn(fd int) (*Conn, error) { return NewUnixStream(fd) }

func (c *Conn) send(ctx context.Context, m Msg) error { return c.sendStream(ctx, m) }

// recvLocked receives the next frame, into buf if it fits (RecvInto); rmu
// is held.
func (c *Conn) recvLocked(ctx context.Context, buf []byte) (Msg, error) {
	return c.recvStream(ctx, buf)
}

// readyTest returns Poll's test of whether a receive would not block.
func (c *Conn) readyTest() func(fd int) bool { return c.frameReady }
