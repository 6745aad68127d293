package manager

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/mpgo/mp"
)

// Cond.Wait returns holding the lock, also when its context ends while
// another client holds the lock past the client's grace for late replies.
func TestCondWaitPastDeadlineKeepsLock(t *testing.T) {
	key := []byte("k")
	s := NewServer(&ServerOptions{AuthKey: key})
	s.Register("cd", NewShared(Spec{Kind: KindCond}))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go s.Serve(ctx, ln)
	mk := func() *Cond {
		c, err := Dial(ctx, ln.Addr().String(), &DialOptions{AuthKey: key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		cd, err := Lookup[Cond](ctx, c, "cd")
		if err != nil {
			t.Fatal(err)
		}
		return cd
	}
	a, b := mk(), mk()

	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer wcancel()
	waited := make(chan error, 1)
	go func() { waited <- a.Wait(wctx) }()
	waitParked(t, s, s.names["cd"].id, 1)
	// b takes the lock while a waits, and keeps it past a's deadline and
	// the grace a's client gives a late reply: that time passing is what
	// is tested, so it is a sleep.
	if err := b.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(cancelGrace + time.Second)
	if err := b.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("a.Wait past its deadline = %v, want ErrTimeout", err)
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatalf("a.Unlock after the Wait = %v: Wait must return holding the lock", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 5*time.Second)
	defer tcancel()
	if err := b.Lock(tctx); err != nil {
		t.Fatalf("b.Lock after a unlocked = %v", err)
	}
}

// A timed blocking call leaves no context behind on its connection.
func TestTimedCallsLeaveNoContexts(t *testing.T) {
	s := NewServer(&ServerOptions{AuthKey: []byte("k")})
	obj, _ := newObject(KindQueue, 0, nil)
	s.Register("q", &Shared{obj: obj})
	id := s.names["q"].id

	ours, theirs := net.Pipe()
	go io.Copy(io.Discard, theirs)
	c := newServerConn(context.Background(), s, ours)
	defer c.finish()

	const n = 200
	for i := range n {
		c.dispatch(&request{ID: uint64(i + 1), Obj: id, Method: "get", Timeout: int64(time.Microsecond)})
	}
	c.wg.Wait() // every get has timed out and replied
	// A call's context leaves its parent in the goroutine of the timer
	// that ended it, which may run just after the call replied: the
	// parent's children are counted under its lock, until none is left.
	deadline := time.Now().Add(10 * time.Second)
	for {
		children := childContexts(c.ctx)
		if children == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d contexts leaked for %d finished calls", children, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// childContexts counts the children of ctx, a context made by
// context.WithCancel, under its lock (a context keeps no count of its own
// for anyone to ask).
func childContexts(ctx context.Context) int {
	v := reflect.ValueOf(ctx).Elem()
	mu := (*sync.Mutex)(unsafe.Pointer(v.FieldByName("mu").UnsafeAddr()))
	mu.Lock()
	defer mu.Unlock()
	return v.FieldByName("children").Len()
}

// A result over the frame cap is an error for that call, not the end of
// the connection.
func TestOversizedReplyIsAnError(t *testing.T) {
	key := []byte("k")
	const capBytes = 64 << 10
	s := NewServer(&ServerOptions{AuthKey: key, Limits: Limits{FrameCap: capBytes}})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go s.Serve(ctx, ln)
	c, err := Dial(ctx, ln.Addr().String(), &DialOptions{AuthKey: key, FrameCap: capBytes})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := NewDict[int, string](ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := d.Set(ctx, i, strings.Repeat("x", capBytes/2)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err = d.Values(ctx); !errors.Is(err, mp.ErrProtocol) || !strings.Contains(err.Error(), "frame cap") {
		t.Errorf("Values over the frame cap = %v, want an error that names the cap", err)
	}
	if _, err := c.Ping(ctx); errors.Is(err, ErrConnection) {
		t.Fatalf("one oversized reply killed the connection: Ping = %v", err)
	}
}

// A cond wait that may not block returns at once, instead of holding the
// connection's reader.
func TestNoBlockCondWaitReturns(t *testing.T) {
	s := NewServer(&ServerOptions{AuthKey: []byte("k")})
	s.Register("cd", NewShared(Spec{Kind: KindCond}))
	id := s.names["cd"].id
	ours, theirs := net.Pipe()
	go io.Copy(io.Discard, theirs)
	c := newServerConn(context.Background(), s, ours)
	c.dispatch(&request{ID: 1, Obj: id, Method: "lock"})
	done := make(chan struct{})
	go func() {
		c.dispatch(&request{ID: 2, Obj: id, Method: "wait", Timeout: -1})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("a no-block cond wait still blocks the reader after 2 s")
	}
}

// relay forwards connections to target and can cut them all.
type relay struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newRelay(t *testing.T, target string) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	go func() {
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, a, b)
			r.mu.Unlock()
			go func() { io.Copy(a, b); a.Close() }()
			go func() { io.Copy(b, a); b.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); r.cut() })
	return r
}

func (r *relay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

// After a connection to a server breaks (a network blip, the server dropped
// it), a proxy that arrives in this process binds to a live connection (a
// new Dial's, or one it dials), not to the dead one.
func TestProxyAfterReconnect(t *testing.T) {
	key := []byte("k")
	s := NewServer(&ServerOptions{AuthKey: key})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go s.Serve(ctx, ln)
	r := newRelay(t, ln.Addr().String())
	addr := r.ln.Addr().String()

	c1, err := Dial(ctx, addr, &DialOptions{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	q, err := NewQueue[int](ctx, c1, 0)
	if err != nil {
		t.Fatal(err)
	}
	form, err := encode(q)
	if err != nil {
		t.Fatal(err)
	}

	r.cut() // the network drops the connection; nobody calls c1.Close
	if _, err := c1.Ping(ctx); !errors.Is(err, ErrConnection) {
		t.Fatalf("Ping on the cut client = %v", err)
	}
	c2, err := Dial(ctx, addr, &DialOptions{AuthKey: key}) // reconnect
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	var q2 Queue[int] // the proxy arrives here from another process
	if err := decode(form, &q2); err != nil {
		t.Fatal(err)
	}
	if _, err := q2.Len(ctx); err != nil {
		t.Fatalf("a proxy that arrived after a reconnect: Len = %v", err)
	}
}

// waitParked waits until n calls are parked in s on the object id.
func waitParked(t *testing.T, s *Server, id uint64, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); Parked(s, id) != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls parked after 10 s, want %d", Parked(s, id), n)
		}
	}
}
