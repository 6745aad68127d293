package manager

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/auth"
	"github.com/mpgo/mp/internal/diag"
)

// ServerOptions configures a Server. The zero value is usable.
type ServerOptions struct {
	// AuthKey is the key clients must prove they know. If empty (nil or
	// of length zero), the server uses this process's key
	// (mp.Current().AuthKey), which its children inherit; such a server
	// only listens on Unix sockets and loopback addresses (Serve returns
	// ErrInsecure otherwise).
	AuthKey []byte
	// TLS, if not nil, wraps every connection in TLS after it is accepted.
	// Authentication by key still happens inside it.
	TLS *tls.Config
	// Logger receives a record at level Warn for each connection refused
	// or dropped — a wrong key, a handshake that never came, hostile or
	// malformed bytes, a request or a reply that stalled past IOTimeout,
	// too many connections — with the peer ("remote": its address, or the
	// pid and uid of a process on a Unix socket) and the reason ("err").
	// Connections that end before they are authenticated give at most one
	// record per reason a second, whose "omitted" counts those left out
	// since the one before: a flood of connections is not a flood of
	// records. If nil, the records go to mp's logger (mp.SetLogger), which
	// drops them unless one was set.
	Logger *slog.Logger
	// Limits bound what clients can make the server do.
	Limits
}

// Limits bound the work and memory a server spends on its clients. The
// zero value gives the defaults.
type Limits struct {
	// MaxConns bounds the authenticated connections served at once; a
	// connection arriving while that many are served is closed at once,
	// and one that authenticates when the last place has just been taken
	// is closed before the server's verdict. Connections still in their
	// handshake do not count: they have MaxHandshakes. Zero means 1024.
	MaxConns int
	// MaxHandshakes bounds the connections in their handshake at once,
	// which have not yet proved that they know the key. When that many
	// are, a new connection displaces the oldest one from the peer
	// address that holds the most, which is reset: a flood from one
	// address displaces its own connections, and keeps each of them a
	// short while only, while a client that knows the key answers within
	// a round trip and is served (Dial tries again, within its context,
	// if it was displaced all the same). Unlike OpenSSH's
	// MaxStartups, which drops new connections once its table is full,
	// this lets keyed clients in during a flood. Zero means 64.
	MaxHandshakes int
	// MaxPending bounds the blocking calls (queue gets and puts, lock
	// acquisitions, waits, custom methods) in flight on one connection;
	// more fail with ErrBusy. Zero means 1024. Their arguments may hold
	// at most four FrameCaps of bytes in all, so that what one connection
	// keeps in the server, beyond the objects it fills, stays bounded.
	MaxPending int
	// FrameCap bounds one request; a larger one closes the connection.
	// Zero means DefaultFrameCap (16 MiB).
	FrameCap int
	// IOTimeout bounds the arrival of the rest of a request once it has
	// begun, and the writing of a reply; a peer slower than that is
	// disconnected. Zero means 30 s. A client has at most 5 s, or
	// IOTimeout if that is shorter, from its connection to the end of its
	// handshake (OpenSSH's LoginGraceTime).
	IOTimeout time.Duration
	// ReleaseDelay is how long an object no proxy refers to any more is
	// kept before it is freed, so that a proxy on its way to another
	// process (in a Process argument, a queue item, a value taken out of a
	// container) finds it still there. Zero means 10 s; negative means
	// free at once.
	ReleaseDelay time.Duration
}

// Server holds shared objects and serves them to clients (Python's
// BaseManager server, get_server().serve_forever()). Create it with
// NewServer, expose objects with Register, then Serve. Its methods are safe
// for concurrent use.
type Server struct {
	opts     ServerOptions
	key      []byte
	explicit bool // the key was given, not inherited
	id       uint64
	pid      int
	// clock, if not nil, tells the time of release delays instead of
	// time.Now; tests set it to move past a delay without waiting for it.
	clock func() time.Time
	wake  chan struct{} // kicks the janitor

	// mu guards everything below, and the refs and pinned of each entry.
	mu      sync.Mutex
	objects map[uint64]*entry
	names   map[string]named
	nextID  uint64
	conns   map[*serverConn]struct{}
	served  int                  // authenticated connections, counted against MaxConns
	dying   map[uint64]time.Time // unreferenced objects, and when to free them
	addr    string
	serving bool
	stop    context.CancelFunc
	done    chan struct{} // closed when Serve has returned

	// gate holds the connections in their handshake; drops logs those
	// that end there. Both are set by Serve before it accepts.
	gate  *auth.Gate
	drops *auth.RateLog
}

// entry is an object in the server's table.
type entry struct {
	obj object
	// refs and pinned are guarded by Server.mu.
	refs   int  // proxies and containers that refer to it
	pinned bool // exposed by name: never freed
	// types are the item types of the object, as far as recorded (see
	// types.go); guarded by Server.mu.
	types []string
}

// named is what a name exposes: an object, or a factory of objects.
type named struct {
	id      uint64
	factory func() any
	methods []string
}

// NewServer returns a server with the given options (nil: the defaults).
func NewServer(opts *ServerOptions) *Server {
	s := &Server{objects: map[uint64]*entry{}, names: map[string]named{}, conns: map[*serverConn]struct{}{},
		dying: map[uint64]time.Time{}, pid: os.Getpid(), wake: make(chan struct{}, 1)}
	if opts != nil {
		s.opts = *opts
	}
	s.key, s.explicit = s.opts.AuthKey, len(s.opts.AuthKey) > 0
	if !s.explicit {
		s.key = mp.Current().AuthKey
	}
	var b [8]byte
	rand.Read(b[:])
	s.id = binary.BigEndian.Uint64(b[:]) | 1
	return s
}

// Register exposes obj to clients under name: every Lookup of name returns
// a proxy to this same object. obj is either a *Shared (one of
// SyncManager's kinds, made with NewShared), or any other value, whose
// exported methods clients call by name (Object.Call, Invoke); methods, if
// given, restricts those to the ones named (Python's exposed). A custom
// object's methods are called from many goroutines at once: they must be
// safe for that. Register panics if name is taken.
func (s *Server) Register(name string, obj any, methods ...string) {
	o := toObject(obj, methods)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkFreeLocked(name)
	s.nextID++
	s.objects[s.nextID] = &entry{obj: o, pinned: true}
	s.names[name] = named{id: s.nextID}
}

// RegisterFactory exposes a factory under name: every Lookup of name calls
// fn and returns a proxy to the new object, which lives while some proxy
// (in any process) refers to it. fn may return a *Shared or a custom value,
// as for Register.
func (s *Server) RegisterFactory(name string, fn func() any, methods ...string) {
	if fn == nil {
		panic("manager: RegisterFactory with a nil function")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkFreeLocked(name)
	s.names[name] = named{factory: fn, methods: methods}
}

// checkFreeLocked panics if name is taken.
func (s *Server) checkFreeLocked(name string) {
	if _, dup := s.names[name]; dup {
		panic(fmt.Sprintf("manager: name %q registered twice", name))
	}
}

func toObject(obj any, methods []string) object {
	if sh, ok := obj.(*Shared); ok {
		return sh.obj
	}
	v := reflect.ValueOf(obj)
	if !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		panic("manager: Register of a nil object")
	}
	return &customObj{v: v, exposed: methods}
}

// Addr returns the address the server listens on, as Dial takes it: a
// Unix socket's path, or host:port. It is empty until Serve has started.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Serve accepts connections on ln and serves them until ctx ends, a client
// asks the server to shut down, or Shutdown is called; then it closes ln
// and every connection, waits for their goroutines and returns nil. It
// returns ErrInsecure, without serving, for a TCP listener on a
// non-loopback address when the server has no explicit AuthKey. Serve may
// be called once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.begin(ln); err != nil {
		ln.Close()
		return err
	}
	defer close(s.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.stop = cancel
	s.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { s.janitor(ctx) })
	wg.Go(func() { <-ctx.Done(); ln.Close() })
	s.acceptLoop(ctx, ln, &wg)
	cancel()
	s.closeConns()
	wg.Wait()
	return nil
}

// begin checks ln and marks the server as serving.
func (s *Server) begin(ln net.Listener) error {
	if err := checkListener(ln, s.explicit); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serving {
		return errors.New("manager: Serve called twice")
	}
	s.serving, s.addr, s.done = true, addrString(ln.Addr()), make(chan struct{})
	s.drops = auth.NewRateLog(time.Second, s.log)
	s.gate = auth.NewGate(cmp.Or(max(s.opts.MaxHandshakes, 0), 64), s.drops)
	return nil
}

func (s *Server) acceptLoop(ctx context.Context, ln net.Listener, wg *sync.WaitGroup) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log("accept failed; the server stops", "err", err)
			return
		}
		if s.full() {
			s.drops.Note("too many connections; a new one is closed", "remote", remote(nc))
			auth.Reset(nc)
			continue
		}
		t := s.gate.Enter(ctx, nc)
		if t == nil {
			return
		}
		wg.Go(func() { s.handle(ctx, nc, t) })
	}
}

// maxConns returns Limits.MaxConns or its default.
func (s *Server) maxConns() int {
	if s.opts.MaxConns > 0 {
		return s.opts.MaxConns
	}
	return 1024
}

