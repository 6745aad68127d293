package cluster

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// tlsMaterial is the part of an engine's TLS configuration that crosses to
// the engine's process: its certificates, with their private keys. A
// tls.Config holds functions and certificate pools, which cannot cross;
// so an engine in a child process does not do mutual TLS.
type tlsMaterial struct {
	Chains     [][][]byte // DER certificates, leaf first, one chain per certificate
	Keys       [][]byte   // PKCS #8 private keys
	MinVersion uint16
}

// tlsMaterialOf takes what an engine's process needs out of tc, or says
// why it cannot.
func tlsMaterialOf(tc *tls.Config) (*tlsMaterial, error) {
	if tc == nil {
		return nil, nil
	}
	switch {
	case tc.ClientAuth != tls.NoClientCert || tc.ClientCAs != nil:
		return nil, errors.New("cluster: an engine in a child process (Options.Process) cannot do mutual TLS: run it in this process or with mpcluster serve")
	case len(tc.Certificates) == 0 || tc.GetCertificate != nil || tc.GetConfigForClient != nil:
		return nil, errors.New("cluster: with Options.Process, Options.TLS must hold its certificates in Certificates")
	}
	m := &tlsMaterial{MinVersion: tc.MinVersion}
	for _, c := range tc.Certificates {
		if len(c.Certificate) == 0 {
			return nil, errors.New("cluster: Options.TLS has a certificate without its chain")
		}
		key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("cluster: Options.TLS: %w", err)
		}
		m.Chains = append(m.Chains, c.Certificate)
		m.Keys = append(m.Keys, key)
	}
	return m, nil
}

// serverConfig is the engine's TLS configuration, nil for m nil.
func (m *tlsMaterial) serverConfig() (*tls.Config, error) {
	if m == nil {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: max(m.MinVersion, tls.VersionTLS12)}
	for i, chain := range m.Chains {
		key, err := x509.ParsePKCS8PrivateKey(m.Keys[i])
		if err != nil {
			return nil, fmt.Errorf("cluster: engine's TLS key: %w", err)
		}
		tc.Certificates = append(tc.Certificates, tls.Certificate{Certificate: chain, PrivateKey: key})
	}
	return tc, nil
}

// clientConfig is how the process that started the engine trusts it: by
// its exact certificate, which it knows, rather than through a CA it may
// not have.
func (m *tlsMaterial) clientConfig() *tls.Config {
	if m == nil {
		return nil
	}
	leaves := make([][]byte, len(m.Chains))
	for i, chain := range m.Chains {
		leaves[i] = chain[0]
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the exact check below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				for _, leaf := range leaves {
					if bytes.Equal(cs.PeerCertificates[0].Raw, leaf) {
						return nil
					}
				}
			}
			return errors.New("cluster: the engine presented a certificate other than its own")
		},
	}
}
