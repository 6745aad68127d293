package cluster

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ReadKey reads a key from a file: its content, without the white space
// around it. An empty key is an error, never the default key.
func ReadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster: read key: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("cluster: read key: %s is empty: %w", path, ErrAuthentication)
	}
	return b, nil
}

// ServerTLS returns an engine's TLS configuration (Options.TLS) that
// presents the certificate in the PEM file certFile, whose private key is
// in keyFile, and, if caFile is given, requires every client to present a
// certificate issued by one of the certificate authorities in it (mutual
// TLS).
func ServerTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("cluster: load the engine's certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		if tc.ClientCAs, err = readCAs(caFile); err != nil {
			return nil, err
		}
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// readCAs reads the certificate authorities of a PEM file.
func readCAs(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("cluster: read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cluster: %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// ClientTLS returns a client's TLS configuration that trusts the
// certificate authorities in the PEM file caFile and, if certFile and
// keyFile are given, presents that certificate (for mutual TLS).
func ClientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	pool, err := readCAs(caFile)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, errors.New("cluster: a client certificate needs both its file and its key's")
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("cluster: load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
