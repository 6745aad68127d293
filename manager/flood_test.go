package manager_test

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/attack"
	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

// flood attacks a server without its key: it opens connections that say
// nothing, that write one byte a second, and that write garbage, as fast
// as it can or at a given rate, keeping at most live of them open at once.
type flood struct {
	addr string
	from net.Dialer    // its local address is the attacker's
	live chan struct{} // a token per connection open
	// every paces the attempts (zero: as fast as possible).
	every    time.Duration
	attempts atomic.Int64
	stop     chan struct{}
	wg       sync.WaitGroup
}

// startFlood starts the attack on addr from the IP address from (""
// for the system's choice); stopFlood ends it and joins every goroutine it
// started.
func startFlood(addr, from string, live int, every time.Duration) *flood {
	f := &flood{addr: addr, live: make(chan struct{}, live), every: every, stop: make(chan struct{})}
	if from != "" {
		f.from.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	for kind := range 3 {
		f.wg.Go(func() { f.attacker(kind) })
	}
	return f
}

func (f *flood) stopFlood() {
	close(f.stop)
	f.wg.Wait()
}

// attacker opens connections of one kind until the flood stops.
func (f *flood) attacker(kind int) {
	var tick <-chan time.Time
	if f.every > 0 {
		t := time.NewTicker(3 * f.every) // three attackers share the rate
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case f.live <- struct{}{}:
		case <-f.stop:
			return
		}
		if tick != nil {
			select {
			case <-tick:
			case <-f.stop:
				<-f.live
				return
			}
		}
		nc, err := f.from.Dial("tcp", f.addr)
		f.attempts.Add(1)
		if err != nil {
			<-f.live
			continue
		}
		f.wg.Go(func() {
			defer func() { <-f.live }()
			attack.Hold(nc.(*net.TCPConn), kind, f.stop)
		})
	}
}

// TestDialUnderFlood: while connections without the key arrive as fast as
// one attacker can open them — many more than the server keeps in their
// handshake, and more than MaxConns — a client with the key connects,
// every time.
func TestDialUnderFlood(t *testing.T) {
	mptest.CheckLeaks(t)
	key := []byte("k")
	var records atomic.Int64
	logger := slog.New(countingHandler{&records})
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key, Logger: logger, Limits: manager.Limits{MaxConns: 256}})
	addr := inProcess(t, srv, "")
	f := startFlood(addr, "", 600, 0)
	defer f.stopFlood()
	// The attack is under way once it has opened as many connections as
	// it keeps, far more than the server keeps in their handshake.
	waitCount(t, 600, func() int { return int(min(f.attempts.Load(), 600)) })
	const dials = 20
	ok := 0
	for i := range dials {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := manager.Dial(ctx, addr, &manager.DialOptions{AuthKey: key})
		cancel()
		if err != nil {
			t.Errorf("Dial %d under the flood: %v", i, err)
			continue
		}
		if _, err := c.Ping(testCtx(t)); err != nil {
			t.Errorf("Ping %d under the flood: %v", i, err)
		}
		c.Close()
		ok++
	}
	if ok != dials {
		t.Errorf("%d of %d dials succeeded under the flood (%d connections opened by the attacker)", ok, dials, f.attempts.Load())
	}
	// At most one record a second for each reason: far fewer than the
	// connections dropped.
	if n, attempts := records.Load(), f.attempts.Load(); n > 40 || n >= attempts/10 {
		t.Errorf("%d log records for a flood of %d connections", n, attempts)
	}
}

// countingHandler is a slog.Handler that counts the records it is given.
type countingHandler struct{ n *atomic.Int64 }

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }
