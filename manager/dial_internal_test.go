package manager

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp/mptest"
)

// silentListener accepts TCP connections and never says a word on them, as
// a hung server does: a client dialling it waits in the handshake. Every
// connection it accepts is sent on accepted, and kept open (a connection
// nobody refers to would be closed by the garbage collector) until the
// test ends.
type silentListener struct {
	ln       net.Listener
	accepted chan net.Conn
	mu       sync.Mutex
	conns    []net.Conn
}

func newSilentListener(t *testing.T) *silentListener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentListener{ln: ln, accepted: make(chan net.Conn, 8)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, nc)
			s.mu.Unlock()
			select {
			case s.accepted <- nc:
			case <-stop:
				return
			}
		}
	})
	t.Cleanup(func() {
		close(stop)
		ln.Close()
		wg.Wait()
		for _, nc := range s.conns {
			nc.Close()
		}
	})
	return s
}

// next returns the next connection the listener accepts.
func (s *silentListener) next(t *testing.T) net.Conn {
	t.Helper()
	select {
	case nc := <-s.accepted:
		return nc
	case <-time.After(10 * time.Second):
		t.Fatal("no connection reached the silent listener")
		return nil
	}
}

// noneAccepted fails t if the listener has accepted a connection nobody
// took with next.
func (s *silentListener) noneAccepted(t *testing.T) {
	t.Helper()
	select {
	case <-s.accepted:
		t.Fatal("a second connection was dialled while one was under way to the same server")
	default:
	}
}

// serveLoopback serves s on a loopback TCP port until the test ends, and
// returns its address.
func serveLoopback(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	return ln.Addr().String()
}

// arrived returns a queue proxy to f as a process receives one from
// another: unbound until its first call.
func arrived(t *testing.T, f proxyForm) *Queue[int] {
	t.Helper()
	data, err := cbor.Marshal(cbor.Tag{Number: proxyTag, Content: f})
	if err != nil {
		t.Fatal(err)
	}
	q := new(Queue[int])
	if err := decode(data, q); err != nil {
		t.Fatal(err)
	}
	return q
}

// lenAsync calls q.Len in a goroutine and returns where its error arrives.
func lenAsync(ctx context.Context, q *Queue[int]) <-chan error {
	errc := make(chan error, 1)
	go func() { _, err := q.Len(ctx); errc <- err }()
	return errc
}

// waitDialWaiters waits until n callers wait for the connection under way
// to to.
func waitDialWaiters(t *testing.T, to target, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); dialWaiters(to) != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers wait for the dial to %s after 10 s, want %d", dialWaiters(to), to.addr, n)
		}
	}
}

// dialWaiters returns how many callers wait for the connection under way
// to to, besides the one that dials.
func dialWaiters(to target) int {
	clients.mu.Lock()
	defer clients.mu.Unlock()
	if a := clients.dialing[to]; a != nil {
		return a.waiting
	}
	return -1
}

// A server that accepts connections and never answers the handshake holds
// up only the proxies bound for it: while a proxy's first call waits on
// it, a proxy of another server binds (dialling that server) and answers.
func TestSilentServerDoesNotHoldUpOthers(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	silent := newSilentListener(t)

	s := NewServer(nil) // this process's key, which an arriving proxy uses
	s.Register("q", NewShared(Spec{Kind: KindQueue}))
	healthy := arrived(t, proxyForm{Server: s.id, Addr: serveLoopback(t, s), ID: s.names["q"].id, Kind: KindQueue})
	defer healthy.Close()
	stuck := arrived(t, proxyForm{Server: 1, Addr: silent.ln.Addr().String(), ID: 1, Kind: KindQueue})
	defer stuck.Close()

	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	stuckErr := lenAsync(sctx, stuck)
	silent.next(t) // the stuck proxy's dial is in its handshake
	select {
	case err := <-lenAsync(ctx, healthy):
		if err != nil {
			t.Fatalf("healthy.Len = %v", err)
		}
	case err := <-stuckErr:
		t.Fatalf("the healthy proxy's first call waited for the dial to a silent server, which ended with %v", err)
	}
	select {
	case err := <-stuckErr:
		t.Fatalf("stuck.Len = %v before its context ended", err)
	default:
	}
	scancel()
	if err := <-stuckErr; !errors.Is(err, context.Canceled) {
		t.Errorf("stuck.Len after its context was cancelled = %v, want context.Canceled", err)
	}
}

// Proxies bound for the same server share one connection attempt; each
// waits at most as long as its context, the end of the dialling caller's
// context does not fail the others, and a failed attempt is not kept: the
// next call dials again.
func TestDialAttempts(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	silent := newSilentListener(t)
	form := proxyForm{Server: 1, Addr: silent.ln.Addr().String(), ID: 1, Kind: KindQueue}
	to := target{form.Server, form.Addr}
	var proxies []*Queue[int]
	defer func() {
		for _, p := range proxies {
			p.Close()
		}
	}()
	call := func() (<-chan error, context.CancelFunc) {
		p := arrived(t, form)
		proxies = append(proxies, p)
		pctx, pcancel := context.WithCancel(ctx)
		return lenAsync(pctx, p), pcancel
	}

	first, cancelFirst := call()
	defer cancelFirst()
	silent.next(t)
	second, cancelSecond := call()
	defer cancelSecond()
	waitDialWaiters(t, to, 1)
	silent.noneAccepted(t)

	cancelSecond() // a waiter's context bounds its wait...
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("a waiting call whose context was cancelled = %v, want context.Canceled", err)
	}
	select {
	case err := <-first:
		t.Fatalf("the dialling call = %v, though only a waiter's context ended", err)
	default:
	}

	third, cancelThird := call()
	defer cancelThird()
	waitDialWaiters(t, to, 1)
	cancelFirst() // ...and the dialling caller's context only its own call
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("the dialling call after its context was cancelled = %v, want context.Canceled", err)
	}
	nc := silent.next(t) // the third call dials in turn
	select {
	case err := <-third:
		t.Fatalf("a waiting call = %v once the dialling caller's context ended; want it to dial", err)
	default:
	}

	fourth, cancelFourth := call()
	defer cancelFourth()
	waitDialWaiters(t, to, 1)
	nc.Close() // the server hangs up: an error for the attempt and its waiter
	for _, errc := range []<-chan error{third, fourth} {
		if err := <-errc; err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("a call to a server that hung up = %v, want the dial's error", err)
		}
	}

	fifth, cancelFifth := call() // the failure was not kept
	silent.next(t)
	cancelFifth()
	if err := <-fifth; !errors.Is(err, context.Canceled) {
		t.Errorf("a call after a failed attempt = %v, want a new dial ended by its context", err)
	}
}

// Calls that bind one proxy at once leave it holding one reference.
func TestConcurrentBindTakesOneReference(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := NewServer(nil)
	s.Register("q", NewShared(Spec{Kind: KindQueue}))
	id := s.names["q"].id
	q := arrived(t, proxyForm{Server: s.id, Addr: serveLoopback(t, s), ID: id, Kind: KindQueue})
	defer q.Close()

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := q.Len(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := q.c.Load().Ping(ctx); err != nil { // after the decrefs of the calls that lost
		t.Fatal(err)
	}
	s.mu.Lock()
	refs := s.objects[id].refs
	s.mu.Unlock()
	if refs != 1 {
		t.Errorf("the object has %d references after 8 calls bound its proxy at once, want 1", refs)
	}
}