// full reports whether MaxConns authenticated connections are served.
func (s *Server) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served >= s.maxConns()
}

// admit reports whether one more authenticated connection may be served,
// and counts it in if so.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.served >= s.maxConns() {
		return false
	}
	s.served++
	return true
}

// unserve counts an authenticated connection out.
func (s *Server) unserve() {
	s.mu.Lock()
	s.served--
	s.mu.Unlock()
}

// Shutdown stops the server as a client's shutdown request does, and waits
// until Serve has returned or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) shutdownAsync() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
}

func (s *Server) closeConns() {
	s.mu.Lock()
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.nc.Close()
	}
}

// handle authenticates and serves one connection, which holds the ticket
// t of the server's gate until its handshake ends.
func (s *Server) handle(ctx context.Context, nc net.Conn, t *auth.Ticket) {
	raw := nc
	defer nc.Close()
	if s.opts.TLS != nil {
		nc = tls.Server(nc, s.opts.TLS)
	}
	limit := auth.ServerTimeout // IOTimeout if shorter
	if s.opts.IOTimeout > 0 {
		limit = min(limit, s.opts.IOTimeout)
	}
	deadline := time.Now().Add(limit)
	stop := context.AfterFunc(ctx, func() { nc.Close() }) // shutdown interrupts a handshake
	counted, displaced := false, false
	err := auth.Server(nc, magic, s.key, s.id, s.pid, deadline, func() bool {
		if displaced = !t.Admit(); displaced {
			return false
		}
		counted = s.admit()
		return counted
	})
	stop()
	t.Exit()
	if counted {
		defer s.unserve()
	}
	if err != nil {
		s.handshakeFailed(nc, err, displaced)
		if !errors.Is(err, mp.ErrAuthentication) { // a reset could overtake the refusal
			auth.Reset(raw)
		}
		return
	}
	c := newServerConn(ctx, s, nc)
	if !s.addConn(c) {
		return
	}
	defer s.removeConn(c)
	c.serve()
}

func (s *Server) addConn(c *serverConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ctx.Err() != nil {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) removeConn(c *serverConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) timeout(def time.Duration) time.Duration {
	if s.opts.IOTimeout > 0 {
		return s.opts.IOTimeout
	}
	return def
}

// handshakeFailed logs why a connection ended in its handshake, at most
// once a second for each reason. A connection displaced by a newer one was
// logged by the gate; one that ended without a word is not logged.
func (s *Server) handshakeFailed(nc net.Conn, err error, displaced bool) {
	var reason string
	switch {
	case displaced || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
		return
	case errors.Is(err, auth.ErrNotAdmitted):
		s.drops.Note("too many connections; an authenticated one is closed", "remote", remote(nc))
		return
	case errors.Is(err, mp.ErrAuthentication):
		reason = "wrong key"
	case errors.Is(err, os.ErrDeadlineExceeded):
		reason = "timeout"
	case errors.Is(err, mp.ErrProtocol):
		reason = "protocol"
	default:
		reason = "connection"
	}
	s.drops.Note("handshake failed ("+reason+"); connection closed", "remote", remote(nc), "err", err)
}

// log records a security event: a connection refused or dropped.
func (s *Server) log(msg string, args ...any) {
	l := s.opts.Logger
	if l == nil {
		l = diag.Logger()
	}
	l.Warn("manager: "+msg, args...)
}

// remote describes the peer of nc for a log record: its address, or for a
// Unix socket (whose peers have no address) its process and user.
func remote(nc net.Conn) string {
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return nc.RemoteAddr().String()
	}
	peer := "unix"
	if rc, err := uc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { peer = unixPeer(int(fd)) })
	}
	return peer
}

// checkListener refuses a listener reachable from other machines unless
// the key (AuthKey) was chosen explicitly.
func checkListener(ln net.Listener, explicitKey bool) error {
	return auth.CheckAddr(ln.Addr(), explicitKey)
}

// addrString formats a listener's address as Dial takes it.
func addrString(a net.Addr) string {
	if a.Network() == "unix" && !strings.HasPrefix(a.String(), "/") && !strings.HasPrefix(a.String(), "@") {
		return "unix:" + a.String()
	}
	return a.String()
}

// Listen listens on address, as Dial takes it: host:port for TCP (port 0
// picks a free port), a path (or unix:path) for a Unix socket, or
// @name for a Linux abstract socket, which leaves no file behind.
func Listen(address string) (net.Listener, error) {
	network, addr := splitAddress(address)
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("manager: listen on %s: %w", address, err)
	}
	return ln, nil
}
