package mp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/auth"
	"github.com/mpgo/mp/internal/diag"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/waker"
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
// A Listener accepts connections from its own goroutines, as soon as they
// arrive, and runs their handshakes side by side: a client that connects
// and says nothing holds up no other, and is given up after 5 s. Accept
// takes the connections so authenticated, in the order their handshakes
// ended. At most 64 connections are held in their handshake at once; when
// another arrives, the oldest of those from the peer address holding the
// most is reset, so that a flood of connections without the key displaces
// its own and keeps each of them a short while only,
// while a client that knows the key answers within a round trip (Dial
// tries again, within its context, if it was displaced all the same).
// When 32 authenticated connections (or refusals) wait for Accept, the
// Listener stops accepting until Accept takes one: new connections wait
// in the system's backlog. Close the Listener when done with it: until
// then, it holds its socket and goroutine.
//
// A Conn that a Listener or Dial makes receives messages of at most
// DefaultNetMaxMessageSize bytes (see Conn.SetMaxMessageSize).
//
// A Listener is safe for concurrent use. It can be given to Wait, which
// reports it ready when Accept would return at once: a connection has been
// authenticated (or refused) and waits to be taken.
type Listener struct {
	ln     net.Listener
	packet bool // a Unix socket: its Conns carry handles
	key    []byte
	id     uint64

	// stop ends the accept loop and the handshakes under way; wg joins
	// them.
	stop context.CancelFunc
	wg   sync.WaitGroup
	// gate holds the connections in their handshake.
	gate *auth.Gate
	// ready is readable, for Wait, while Accept would return at once.
	ready *waker.Waker

	// mu guards the fields below.
	mu       sync.Mutex
	queue    []accepted    // ended handshakes, for Accept
	changed  chan struct{} // closed, and replaced, when the fields change
	failed   error         // why the accept loop stopped; nil while it runs
	closed   bool
	signaled bool // whether ready is readable
}

// accepted is a connection whose handshake has ended: a Conn, or the
// error Accept returns for it.
type accepted struct {
	c   *Conn
	err error
}

