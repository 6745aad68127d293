package auth

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

const testMagic = "mptest\x00\x01"

// handshake runs both sides over a pipe and returns what the client
// learnt and both sides' errors.
func handshake(serverKey, clientKey []byte) (p Peer, srvErr, cliErr error) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	done := make(chan error, 1)
	go func() {
		err := Server(a, testMagic, serverKey, 7, 42, time.Now().Add(5*time.Second), nil)
		if err != nil {
			a.Close()
		}
		done <- err
	}()
	p, cliErr = ClientContext(context.Background(), b, testMagic, clientKey)
	if cliErr != nil {
		b.Close()
	}
	return p, <-done, cliErr
}

func TestHandshake(t *testing.T) {
	p, srvErr, cliErr := handshake([]byte("k"), []byte("k"))
	if srvErr != nil || cliErr != nil || p != (Peer{ID: 7, Pid: 42}) {
		t.Errorf("same key: server %v, client %v, peer %+v", srvErr, cliErr, p)
	}
	_, srvErr, cliErr = handshake([]byte("k"), []byte("other"))
	if !errors.Is(srvErr, errs.ErrAuthentication) || !errors.Is(cliErr, errs.ErrAuthentication) {
		t.Errorf("different keys: server %v, client %v; want ErrAuthentication on both", srvErr, cliErr)
	}
}

// TestOtherProtocol: a client of one protocol is refused by a server of
// another, whatever the key.
func TestOtherProtocol(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go Server(a, "mpother\x01", []byte("k"), 1, 1, time.Now().Add(5*time.Second), nil)
	if _, err := ClientContext(context.Background(), b, testMagic, []byte("k")); !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("ClientContext against another protocol = %v, want ErrProtocol", err)
	}
}

// TestClientContextEnds: a server that says nothing holds the client only
// until its context ends.
func TestClientContextEnds(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ClientContext(ctx, b, testMagic, []byte("k")); !errors.Is(err, context.Canceled) {
		t.Errorf("ClientContext with an ended context = %v, want context.Canceled", err)
	}
}

// FuzzHandshake feeds the server's side of the handshake arbitrary answers
// and the client's side arbitrary hellos and verdicts: each must end in an
// error or a success, never a panic or a hang, and no answer without the
// key's MAC may pass.
func FuzzHandshake(f *testing.F) {
	key := []byte("fuzz key")
	f.Add([]byte(testMagic + string(make([]byte, 64))))
	f.Add([]byte{})
	f.Add([]byte{verdictDenied})
	f.Add(append([]byte{verdictOK}, make([]byte, verdictOKLen-1)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseHello(testMagic, data)
		parseAnswer(testMagic, data)
		parseVerdict(data)
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		go func() {
			buf := make([]byte, helloLen)
			b.Read(buf)
			b.Write(data)
			b.Close()
		}()
		if err := Server(a, testMagic, key, 1, 1, time.Now().Add(time.Second), nil); err == nil {
			t.Fatalf("handshake accepted %x without the key", data)
		}
		c, d := net.Pipe()
		defer c.Close()
		go func() {
			d.Write(data)
			d.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := ClientContext(ctx, c, testMagic, key); err == nil {
			t.Fatalf("client accepted %x as a server", data)
		}
	})
}

// TestCheckAddr: only a TCP address other machines reach, with the default
// key, is refused.
func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr     net.Addr
		explicit bool
		insecure bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, false, false},
		{&net.TCPAddr{IP: net.IPv6loopback}, false, false},
		{&net.TCPAddr{IP: net.IPv4zero}, false, true},
		{&net.TCPAddr{IP: net.IPv6unspecified}, false, true},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}, false, true},
		{&net.TCPAddr{IP: net.IPv4zero}, true, false},
		{&net.UnixAddr{Name: "@sock", Net: "unix"}, false, false},
	} {
		err := CheckAddr(tc.addr, tc.explicit)
		if got := errors.Is(err, errs.ErrInsecure); got != tc.insecure {
			t.Errorf("CheckAddr(%v, %v) = %v, want insecure %v", tc.addr, tc.explicit, err, tc.insecure)
		}
	}
}
