package mp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/auth"
	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
	"golang.org/x/sys/unix"
)

// connMagic names the protocol of Conns made by Listen and Dial, and its
// version, in the handshake (a manager's server uses another).
const connMagic = "mpconn\x00\x01"

// Listener accepts message connections from processes that know its key,
// related to this one or not (Python: multiprocessing.connection.Listener
// with an authkey). Make one with Listen; Dial connects to it. Each
// connection starts with a mutual challenge: each side sends a random
// nonce and the other answers with an HMAC-SHA256 of it under the shared
// key, so the key never crosses the wire, and neither side talks to a peer
// that does not know it.
//
// A Listener is safe for concurrent use. It can be given to Wait, which
// reports it ready when a connection is waiting to be accepted.
type Listener struct {
	ln     net.Listener
	packet bool // a Unix socket: its Conns carry handles
	key    []byte
	id     uint64
	// accepting serializes Accept, since each arms the listener's deadline
	// for its own context.
	accepting ctxio.Lock
	closed    atomic.Bool
}

// Listen listens for Dial on address (Python: Listener(address,
// authkey=key)). network is "unix", for a Unix socket at the path address
// (a name starting with @ is a Linux abstract socket, which leaves no file
// behind), or "tcp", "tcp4" or "tcp6", for host:port (port 0 picks a free
// port; Addr reports it).
//
// key is the key clients must prove they know. If it is empty (nil or of
// length zero), the Listener uses this process's key
// (Current().AuthKey), which only this program's own children share; such
// a Listener does not listen on a TCP address that other machines reach,
// and Listen returns an error matching ErrInsecure.
//
// Over a Unix socket, a Conn carries everything a Pipe's does, handles
// included. Over TCP, its messages travel framed in the byte stream, and a
// message holding a handle fails with an error matching ErrHandles.
func Listen(network, address string, key []byte) (*Listener, error) {
	netw, packet, err := netFor(network)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen(netw, address)
	if err != nil {
		return nil, fmt.Errorf("mp: listen on %s: %w", address, err)
	}
	if err := auth.CheckAddr(ln.Addr(), len(key) > 0); err != nil {
		ln.Close()
		return nil, err
	}
	var id [8]byte
	rand.Read(id[:])
	return &Listener{ln: ln, packet: packet, key: keyOrOwn(key), id: binary.BigEndian.Uint64(id[:]), accepting: ctxio.NewLock()}, nil
}

// netFor returns the socket network for one of Listen's and Dial's, and
// whether it keeps message boundaries.
func netFor(network string) (string, bool, error) {
	switch network {
	case "unix":
		return "unixpacket", true, nil
	case "tcp", "tcp4", "tcp6":
		return network, false, nil
	}
	return "", false, fmt.Errorf("mp: network %q: want unix, tcp, tcp4 or tcp6", network)
}

// keyOrOwn returns key, or this process's key if key is empty.
func keyOrOwn(key []byte) []byte {
	if len(key) == 0 {
		return Current().AuthKey
	}
	return key
}

// Accept waits for a process to connect, authenticates it and returns the
// connection (Python: Listener.accept). A client that does not know the
// key gives an error matching ErrAuthentication (the Listener goes on
// listening); a client that says nothing is given up after 10 s, or when
// ctx ends. After Close, Accept returns ErrClosed.
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	if err := l.accepting.Lock(ctx); err != nil {
		return nil, err
	}
	defer l.accepting.Unlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	dl := l.ln.(interface{ SetDeadline(time.Time) error })
	disarm := ctxio.ArmDeadline(ctx, dl.SetDeadline)
	nc, err := l.ln.Accept()
	disarm()
	switch {
	case err == nil:
	case l.closed.Load() || errors.Is(err, net.ErrClosed):
		return nil, ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, ctxio.Err(ctx, err)
	default:
		return nil, fmt.Errorf("mp: accept: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() }) // ctx ends the handshake
	err = auth.Server(nc, connMagic, l.key, l.id, os.Getpid(), time.Now().Add(auth.Timeout))
	if !stop() { // closed by ctx, maybe just after a handshake that went well
		err = errs.WithContext(err, ctx.Err()) // ctx's error alone if err is nil
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("mp: accept a connection from %s: %w", nc.RemoteAddr(), err)
	}
	return connOf(nc, l.packet)
}

// Addr returns the address the Listener listens on (Python:
// Listener.address).
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops listening; a blocked Accept returns ErrClosed. Conns
// accepted before stay open. A Unix socket's file is removed. Closing
// twice returns ErrClosed.
func (l *Listener) Close() error {
	if l.closed.Swap(true) {
		return ErrClosed
	}
	return l.ln.Close()
}

// waitFD lets Wait poll the Listener: its socket is readable when a
// connection waits to be accepted.
func (l *Listener) waitFD() int {
	fd := -1
	if sc, ok := l.ln.(syscall.Conn); ok && !l.closed.Load() {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(f uintptr) { fd = int(f) })
		}
	}
	return fd
}

// Dial connects to the Listener at address on network ("unix", "tcp",
// "tcp4" or "tcp6", as Listen takes them) and authenticates with key
// (Python: multiprocessing.connection.Client(address, authkey=key)). An
// empty key (nil or of length zero) is this process's own key
// (Current().AuthKey). A Listener with another key gives an error
// matching ErrAuthentication. The handshake takes at most 10 s, or until
// ctx ends.
//
// The Conn is duplex; see Listen for what it carries.
func Dial(ctx context.Context, network, address string, key []byte) (*Conn, error) {
	netw, packet, err := netFor(network)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, netw, address)
	if err != nil {
		return nil, fmt.Errorf("mp: dial %s: %w", address, err)
	}
	if _, err := auth.ClientContext(ctx, nc, connMagic, keyOrOwn(key)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("mp: connect to %s: %w", address, err)
	}
	return connOf(nc, packet)
}

// connOf makes a Conn of an authenticated connection, whose descriptor it
// takes over.
func connOf(nc net.Conn, packet bool) (*Conn, error) {
	defer nc.Close()
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, fmt.Errorf("mp: dup: %w", derr)
	}
	var t *transport.Conn
	if packet {
		t, err = transport.NewConn(fd)
	} else {
		t, err = transport.NewStream(fd)
	}
	if err != nil {
		return nil, err
	}
	return &Conn{t: t, readable: true, writable: true}, nil
}
