package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// testCerts writes a CA and two certificates it issued (an engine's for
// 127.0.0.1 and a client's), and returns their files.
func testCerts(t *testing.T) (ca, srvCert, srvKey, cliCert, cliKey string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "x"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))),
			writeFile(t, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
	}
	ca = writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	srvCert, srvKey = issue(2, x509.ExtKeyUsageServerAuth)
	cliCert, cliKey = issue(3, x509.ExtKeyUsageClientAuth)
	return ca, srvCert, srvKey, cliCert, cliKey
}

// TestMutualTLS serves with mutual TLS: status with a client certificate
// works, status without one fails.
func TestMutualTLS(t *testing.T) {
	ca, srvCert, srvKey, cliCert, cliKey := testCerts(t)
	keyFile := writeFile(t, "key", "k")
	_, url := startServe(t, "-key-file", keyFile, "-tls-cert", srvCert, "-tls-key", srvKey, "-tls-ca", ca)
	code, stdout, stderr := exitCode(t, command("status", "-url", url, "-key-file", keyFile, "-tls-ca", ca, "-tls-cert", cliCert, "-tls-key", cliKey))
	if code != 0 || !hasRow(stdout, []string{"tls", "true"}) {
		t.Errorf("status with a client certificate: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = exitCode(t, command("status", "-url", url, "-key-file", keyFile, "-tls-ca", ca))
	if code != 1 {
		t.Errorf("status without a client certificate: exit %d, want 1\n%s", code, stderr)
	}
	t.Logf("without a client certificate: %s", stderr)
}
