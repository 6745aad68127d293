package cluster

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// engineConfig is what an engine is started with, in a form that crosses
// to an engine's child process (the TLS configuration travels apart).
type engineConfig struct {
	// Dir is the store directory, absolute.
	Dir string
	// Host and Port are the address to listen at; port 0 means any.
	Host string
	Port int
	// Client and Worker are the public NKeys of the key's identities: the
	// key itself never leaves the process that was given it.
	Client, Worker string
	SyncAlways     bool
}

// configFor checks o and returns the engine configuration it asks for.
func configFor(o Options, key []byte) (engineConfig, error) {
	host, port, err := listenAddr(o.Listen)
	if err != nil {
		return engineConfig{}, err
	}
	if !isLoopback(host) && (len(o.Key) == 0 || o.TLS == nil) {
		return engineConfig{}, fmt.Errorf("%w: %q is reachable from other machines; give Options.Key and Options.TLS", ErrInsecure, o.Listen)
	}
	dir, err := storeDir(o.Dir)
	if err != nil {
		return engineConfig{}, err
	}
	return engineConfig{
		Dir: dir, Host: host, Port: port,
		Client:     identityOf(key, roleClient).pub,
		Worker:     identityOf(key, roleWorker).pub,
		SyncAlways: o.SyncAlways,
	}, nil
}

// serverOptions are the engine's options for cfg and tc.
func serverOptions(cfg engineConfig, tc *tls.Config) *server.Options {
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	so := &server.Options{
		ServerName: "mp",
		Host:       cfg.Host,
		Port:       port,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   cfg.Dir,
		SyncAlways: cfg.SyncAlways,
		TLSConfig:  tc,
		Nkeys: []*server.NkeyUser{
			{Nkey: cfg.Client},
			{Nkey: cfg.Worker, Permissions: workerPermissions()},
		},
	}
	if tc != nil {
		so.TLS = true
		so.TLSVerify = tc.ClientAuth == tls.RequireAndVerifyClientCert
		so.TLSTimeout = 2 // seconds, as the client's own bound
	}
	return so
}

// storeDir returns dir, or the default store directory, made absolute and
// created. The default is one directory per program (by the name of its
// executable) under the user's cache directory.
func storeDir(dir string) (string, error) {
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("%w: no store directory given and no cache directory: %w", ErrEngine, err)
		}
		dir = filepath.Join(cache, "mp", "cluster", filepath.Base(os.Args[0]))
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%w: store directory: %w", ErrEngine, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("%w: store directory: %w", ErrEngine, err)
	}
	return dir, nil
}

// listenAddr checks and splits addr, "127.0.0.1:0" when empty.
func listenAddr(addr string) (string, int, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("cluster: listen address %q: want host:port: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("cluster: listen address %q: bad port %q", addr, p)
	}
	if host != "" && net.ParseIP(host) == nil && !isHostname(host) {
		return "", 0, fmt.Errorf("cluster: listen address %q: bad host %q", addr, host)
	}
	return host, port, nil
}

// isLoopback reports whether host reaches this machine only. An empty
// host means every interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isHostname reports whether h is a syntactically valid DNS name.
func isHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(h, "."), ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
