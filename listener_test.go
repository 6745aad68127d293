package mp_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/auth"
	"github.com/mpgo/mp/internal/stacks"
	"github.com/mpgo/mp/mptest"
)

// dialJob tells dialEcho where to connect and with which key.
type dialJob struct {
	Network, Addr string
	Key           []byte
}

// dialEcho connects to a Listener, sends "hello from <pid>", then echoes
// every string it receives with a "!" added until the other side closes;
// it returns how many it echoed.
var dialEcho = mp.Register("test.dialEcho", func(ctx context.Context, j dialJob) (int, error) {
	c, err := mp.Dial(ctx, j.Network, j.Addr, j.Key)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.Send(ctx, fmt.Sprintf("hello from %d", os.Getpid())); err != nil {
		return 0, err
	}
	for n := 0; ; n++ {
		var s string
		if err := c.Recv(ctx, &s); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		if err := c.Send(ctx, s+"!"); err != nil {
			return n, err
		}
	}
})

// closeConn closes the Conn it is given.
var closeConn = mp.Register("test.closeConn", func(ctx context.Context, c *mp.Conn) (int, error) {
	return 0, c.Close()
})

func listen(t *testing.T, network, address string, key []byte) *mp.Listener {
	t.Helper()
	l, err := mp.Listen(network, address, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestListenerDial: a child process dials the parent's Listener over a Unix
// socket (abstract and with a path) and over TCP; both sides exchange
// messages, and mp.Wait wakes on the accepted Conn when the child writes.
func TestListenerDial(t *testing.T) {
	key := []byte("listener test key")
	for _, tc := range []struct{ network, addr string }{
		{"unix", fmt.Sprintf("@mp-test-listener-%d", os.Getpid())},
		{"unix", filepath.Join(t.TempDir(), "sock")},
		{"tcp", "127.0.0.1:0"},
	} {
		t.Run(tc.network+" "+tc.addr, func(t *testing.T) {
			mptest.CheckLeaks(t)
			ctx := testContext(t)
			l := listen(t, tc.network, tc.addr, key)
			p := mp.Command(dialEcho, dialJob{tc.network, l.Addr().String(), key})
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			c, err := l.Accept(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ready, err := mp.Wait(ctx, c); err != nil || len(ready) != 1 || ready[0] != c {
				t.Fatalf("Wait on the accepted Conn = %v, %v", ready, err)
			}
			var hello string
			if err := c.Recv(ctx, &hello); err != nil || hello != fmt.Sprintf("hello from %d", p.Pid()) {
				t.Fatalf("Recv = %q, %v; want the child's hello", hello, err)
			}
			for _, s := range []string{"a", "b"} {
				var got string
				if err := c.Send(ctx, s); err != nil {
					t.Fatal(err)
				}
				if err := c.Recv(ctx, &got); err != nil || got != s+"!" {
					t.Fatalf("echo of %q = %q, %v", s, got, err)
				}
			}
			c.Close()
			if err := p.Wait(ctx); err != nil {
				t.Fatalf("child: %v", err)
			}
		})
	}
}

// TestListenerWrongKey: a client with another key fails, and so does the
// Accept that met it, both with ErrAuthentication; the Listener goes on to
// accept a client that knows the key.
func TestListenerWrongKey(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testContext(t)
	l := listen(t, "tcp", "127.0.0.1:0", []byte("right"))
	p := mp.Command(dialEcho, dialJob{"tcp", l.Addr().String(), []byte("wrong")})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := l.Accept(ctx); !errors.Is(err, mp.ErrAuthentication) {
		t.Errorf("Accept of a client with the wrong key = %v, want ErrAuthentication", err)
	}
	if err := p.Wait(ctx); !errors.Is(err, mp.ErrAuthentication) {
		t.Errorf("the child's Dial with the wrong key = %v, want ErrAuthentication", err)
	}
	// The same over a Unix socket, and with this process's own key against
	// a Listener with a key of its own.
	u := listen(t, "unix", fmt.Sprintf("@mp-test-wrongkey-%d", os.Getpid()), []byte("right"))
	errc := make(chan error, 1)
	go func() {
		c, err := mp.Dial(ctx, "unix", u.Addr().String(), nil)
		if err == nil {
			c.Close()
		}
		errc <- err
	}()
	if _, err := u.Accept(ctx); !errors.Is(err, mp.ErrAuthentication) {
		t.Errorf("unix Accept of a client with the wrong key = %v, want ErrAuthentication", err)
	}
	if err := <-errc; !errors.Is(err, mp.ErrAuthentication) {
		t.Errorf("unix Dial with the wrong key = %v, want ErrAuthentication", err)
	}
	go func() {
		c, err := mp.Dial(ctx, "tcp", l.Addr().String(), []byte("right"))
		if err == nil {
			c.Close()
		}
		errc <- err
	}()
	c, err := l.Accept(ctx)
	if err != nil {
		t.Fatalf("Accept after a failed handshake = %v", err)
	}
	c.Close()
	if err := <-errc; err != nil {
		t.Errorf("Dial with the right key = %v", err)
	}
}

// TestWaitOnListener: Wait reports a Listener ready once a client is
// waiting to be accepted, among other objects.
func TestWaitOnListener(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testContext(t)
	l := listen(t, "unix", fmt.Sprintf("@mp-test-wait-%d", os.Getpid()), nil)
	r, w, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	short, cancel := context.WithCancel(ctx)
	cancel()
	if ready, _ := mp.Wait(short, l, r); len(ready) != 0 {
		t.Fatalf("Wait with nobody connecting = %v, want nothing ready", ready)
	}
	// The child's key is this process's: a nil key on both sides.
	p := mp.Command(dialEcho, dialJob{"unix", l.Addr().String(), nil})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ready, err := mp.Wait(ctx, r, l)
	if err != nil || len(ready) != 1 || ready[0] != l {
		t.Fatalf("Wait = %v, %v; want the Listener", ready, err)
	}
	c, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hello string
	if err := c.Recv(ctx, &hello); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("child: %v", err)
	}
}

// TestListenerRefusesPublicWithoutKey: without a key of its own (nil or
// empty alike), a Listener does not listen where other machines reach it.
func TestListenerRefusesPublicWithoutKey(t *testing.T) {
	for _, key := range [][]byte{nil, {}} {
		if l, err := mp.Listen("tcp", "0.0.0.0:0", key); !errors.Is(err, mp.ErrInsecure) {
			if l != nil {
				l.Close()
			}
			t.Errorf("Listen on 0.0.0.0 with key %#v = %v, want ErrInsecure", key, err)
		}
	}
	l, err := mp.Listen("tcp", "0.0.0.0:0", []byte("chosen"))
	if err != nil {
		t.Fatalf("Listen on 0.0.0.0 with a key = %v", err)
	}
	l.Close()
	if _, err := mp.Listen("udp", "127.0.0.1:0", nil); err == nil {
		t.Error("Listen on udp succeeded")
	}
}

// TestListenerHandles: over a Unix socket a Conn carries handles, as a
// Pipe's does; over TCP a message with a handle, or the Conn itself as a
// handle, fails with ErrHandles, and the Conn goes on working.
func TestListenerHandles(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testContext(t)
	for _, network := range []string{"unix", "tcp"} {
		addr := fmt.Sprintf("@mp-test-handles-%d", os.Getpid())
		if network == "tcp" {
			addr = "127.0.0.1:0"
		}
		l := listen(t, network, addr, []byte("k"))
		dialed := make(chan *mp.Conn, 1)
		go func() {
			c, err := mp.Dial(ctx, network, l.Addr().String(), []byte("k"))
			if err != nil {
				t.Error(err)
			}
			dialed <- c
		}()
		a, err := l.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := <-dialed
		pr, pw, err := mp.Pipe(false)
		if err != nil {
			t.Fatal(err)
		}
		err = a.Send(ctx, pw)
		if network == "tcp" {
			if !errors.Is(err, mp.ErrHandles) {
				t.Errorf("tcp: Send of a Conn = %v, want ErrHandles", err)
			}
			if _, err := mp.Call(ctx, closeConn, a); err == nil {
				t.Error("tcp: a Conn over TCP went to a child")
			}
		} else {
			var got *mp.Conn
			if err != nil || b.Recv(ctx, &got) != nil {
				t.Fatalf("unix: Conn over a Conn: %v", err)
			}
			if err := got.Send(ctx, "through"); err != nil {
				t.Fatal(err)
			}
			got.Close()
			var s string
			if err := pr.Recv(ctx, &s); err != nil || s != "through" {
				t.Errorf("unix: message through the Conn that travelled = %q, %v", s, err)
			}
		}
		if err := a.Send(ctx, "still"); err != nil {
			t.Fatal(err)
		}
		if ready, err := mp.Wait(ctx, pr, b); err != nil || len(ready) != 1 || ready[0] != b {
			t.Fatalf("%s: Wait on the dialled Conn = %v, %v", network, ready, err)
		}
		var s string
		if err := b.Recv(ctx, &s); err != nil || s != "still" {
			t.Errorf("%s: Recv after = %q, %v", network, s, err)
		}
		for _, c := range []*mp.Conn{a, b, pr, pw} {
			c.Close()
		}
	}
}

// TestAcceptEnds: Accept returns when its context ends, and ErrClosed once
// the Listener is closed.
func TestAcceptEnds(t *testing.T) {
	mptest.CheckLeaks(t)
	l := listen(t, "tcp", "127.0.0.1:0", []byte("k"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := l.Accept(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Accept past its deadline = %v, want DeadlineExceeded", err)
	}
	// While a client that connects says nothing, Accept waits until its
	// context ends.
	silent, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	hello := make([]byte, 40)
	go func() {
		io.ReadFull(silent, hello) // the Listener's hello: it is in the handshake
		cancel()
	}()
	if _, err := l.Accept(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Accept of a silent client, cancelled = %v, want context.Canceled", err)
	}
	l.Close()
	if _, err := l.Accept(context.Background()); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("Accept after Close = %v, want ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestWaitWholeMessageTCP: over TCP, Wait and Ready report a Conn ready
// only once a whole message has arrived, not at its first bytes, so that
// the Recv after them does not block.
func TestWaitWholeMessageTCP(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testContext(t)
	key := []byte("k")
	l := listen(t, "tcp", "127.0.0.1:0", key)
	// The peer is a raw socket that has done the handshake.
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	shook := make(chan error, 1)
	go func() {
		_, err := auth.ClientContext(ctx, raw, mp.ConnMagic, key)
		shook <- err
	}()
	c, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := <-shook; err != nil {
		t.Fatal(err)
	}
	// A frame as a Conn sends it, to send back in two parts.
	if err := c.Send(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 6)
	if _, err := io.ReadFull(raw, frame); err != nil {
		t.Fatal(err)
	}
	frame = append(frame, make([]byte, binary.BigEndian.Uint32(frame))...)
	if _, err := io.ReadFull(raw, frame[6:]); err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	raw.Write(frame[:8])
	if ready, err := mp.Wait(ended, c); len(ready) != 0 {
		t.Errorf("Wait with part of a message arrived = %v, %v; want nothing ready", ready, err)
	}
	if c.Ready() {
		t.Error("Ready with part of a message arrived = true")
	}
	raw.Write(frame[8:])
	if ready, err := mp.Wait(ctx, c); err != nil || len(ready) != 1 || ready[0] != c {
		t.Fatalf("Wait with the whole message arrived = %v, %v", ready, err)
	}
	var s string
	if err := c.Recv(ended, &s); err != nil || s != "hello" {
		t.Errorf("Recv after Wait, with an ended context = %q, %v; want hello", s, err)
	}
}

// TestAcceptSilentClient: a client that connects and says nothing holds up
// neither Accept nor the handshake of a client that knows the key. Close
// ends the handshake still under way and closes a connection nobody
// accepted, and leaves none of the Listener's goroutines running.
func TestAcceptSilentClient(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testContext(t)
	key := []byte("k")
	l, err := mp.Listen("tcp", "127.0.0.1:0", key)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	silent, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	type result struct {
		c   *mp.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept(ctx)
		accepted <- result{c, err}
	}()
	hello := make([]byte, 40)
	if _, err := io.ReadFull(silent, hello); err != nil { // its handshake is under way
		t.Fatal(err)
	}
	c, err := mp.Dial(ctx, "tcp", l.Addr().String(), key)
	if err != nil {
		t.Fatalf("Dial while a silent client is in its handshake = %v", err)
	}
	defer c.Close()
	r := <-accepted
	if r.err != nil {
		t.Fatalf("Accept while a silent client is in its handshake = %v", r.err)
	}
	defer r.c.Close()
	var s string
	if err := c.Send(ctx, "ping"); err != nil {
		t.Fatal(err)
	}
	if err := r.c.Recv(ctx, &s); err != nil || s != "ping" {
		t.Fatalf("Recv = %q, %v; want ping", s, err)
	}

	// A second client authenticates, and nobody accepts it.
	unaccepted, err := mp.Dial(ctx, "tcp", l.Addr().String(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer unaccepted.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if dump := stacks.Dump(); strings.Contains(dump, "mp.(*Listener).") {
		t.Errorf("goroutines of the Listener left after Close:\n%s", dump)
	}
	if _, err := silent.Read(hello); err != io.EOF {
		t.Errorf("the silent client's read after Close = %v, want io.EOF", err)
	}
	if err := unaccepted.Recv(ctx, &s); err != io.EOF {
		t.Errorf("Recv of the client nobody accepted, after Close = %v, want io.EOF", err)
	}
	if err := r.c.Send(ctx, "still"); err != nil {
		t.Errorf("Send on an accepted Conn after Close = %v", err)
	}
}