const (
	// maxPending is how many ended handshakes wait for Accept before the
	// Listener stops accepting; maxHandshakes bounds those under way.
	maxPending    = 32
	maxHandshakes = 64
)

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
	ready, err := waker.New()
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("mp: listen on %s: %w", address, err)
	}
	var id [8]byte
	rand.Read(id[:])
	l := &Listener{
		ln: ln, packet: packet, key: keyOrOwn(key), id: binary.BigEndian.Uint64(id[:]),
		ready: ready, changed: make(chan struct{}),
	}
	l.gate = auth.NewGate(maxHandshakes, auth.NewRateLog(time.Second, func(msg string, args ...any) {
		diag.Logger().Warn("mp: "+msg, append([]any{"listener", ln.Addr()}, args...)...)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = cancel
	l.wg.Go(func() { l.loop(ctx) })
	return l, nil
}

// netFor returns the socket network for one of Listen's and Dial's, and
// whether it keeps message boundaries.
func netFor(network string) (string, bool, error) {
	switch network {
	case "unix":
		// SOCK_SEQPACKET where the build has it, else a Unix stream
		// that carries descriptors; either way NewConn's kind.
		return transport.UnixNetwork, true, nil
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
// connection (Python: Listener.accept), or returns ctx's error if ctx ends
// first. A client that does not know the key gives an error matching
// ErrAuthentication (the Listener goes on listening); a client that goes
// away, says nothing or speaks another protocol is closed without troubling
// Accept. After Close, Accept returns ErrClosed.
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	for {
		a, changed := l.next()
		if changed == nil {
			return a.c, a.err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// next takes the first ended handshake, or returns what Accept returns
// now; if there is nothing to return, it returns a channel closed when
// that may have changed.
func (l *Listener) next() (accepted, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return accepted{err: ErrClosed}, nil
	case len(l.queue) > 0:
		a := l.queue[0]
		l.queue[0] = accepted{}
		l.queue = l.queue[1:]
		l.changedLocked()
		return a, nil
	case l.failed != nil:
		return accepted{err: l.failed}, nil
	}
	return accepted{}, l.changed
}

// changedLocked wakes the Accepts that wait, and makes ready readable while
// Accept would return at once.
func (l *Listener) changedLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
	want := !l.closed && (len(l.queue) > 0 || l.failed != nil)
	if want == l.signaled {
		return
	}
	l.signaled = want
	if want {
		l.ready.Set()
	} else {
		l.ready.Clear()
	}
}

// loop accepts connections from the socket, while fewer than maxPending
// wait for Accept, and starts each one's handshake, until ctx ends or the
// socket fails.
func (l *Listener) loop(ctx context.Context) {
	var pause time.Duration
	for l.waitRoom(ctx) {
		nc, err := l.ln.Accept()
		if err != nil {
			if !l.acceptFailed(ctx, err, &pause) {
				return
			}
			continue
		}
		pause = 0
		t := l.gate.Enter(ctx, nc)
		if t == nil {
			return
		}
		l.wg.Go(func() { l.handshake(ctx, nc, t) })
	}
}

// waitRoom waits until fewer than maxPending ended handshakes wait for
// Accept, and reports whether ctx is still live.
func (l *Listener) waitRoom(ctx context.Context) bool {
	for {
		l.mu.Lock()
		full, changed := len(l.queue) >= maxPending, l.changed
		l.mu.Unlock()
		if !full {
			return ctx.Err() == nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}

// acceptFailed reports whether the loop goes on after the socket's Accept
// failed with err. It waits first when err may pass (too many open files:
// the wait grows from 5 ms to 1 s, as net/http's does); an error that will
// not pass stops the loop, and Accept returns it.
func (l *Listener) acceptFailed(ctx context.Context, err error, pause *time.Duration) bool {
	if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
		return false
	}
	if passing(err) {
		*pause = min(max(2**pause, 5*time.Millisecond), time.Second)
		t := time.NewTimer(*pause)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed = fmt.Errorf("mp: accept: %w", err)
	l.changedLocked()
	return false
}

// passing reports whether an error of accept may pass: the process or the
// system is short of descriptors or memory for now.
func passing(err error) bool {
	return errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) ||
		errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.ENOMEM)
}

// handshake authenticates nc, which holds the ticket t of the Listener's
// gate until then, and queues it, or the refusal of a client that does not
// know the key, for Accept. It gives up when ctx ends (the Listener
// closes).
func (l *Listener) handshake(ctx context.Context, nc net.Conn, t *auth.Ticket) {
	stop := afterFunc(ctx, func() { nc.Close() })
	err := auth.Server(nc, connMagic, l.key, l.id, os.Getpid(), time.Now().Add(auth.ServerTimeout), t.Admit)
	stop()
	t.Exit()
	var a accepted
	switch {
	case err == nil && ctx.Err() == nil:
		a.c, a.err = connOf(nc, l.packet)
	case errors.Is(err, ErrAuthentication):
		nc.Close()
		a.err = fmt.Errorf("mp: accept a connection from %s: %w", nc.RemoteAddr(), err)
	default: // displaced, closed, gone, silent or of another protocol: nothing for Accept
		auth.Reset(nc)
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, auth.ErrNotAdmitted) && ctx.Err() == nil {
			l.gate.Log().Note("a connection's handshake failed; it is closed", "remote", nc.RemoteAddr(), "err", err)
		}
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		if a.c != nil {
			a.c.Close()
		}
		return
	}
	l.queue = append(l.queue, a)
	l.changedLocked()
}

// Addr returns the address the Listener listens on (Python:
// Listener.address).
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops listening, ends the handshakes under way, closes the
// connections Accept has not taken and waits for the Listener's goroutines
// to return; a blocked Accept returns ErrClosed. Conns accepted before
// stay open. A Unix socket's file is removed. Closing twice returns
// ErrClosed.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	queue := l.queue
	l.queue = nil
	l.changedLocked()
	l.mu.Unlock()
	l.stop()
	err := l.ln.Close()
	l.wg.Wait()
	for _, a := range queue {
		if a.c != nil {
			a.c.Close()
		}
	}
	l.ready.Close()
	return err
}

// waitFD lets Wait poll the Listener: its waker is readable while Accept
// would return at once.
func (l *Listener) waitFD() int { return l.ready.FD() }

// Dial connects to the Listener at address on network ("unix", "tcp",
// "tcp4" or "tcp6", as Listen takes them) and authenticates with key
// (Python: multiprocessing.connection.Client(address, authkey=key)). An
// empty key (nil or of length zero) is this process's own key
// (Current().AuthKey). A Listener with another key gives an error
// matching ErrAuthentication. The handshake takes at most 10 s, or until
// ctx ends. A connection that the Listener resets before it has
// authenticated the client (it displaces the oldest handshake when too many
// are under way) is tried again for up to 2 s, within ctx.
//
// The Conn is duplex; see Listen for what it carries.
func Dial(ctx context.Context, network, address string, key []byte) (*Conn, error) {
	netw, packet, err := netFor(network)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	dial := func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, netw, address) }
	nc, _, err := auth.Connect(ctx, dial, nil, connMagic, keyOrOwn(key))
	if err != nil {
		return nil, fmt.Errorf("mp: %s: %w", address, err)
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
	t.SetMaxSize(DefaultNetMaxMessageSize)
	return &Conn{t: t, readable: true, writable: true, network: true}, nil
}
