package mp_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/attack"
	"github.com/mpgo/mp/mptest"
)

// floodListener opens connections to addr without the key, as fast as it
// can, until stop is closed: ones that say nothing, ones that write a byte
// a second, ones that write garbage. It keeps at most live of them open,
// and counts its attempts in attempts. wg joins every goroutine it starts.
func floodListener(addr string, live int, attempts *atomic.Int64, stop <-chan struct{}, wg *sync.WaitGroup) {
	tokens := make(chan struct{}, live)
	for kind := range 3 {
		wg.Go(func() {
			for {
				select {
				case tokens <- struct{}{}:
				case <-stop:
					return
				}
				nc, err := net.Dial("tcp", addr)
				attempts.Add(1)
				if err != nil {
					<-tokens
					continue
				}
				wg.Go(func() {
					defer func() { <-tokens }()
					attack.Hold(nc.(*net.TCPConn), kind, stop)
				})
			}
		})
	}
}

// TestDialListenerUnderFlood: while one attacker opens connections without
// the key as fast as it can, many more than a Listener holds in their
// handshake, a client with the key connects every time, and Accept gets
// its Conn.
func TestDialListenerUnderFlood(t *testing.T) {
	mptest.CheckLeaks(t)
	key := []byte("k")
	l, err := mp.Listen("tcp", "127.0.0.1:0", key)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var attempts atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	floodListener(l.Addr().String(), 400, &attempts, stop, &wg)
	defer func() { close(stop); wg.Wait() }()
	waitUntil(t, "the flood under way", func() bool { return attempts.Load() >= 400 })
	const dials = 10
	ok := 0
	for i := range dials {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := mp.Dial(ctx, "tcp", l.Addr().String(), key)
		if err == nil {
			var a *mp.Conn
			if a, err = l.Accept(ctx); err == nil {
				a.Close()
				ok++
			}
			c.Close()
		}
		cancel()
		if err != nil {
			t.Errorf("Dial and Accept %d under the flood: %v", i, err)
			if i-ok >= 2 {
				break
			}
		}
	}
	if ok != dials {
		t.Errorf("%d of %d dials succeeded under the flood (%d connections opened by the attacker)", ok, dials, attempts.Load())
	}
}
