package auth

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// TestGateDisplacesOldest: a full gate makes room for a new connection by
// resetting the oldest one in its handshake, whose Admit then fails; one
// that was admitted is out of the gate's count.
func TestGateDisplacesOldest(t *testing.T) {
	var logged []string
	g := NewGate(2, NewRateLog(time.Hour, func(msg string, args ...any) { logged = append(logged, msg) }))
	ctx := context.Background()
	var peers []net.Conn
	conn := func() net.Conn {
		a, b := net.Pipe()
		peers = append(peers, b)
		return a
	}
	first := g.Enter(ctx, conn())
	second := g.Enter(ctx, conn())
	if n := g.Waiting(); n != 2 {
		t.Fatalf("Waiting() = %d, want 2", n)
	}
	third := g.Enter(ctx, conn())
	if first.Admit() {
		t.Error("Admit of the displaced oldest connection = true")
	}
	if _, err := peers[0].Write([]byte{0}); err == nil {
		t.Error("the displaced connection is still open")
	}
	if !second.Admit() {
		t.Error("Admit of the second connection = false")
	}
	if n := g.Waiting(); n != 1 {
		t.Errorf("Waiting() after one displaced and one admitted = %d, want 1", n)
	}
	for _, tk := range []*Ticket{first, second, third} {
		tk.Exit()
	}
	if n := g.Waiting(); n != 0 {
		t.Errorf("Waiting() after every Exit = %d, want 0", n)
	}
	if len(logged) != 1 {
		t.Errorf("records of displaced connections: %q, want one", logged)
	}
	for _, p := range peers {
		p.Close()
	}
}

// TestRateLog: records of one kind come at most once per interval, the
// next one counting those left out; kinds do not hold each other up.
func TestRateLog(t *testing.T) {
	var mu sync.Mutex
	var got []string
	r := NewRateLog(time.Hour, func(msg string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprint(msg, args))
	})
	for range 100 {
		r.Note("flood", "remote", "x")
	}
	r.Note("other")
	want := []string{"flood[remote x omitted 0]", "other[omitted 0]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records = %q, want %q", got, want)
	}
	r.kinds["flood"].last = time.Now().Add(-2 * time.Hour) // the interval has passed
	r.Note("flood", "remote", "y")
	if last := got[len(got)-1]; last != "flood[remote y omitted 99]" {
		t.Errorf("record after the interval = %q, want 99 omitted", last)
	}
}

// addrConn is a connection with a peer address of its own.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// TestGateDisplacesBusiestPeer: a full gate displaces the oldest connection
// of the peer address that holds the most, so that a flood from one
// address displaces its own connections, not another address's.
func TestGateDisplacesBusiestPeer(t *testing.T) {
	g := NewGate(3, NewRateLog(time.Hour, func(string, ...any) {}))
	ctx := context.Background()
	var peers []net.Conn
	from := func(ip string) *Ticket {
		a, b := net.Pipe()
		peers = append(peers, b)
		return g.Enter(ctx, addrConn{a, &net.TCPAddr{IP: net.ParseIP(ip), Port: 1000 + len(peers)}})
	}
	a1, a2, b1 := from("192.0.2.1"), from("192.0.2.1"), from("192.0.2.2")
	a3 := from("192.0.2.1") // displaces a1, the oldest of the busiest
	b2 := from("192.0.2.2") // A still holds two: displaces a2
	for _, tc := range []struct {
		name string
		t    *Ticket
		want bool
	}{{"a1", a1, false}, {"a2", a2, false}, {"b1", b1, true}, {"a3", a3, true}, {"b2", b2, true}} {
		if got := tc.t.Admit(); got != tc.want {
			t.Errorf("Admit of %s = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tk := range []*Ticket{a1, a2, b1, a3, b2} {
		tk.Exit()
	}
	if n := g.Waiting(); n != 0 {
		t.Errorf("Waiting() after every Exit = %d, want 0", n)
	}
	for _, p := range peers {
		p.Close()
	}
}

// Waiting returns the number of connections in their handshake.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.count
}
