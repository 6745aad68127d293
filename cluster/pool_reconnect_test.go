package cluster_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// proxy forwards TCP connections to an engine, and can cut them all and
// refuse new ones for a while, as a broken network would.
type proxy struct {
	t        *testing.T
	addr     string
	upstream string

	// mu guards l and conns.
	mu    sync.Mutex
	l     net.Listener
	conns []net.Conn
	wg    sync.WaitGroup
}

func newProxy(t *testing.T, engineURL string) *proxy {
	u, err := url.Parse(engineURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, upstream: u.Host}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(func() {
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) serve(l net.Listener) {
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(up, c); up.Close() }()
			go func() { defer p.wg.Done(); _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes every connection and stops listening.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore listens again, on the same address.
func (p *proxy) restore() {
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(l)
}

// TestPoolSubmitterReconnects cuts the submitter off while its task runs:
// the result is stored for it meanwhile, and comes once it reconnects.
func TestPoolSubmitterReconnects(t *testing.T) {
	c := start(t, nil)
	ctx := testCtx(t)
	px := newProxy(t, c.URL())
	sub, err := cluster.Connect(ctx, "nats://"+px.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	p := newPool(t, sub, &cluster.PoolOptions{Name: "reconnect", AckWait: 300 * time.Millisecond})
	startWorker(t, c, "reconnect", "a", 1) // reaches the engine directly
	rep := newReporter(t)
	gate := filepath.Join(t.TempDir(), "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}

	f := mp.Submit(ctx, p, hold, holdArg{X: 21, Report: rep.path, Gate: gate})
	rep.next(t, ctx)
	px.cut()
	g, err := os.OpenFile(gate, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	g.WriteString("go\n")
	g.Close()
	waitStored(t, ctx, c, "reconnect")
	if f.Ready() {
		t.Fatal("the result came while the submitter was cut off")
	}
	px.restore()
	if got, err := f.Get(ctx); err != nil || got != 42 {
		t.Fatalf("Get = %d, %v; want 42", got, err)
	}
}

// waitStored waits until pool's results stream holds a result (beside
// its keeper message).
func waitStored(t *testing.T, ctx context.Context, c *cluster.Cluster, pool string) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s, err := c.JetStream().Stream(ctx, cluster.ResultStream(pool))
		if err != nil {
			t.Fatal(err)
		}
		if s.CachedInfo().State.Msgs >= 2 {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("no result stored")
		}
	}
}
