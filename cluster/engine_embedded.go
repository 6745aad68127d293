package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// embedded is an engine running in this process.
type embedded struct {
	s *server.Server
}

// startEmbedded starts an engine in this process and waits until it
// takes connections.
func startEmbedded(ctx context.Context, o Options, key []byte) (*embedded, error) {
	so, err := serverOptions(o, key)
	if err != nil {
		return nil, err
	}
	s, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEngine, err)
	}
	s.SetLoggerV2(newLogAdapter(o.Logger), false, false, false)
	go s.Start()
	wait := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		wait = time.Until(d)
	}
	if !s.ReadyForConnections(wait) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("%w: the engine was not ready within %v", ErrEngine, wait)
	}
	return &embedded{s: s}, nil
}

// serverOptions are the engine's options for o.
func serverOptions(o Options, key []byte) (*server.Options, error) {
	dir, err := storeDir(o.Dir)
	if err != nil {
		return nil, err
	}
	host, port, err := listenAddr(o.Listen)
	if err != nil {
		return nil, err
	}
	so := &server.Options{
		ServerName: "mp",
		Host:       host,
		Port:       port,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: o.SyncAlways,
		TLSConfig:  o.TLS,
		Nkeys:      users(key),
	}
	if o.TLS != nil {
		so.TLS = true
		so.TLSVerify = o.TLS.ClientAuth == 0x4 // tls.RequireAndVerifyClientCert
	}
	return so, nil
}

// users are the engine's users for key: one identity per role.
func users(key []byte) []*server.NkeyUser {
	return []*server.NkeyUser{
		{Nkey: identityOf(key, roleClient).pub},
		{Nkey: identityOf(key, roleWorker).pub, Permissions: workerPermissions()},
	}
}

// storeDir returns dir, or the default store directory, created.
func storeDir(dir string) (string, error) {
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("%w: no store directory given and no cache directory: %w", ErrEngine, err)
		}
		dir = filepath.Join(cache, "mp", "cluster", filepath.Base(os.Args[0]))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("%w: %w", ErrEngine, err)
	}
	return dir, nil
}

// listenAddr splits addr, "127.0.0.1:0" when empty; port 0 becomes the
// engine's "any free port".
func listenAddr(addr string) (string, int, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("cluster: listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("cluster: listen address %q: bad port", addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

func (e *embedded) URL() string { return e.s.ClientURL() }

func (e *embedded) connect(ctx context.Context, id identity) (*nats.Conn, <-chan struct{}, error) {
	return dial(ctx, e.URL(), id, nil, "mp", nats.InProcessServer(e.s))
}

func (e *embedded) stop() error {
	e.s.Shutdown()
	e.s.WaitForShutdown()
	return nil
}
