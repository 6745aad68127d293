package auth

import (
	"container/list"
	"context"
	"net"
	"sync"
	"time"
)

// Gate bounds the connections a server holds in their handshake, before
// they have proved that they know the key, apart from the connections it
// serves: anyone who can open a connection can fill the handshake budget,
// so it must never take what authenticated clients need.
//
// When the budget is full, a new connection displaces the oldest one still
// in its handshake from the peer address that holds the most of them,
// whose socket is reset. This is OpenSSH's MaxStartups turned around: sshd
// drops new connections at random once its table fills, so a flood that
// keeps the table full keeps legitimate clients out for as long as it
// lasts. Here a flood makes its own connections' stay short instead: it
// displaces its own first, so a client from another address is not
// displaced by it at all, and one from the same address (or over a Unix
// socket, where peers have no address) answers within a round trip of the
// server's hello, before many newer connections arrive, while a connection
// that says nothing is soon the oldest. A client displaced all the same
// sees its connection reset before the verdict, and tries again (see
// Retryable).
//
// A Gate is safe for concurrent use.
type Gate struct {
	max int
	// tokens bounds the goroutines of handshakes, counting those displaced
	// that have not returned yet: twice max.
	tokens chan struct{}
	// log records dropped and refused connections, at most once a second.
	log *RateLog

	// mu guards count and hosts.
	mu    sync.Mutex
	count int                   // connections in their handshake
	hosts map[string]*list.List // of *Ticket, oldest first, by peer address
}

// Ticket is one connection's place in a Gate, from Enter until its
// handshake ends (Admit) and its goroutine returns (Exit).
type Ticket struct {
	g    *Gate
	nc   net.Conn
	host string        // the peer's address, without its port
	elem *list.Element // nil once the ticket left its host's list
}

// NewGate returns a gate for at most max handshakes at once, which logs
// what it drops through log.
func NewGate(max int, log *RateLog) *Gate {
	return &Gate{max: max, tokens: make(chan struct{}, 2*max), log: log, hosts: map[string]*list.List{}}
}

// Enter counts nc in, displacing the oldest handshake if the budget is
// full. It waits only while twice the budget of handshake goroutines have
// not returned — displaced ones return as soon as their socket is reset —
// or until ctx ends; then it closes nc and returns nil.
func (g *Gate) Enter(ctx context.Context, nc net.Conn) *Ticket {
	select {
	case g.tokens <- struct{}{}:
	case <-ctx.Done():
		Reset(nc)
		return nil
	}
	t := &Ticket{g: g, nc: nc, host: hostOf(nc.RemoteAddr())}
	g.mu.Lock()
	var victim *Ticket
	if g.count >= g.max {
		victim = g.displaceLocked()
	}
	l := g.hosts[t.host]
	if l == nil {
		l = list.New()
		g.hosts[t.host] = l
	}
	t.elem = l.PushBack(t)
	g.count++
	g.mu.Unlock()
	if victim != nil {
		Reset(victim.nc)
		g.log.Note("a connection still in its handshake was displaced by a newer one", "remote", victim.nc.RemoteAddr().String())
	}
	return t
}

// Admit ends the ticket's handshake, as the server is about to accept the
// client, and reports whether the connection is still counted: false if a
// newer connection displaced it (its socket has been reset).
func (t *Ticket) Admit() bool {
	g := t.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.elem == nil {
		return false
	}
	g.removeLocked(t)
	return true
}

// displaceLocked takes out and returns the oldest ticket of the host with
// the most; the gate is not empty.
func (g *Gate) displaceLocked() *Ticket {
	var most *list.List
	for _, l := range g.hosts { // at most max hosts
		if most == nil || l.Len() > most.Len() {
			most = l
		}
	}
	t := most.Front().Value.(*Ticket)
	g.removeLocked(t)
	return t
}

// removeLocked takes t out of its host's list.
func (g *Gate) removeLocked(t *Ticket) {
	l := g.hosts[t.host]
	l.Remove(t.elem)
	if l.Len() == 0 {
		delete(g.hosts, t.host)
	}
	t.elem = nil
	g.count--
}

// hostOf returns the address of a peer without its port: its IP address
// for TCP, "" for peers without an address (Unix sockets).
func hostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	return ""
}

// Exit gives back the ticket's place when its handshake's goroutine
// returns. It calls Admit, so a handshake that failed leaves the budget
// too.
func (t *Ticket) Exit() {
	t.Admit()
	<-t.g.tokens
}

// Log returns the gate's RateLog, for the other records of connections
// that end in their handshake.
func (g *Gate) Log() *RateLog { return g.log }

// Reset closes nc so that its peer sees a reset rather than an orderly
// end, and this side keeps no TIME_WAIT state for it.
func Reset(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	nc.Close()
}

// RateLog writes records of each kind at most once per interval, each
// saying how many of its kind it left out since the one before: a flood of
// refused connections must not become a flood of log records. It is safe
// for concurrent use.
type RateLog struct {
	write    func(msg string, args ...any)
	interval time.Duration

	// mu guards kinds.
	mu    sync.Mutex
	kinds map[string]*rateState
}

// rateState is when a kind of record was last written, and how many of it
// were left out since.
type rateState struct {
	last    time.Time
	skipped int
}

// NewRateLog returns a RateLog that writes through write at most once per
// interval for each kind of record.
func NewRateLog(interval time.Duration, write func(msg string, args ...any)) *RateLog {
	return &RateLog{write: write, interval: interval, kinds: map[string]*rateState{}}
}

// Note writes msg and args, with the count of records of the same kind
// left out before it ("omitted"), unless one of its kind was written less
// than the interval ago; then it only counts this one. The kind is the
// message itself.
func (r *RateLog) Note(msg string, args ...any) {
	r.mu.Lock()
	st := r.kinds[msg]
	if st == nil {
		st = &rateState{}
		r.kinds[msg] = st
	}
	now := time.Now()
	if !st.last.IsZero() && now.Sub(st.last) < r.interval {
		st.skipped++
		r.mu.Unlock()
		return
	}
	skipped := st.skipped
	st.last, st.skipped = now, 0
	r.mu.Unlock()
	r.write(msg, append(args, "omitted", skipped)...)
}
