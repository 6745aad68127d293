package manager_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

// syncBuffer is a buffer a logger may write to from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWrongKey is multiprocessing.connection's authentication test: a
// client with the wrong key gets ErrAuthentication, the server logs it and
// goes on serving clients that know the key.
func TestWrongKey(t *testing.T) {
	mptest.CheckLeaks(t)
	var logs syncBuffer
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: []byte("right"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	addr := inProcess(t, srv, "")
	good := dial(t, addr, []byte("right"))
	_, err := manager.Dial(testCtx(t), addr, &manager.DialOptions{AuthKey: []byte("wrong")})
	if !errors.Is(err, manager.ErrAuthentication) {
		t.Fatalf("Dial with the wrong key = %v, want ErrAuthentication", err)
	}
	if _, err := good.Ping(testCtx(t)); err != nil {
		t.Errorf("the server stopped serving after a failed handshake: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "authentication failed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "authentication failed") {
		t.Errorf("server log lacks the failed handshake: %q", logs.String())
	}
}

// TestServerWithoutKey: a client that knows the key must not be fooled by a
// server that does not (the handshake is mutual).
func TestServerWithoutKey(t *testing.T) {
	mptest.CheckLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		// An impostor: a valid hello, then a verdict with a made-up MAC.
		nc.Write(append([]byte("mpmgr\x00\x00\x02"), make([]byte, 32)...))
		buf := make([]byte, 72)
		if _, err := nc.Read(buf); err != nil {
			return
		}
		nc.Write(append([]byte{0}, make([]byte, 44)...))
	}()
	_, err = manager.Dial(testCtx(t), ln.Addr().String(), &manager.DialOptions{AuthKey: []byte("k")})
	if !errors.Is(err, manager.ErrAuthentication) {
		t.Errorf("Dial to an impostor = %v, want ErrAuthentication", err)
	}
	<-done
}

// TestHandshakeTimeout: a client that connects and says nothing is
// disconnected after the handshake deadline... and a silent server makes
// Dial return when its context ends.
func TestSilentServer(t *testing.T) {
	mptest.CheckLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			accepted <- nc
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := manager.Dial(ctx, ln.Addr().String(), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial to a silent server = %v, want DeadlineExceeded", err)
	}
	(<-accepted).Close()
}

// TestRefusePublicAddressWithoutKey: a server without a key of its own,
// nil or empty alike, does not listen where other machines reach it.
func TestRefusePublicAddressWithoutKey(t *testing.T) {
	for _, key := range [][]byte{nil, {}, []byte("")} {
		srv := manager.NewServer(&manager.ServerOptions{AuthKey: key})
		ln, err := net.Listen("tcp", "0.0.0.0:0")
		if err != nil {
			t.Skip(err)
		}
		err = srv.Serve(context.Background(), ln)
		if !errors.Is(err, manager.ErrInsecure) {
			t.Fatalf("Serve on 0.0.0.0 with key %#v = %v, want ErrInsecure", key, err)
		}
	}
	// With an explicit key it serves.
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: []byte("chosen")})
	ln, _ := net.Listen("tcp", "0.0.0.0:0")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Serve(ctx, ln); err != nil {
		t.Errorf("Serve with a key = %v", err)
	}
}

// TestEmptyKeyIsNoKey: a client given an empty key uses its process's key,
// as with none, and so does not pass a server with a key of its own.
func TestEmptyKeyIsNoKey(t *testing.T) {
	mptest.CheckLeaks(t)
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: []byte("chosen")})
	addr := inProcess(t, srv, "")
	_, err := manager.Dial(testCtx(t), addr, &manager.DialOptions{AuthKey: []byte{}})
	if !errors.Is(err, manager.ErrAuthentication) {
		t.Errorf("Dial with an empty key = %v, want ErrAuthentication", err)
	}
	// A server with an empty key takes this process's key, as one with none.
	srv = manager.NewServer(&manager.ServerOptions{AuthKey: []byte{}})
	c := dial(t, inProcess(t, srv, ""), nil)
	if _, err := c.Ping(testCtx(t)); err != nil {
		t.Errorf("Ping with this process's key = %v", err)
	}
}

// TestTLS runs the handshake and calls inside TLS.
func TestTLS(t *testing.T) {
	mptest.CheckLeaks(t)
	cert, pool := selfSigned(t)
	key := []byte("tls key")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	addr := inProcess(t, srv, "")
	ctx := testCtx(t)
	c, err := manager.Dial(ctx, addr, &manager.DialOptions{AuthKey: key, TLS: &tls.Config{RootCAs: pool, ServerName: "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := manager.NewDict[string, int](ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(t, d.Set(ctx, "x", 1))
	if v, _, _ := d.Get(ctx, "x"); v != 1 {
		t.Errorf("Get over TLS = %d", v)
	}
	// A client without TLS cannot talk to it.
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := manager.Dial(pctx, addr, &manager.DialOptions{AuthKey: key}); err == nil {
		t.Error("a plain client connected to a TLS server")
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}, pool
}
