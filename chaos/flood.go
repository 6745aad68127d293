package chaos

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/manager"
)

// floodRun is what a flood saw.
type floodRun struct {
	attempts int             // connections the attacker opened
	past     int             // of which the server let past the handshake
	failures int             // keyed connections that failed
	firstErr error           // the first of these failures
	latency  []time.Duration // of the keyed connections: Dial, Ping, Close
	rate     float64         // attacker connections per second
	rss      int             // the server's resident set at the end, KiB
}

// attacker dials from 127.0.0.2, another address than the keyed client's
// (127.0.0.1): the flood is one attacker's, as it would be from another
// machine. A server cannot tell a flood from its own clients' address
// apart from those clients before they authenticate (see
// manager.Limits.MaxHandshakes).
var attacker = net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}

// flood holds hold connections open without the key (a third idle, a
// third writing a byte now and then, a third having sent a little
// garbage), each reopened as soon as the server closes it, and opens and
// closes further ones as fast as it can, while a keyed client connects
// and pings probes times, spread over d. pid is the server's process.
func flood(ctx context.Context, addr string, key []byte, pid, hold, probes int, d time.Duration) floodRun {
	var res floodRun
	fctx, stop := context.WithCancel(ctx)
	var attempts, past atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range hold {
		wg.Go(func() { holdOpen(fctx, addr, i%3, &attempts, &past) })
	}
	for range 2 {
		wg.Go(func() { churn(fctx, addr, &attempts) })
	}
	// Let the held connections open before the first probe.
	settle(ctx, 30*time.Second, func() bool { return attempts.Load() >= int64(hold) })
	pace := time.NewTicker(d / time.Duration(probes))
	defer pace.Stop()
	for range probes {
		<-pace.C
		t := time.Now()
		cl, err := manager.Dial(ctx, addr, &manager.DialOptions{AuthKey: key})
		if err == nil {
			_, err = cl.Ping(ctx)
			cl.Close()
		}
		if err != nil {
			res.failures++
			if res.firstErr == nil {
				res.firstErr = err
			}
			continue
		}
		res.latency = append(res.latency, time.Since(t))
	}
	res.rss = rssKiB(pid)
	stop()
	wg.Wait()
	res.attempts = int(attempts.Load())
	res.past = int(past.Load())
	res.rate = float64(res.attempts) / time.Since(start).Seconds()
	return res
}

// holdOpen keeps one unauthenticated connection open until ctx ends,
// reopening it whenever the server closes it.
func holdOpen(ctx context.Context, addr string, kind int, attempts, past *atomic.Int64) {
	for ctx.Err() == nil {
		c, err := attacker.DialContext(ctx, "tcp", addr)
		attempts.Add(1)
		if err != nil {
			continue
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		var writer sync.WaitGroup
		switch kind {
		case 1:
			writer.Go(func() { slowWrite(ctx, c) })
		case 2:
			c.Write(randomBytes(answerLen / 2))
		}
		hello := make([]byte, helloLen)
		if _, err := io.ReadFull(c, hello); err == nil {
			verdict := make([]byte, 1)
			if _, err := io.ReadFull(c, verdict); err == nil && verdict[0] == 0 {
				past.Add(1)
			}
			io.Copy(io.Discard, c)
		}
		stop()
		c.Close()
		writer.Wait()
	}
}

// slowWrite writes one byte of a hostile answer every half second until
// the connection or ctx ends.
func slowWrite(ctx context.Context, c net.Conn) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := c.Write([]byte{'x'}); err != nil {
				return
			}
		}
	}
}

// churn opens and closes connections as fast as it can until ctx ends.
func churn(ctx context.Context, addr string, attempts *atomic.Int64) {
	for ctx.Err() == nil {
		c, err := attacker.DialContext(ctx, "tcp", addr)
		attempts.Add(1)
		if err == nil {
			c.Close()
		}
	}
}
