package manager_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

// rawAuthenticated connects to addr and runs the client's side of the
// handshake by hand, returning the raw connection.
func rawAuthenticated(t *testing.T, addr string, key []byte) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	hello := make([]byte, 40)
	if _, err := io.ReadFull(nc, hello); err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 32)
	h := hmac.New(sha256.New, key)
	h.Write([]byte("client"))
	h.Write(hello[8:])
	h.Write(nonce)
	nc.Write(append(append(append([]byte{}, hello[:8]...), nonce...), h.Sum(nil)...))
	verdict := make([]byte, 45)
	if _, err := io.ReadFull(nc, verdict); err != nil || verdict[0] != 0 {
		t.Fatalf("handshake by hand failed: %v %v", verdict[:1], err)
	}
	return nc
}

// closedSoon reports whether the server closes nc within a few seconds.
func closedSoon(nc net.Conn) bool {
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1024)
	for {
		_, err := nc.Read(buf)
		if err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
}

// TestHostileClients sends what no client should: garbage instead of a
// handshake, an oversized frame, undecodable bytes, half a frame then
// silence. Each gets its connection closed; a well-behaved client on the
// same server is not disturbed.
func TestHostileClients(t *testing.T) {
	mptest.CheckLeaks(t)
	key := []byte("k")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key, Limits: manager.Limits{IOTimeout: 300 * time.Millisecond, FrameCap: 1 << 16}})
	addr := inProcess(t, srv, "")
	good := dial(t, addr, key)
	ctx := testCtx(t)
	d, err := manager.NewDict[int, int](ctx, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	frame := func(n uint32, body []byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, n), body...)
	}
	cases := []struct {
		name  string
		auth  bool
		bytes []byte
	}{
		{"silence instead of a handshake", false, nil},
		{"garbage handshake", false, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + string(make([]byte, 64)))},
		{"oversized frame", true, frame(1<<30, nil)},
		{"undecodable request", true, frame(4, []byte{0xff, 0xff, 0xff, 0xff})},
		{"deep nesting", true, frame(2000, make([]byte, 2000))},
		{"half a frame then silence", true, frame(100, []byte("only a little"))},
	}
	for i := range cases[4].bytes[4:] {
		cases[4].bytes[4+i] = 0x81 // [[[[...
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var nc net.Conn
			if tc.auth {
				nc = rawAuthenticated(t, addr, key)
			} else {
				var err error
				if nc, err = net.Dial("tcp", addr); err != nil {
					t.Fatal(err)
				}
			}
			defer nc.Close()
			nc.Write(tc.bytes)
			if !closedSoon(nc) {
				t.Error("the server kept the connection open")
			}
			if err := d.Set(ctx, 1, 1); err != nil {
				t.Errorf("the good client was disturbed: %v", err)
			}
		})
	}
}

// TestMaxConns closes connections beyond the limit at once.
func TestMaxConns(t *testing.T) {
	mptest.CheckLeaks(t)
	key := []byte("k")
	addr := inProcess(t, manager.NewServer(&manager.ServerOptions{AuthKey: key, Limits: manager.Limits{MaxConns: 2}}), "")
	dial(t, addr, key)
	dial(t, addr, key)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := manager.Dial(ctx, addr, &manager.DialOptions{AuthKey: key}); err == nil {
		c.Close()
		t.Error("a third connection was served with MaxConns 2")
	}
}

// TestMaxPending: blocking calls beyond the limit fail with ErrBusy instead
// of growing without bound.
func TestMaxPending(t *testing.T) {
	mptest.CheckLeaks(t)
	key := []byte("k")
	addr := inProcess(t, manager.NewServer(&manager.ServerOptions{AuthKey: key, Limits: manager.Limits{MaxPending: 2}}), "")
	c := dial(t, addr, key)
	ctx := testCtx(t)
	q, _ := manager.NewQueue[int](ctx, c, 0)
	defer q.Close()
	gctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 3)
	for range 3 {
		go func() { _, err := q.Get(gctx); errc <- err }()
	}
	busy := <-errc
	if !errors.Is(busy, manager.ErrBusy) {
		t.Errorf("third blocking call = %v, want ErrBusy", busy)
	}
	cancel()
	<-errc
	<-errc
}

// TestLeaksAfterClientsLeave: many clients come and go; the server's
// goroutines and descriptors return to where they were (the test's leak
// check covers this process, which runs the server).
func TestLeaksAfterClientsLeave(t *testing.T) {
	key := []byte("k")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key, Limits: manager.Limits{ReleaseDelay: -1}})
	addr := inProcess(t, srv, "")
	ctx := testCtx(t)
	// A client served means Serve has started its own goroutines, which
	// stay after the test: only then does the leak check look.
	first, err := manager.Dial(ctx, addr, &manager.DialOptions{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	mptest.CheckLeaks(t)
	for range 20 {
		c := dial(t, addr, key)
		q, _ := manager.NewQueue[int](ctx, c, 0)
		m, _ := manager.NewMutex(ctx, c)
		m.Lock(ctx)
		go q.Get(ctx) // blocked when the client closes
		waitParked(t, srv, q.ID(), 1)
		c.Close()
	}
}

// TestPendingBytes: the arguments of blocked calls on one connection are
// bounded too: puts of big items waiting on a full queue fail with ErrBusy
// once they hold four frames' worth.
func TestPendingBytes(t *testing.T) {
	mptest.CheckLeaks(t)
	key := []byte("k")
	addr := inProcess(t, manager.NewServer(&manager.ServerOptions{AuthKey: key, Limits: manager.Limits{FrameCap: 4096}}), "")
	c := dial(t, addr, key)
	ctx := testCtx(t)
	q, _ := manager.NewQueue[string](ctx, c, 1)
	defer q.Close()
	must(t, q.Put(ctx, "full"))
	pctx, cancel := context.WithCancel(ctx)
	big := string(make([]byte, 3000))
	errc := make(chan error, 6)
	for range 6 {
		go func() { errc <- q.Put(pctx, big) }()
	}
	if err := <-errc; !errors.Is(err, manager.ErrBusy) {
		t.Errorf("first put to return = %v, want ErrBusy", err)
	}
	cancel()
	for range 5 {
		<-errc
	}
}
