package cluster_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a certificate for 127.0.0.1 and localhost, good for a
// server and a client, and returns it with its key as PEM.
func (ca *testCA) issue(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// pki is a CA with a server and a client certificate, written to files.
type pki struct {
	dir                        string
	ca, serverCert, serverKey  string
	clientCert, clientKey      string
	serverTLS, mutualServerTLS *tls.Config
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	ca := newCA(t, "test CA")
	p := &pki{dir: t.TempDir()}
	write := func(name string, b []byte) string {
		path := filepath.Join(p.dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p.ca = write("ca.pem", ca.pem)
	sc, sk := ca.issue(t, "engine")
	p.serverCert, p.serverKey = write("server.pem", sc), write("server-key.pem", sk)
	cc, ck := ca.issue(t, "client")
	p.clientCert, p.clientKey = write("client.pem", cc), write("client-key.pem", ck)
	cert, err := tls.X509KeyPair(sc, sk)
	if err != nil {
		t.Fatal(err)
	}
	p.serverTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	p.mutualServerTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	return p
}

// clientTLS is ClientTLS, failing the test on error.
func clientTLS(t *testing.T, ca, cert, key string) *tls.Config {
	t.Helper()
	tc, err := cluster.ClientTLS(ca, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

func TestTLSConnect(t *testing.T) {
	p := newPKI(t)
	key := []byte("k")
	for _, tt := range []struct {
		name   string
		server *tls.Config
		client *tls.Config
	}{
		{"server TLS", p.serverTLS, clientTLS(t, p.ca, "", "")},
		{"mutual TLS", p.mutualServerTLS, clientTLS(t, p.ca, p.clientCert, p.clientKey)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := start(t, &cluster.Options{Key: key, TLS: tt.server})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			other, err := cluster.Connect(ctx, c.URL(), &cluster.ConnectOptions{Key: key, TLS: tt.client})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if !other.NATS().TLSRequired() {
				t.Errorf("the connection to %s is not over TLS", c.URL())
			}
			if _, err := other.JetStream().AccountInfo(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTLSErrors checks that each TLS mismatch fails with ErrTLS, for its
// own reason rather than by timing out, with no deadline on ctx.
func TestTLSErrors(t *testing.T) {
	p := newPKI(t)
	other := newCA(t, "other CA")
	otherCA := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(otherCA, other.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	key := []byte("k")
	plain := start(t, &cluster.Options{Key: key})
	tlsEngine := start(t, &cluster.Options{Key: key, TLS: p.serverTLS})
	mutual := start(t, &cluster.Options{Key: key, TLS: p.mutualServerTLS})
	for _, tt := range []struct {
		name   string
		url    string
		client *tls.Config
	}{
		{"wrong CA", tlsEngine.URL(), clientTLS(t, otherCA, "", "")},
		{"plain client to a TLS engine", plainURL(tlsEngine.URL()), nil},
		{"TLS client to a plain engine", plain.URL(), clientTLS(t, p.ca, "", "")},
		{"mutual TLS without a client certificate", mutual.URL(), clientTLS(t, p.ca, "", "")},
		{"mutual TLS with a certificate of another CA", mutual.URL(), withCert(t, clientTLS(t, p.ca, "", ""), other)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			c, err := cluster.Connect(context.Background(), tt.url, &cluster.ConnectOptions{Key: key, TLS: tt.client})
			if err == nil {
				c.Close()
				t.Fatal("Connect succeeded")
			}
			t.Logf("after %v: %v", time.Since(began).Round(time.Millisecond), err)
			if !errors.Is(err, cluster.ErrTLS) {
				t.Errorf("Connect() = %v, want ErrTLS", err)
			}
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Connect() = %v, a time-out rather than the failure itself", err)
			}
		})
	}
}

// plainURL is u with the nats:// scheme, which does not ask for TLS.
func plainURL(u string) string {
	const tlsScheme = "tls://"
	if len(u) > len(tlsScheme) && u[:len(tlsScheme)] == tlsScheme {
		return "nats://" + u[len(tlsScheme):]
	}
	return u
}

// withCert adds to tc a client certificate issued by ca.
func withCert(t *testing.T, tc *tls.Config, ca *testCA) *tls.Config {
	t.Helper()
	c, k := ca.issue(t, "stranger")
	cert, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	tc.Certificates = []tls.Certificate{cert}
	return tc
}

func TestTLSProcessEngine(t *testing.T) {
	p := newPKI(t)
	key := []byte("k")
	c := start(t, &cluster.Options{Key: key, TLS: p.serverTLS, Process: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.JetStream().AccountInfo(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := cluster.Connect(ctx, c.URL(), &cluster.ConnectOptions{Key: key, TLS: clientTLS(t, p.ca, "", "")})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.JetStream().AccountInfo(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = cluster.Start(ctx, &cluster.Options{Key: key, TLS: p.mutualServerTLS, Process: true, Dir: t.TempDir()})
	if err == nil {
		t.Fatal("Start(Process, mutual TLS) succeeded; an engine's process cannot check client certificates")
	}
}
