package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// embedded is an engine running in this process.
type embedded struct {
	s    *server.Server
	dir  string   // the store directory
	lock *os.File // the store's lock, held while s runs
}

// startEmbedded starts an engine in this process and waits until it
// takes connections, or until ctx ends (10 s if ctx has no deadline).
func startEmbedded(ctx context.Context, cfg engineConfig, tc *tls.Config, logger *slog.Logger) (*embedded, error) {
	lock, err := lockStore(cfg.Dir)
	if err != nil {
		return nil, err
	}
	s, err := server.NewServer(serverOptions(cfg, tc))
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("%w: %w", ErrEngine, err)
	}
	la := newLogAdapter(logger)
	s.SetLoggerV2(la, false, false, false)
	started := make(chan struct{})
	go func() {
		defer close(started)
		s.Start()
	}()
	if err := waitReady(ctx, s, la.fatal); err != nil {
		// Start goes on after a Shutdown that comes while it runs (it
		// would enable JetStream after it): let it finish first.
		<-started
		s.Shutdown()
		s.WaitForShutdown()
		lock.Close()
		return nil, err
	}
	return &embedded{s: s, dir: cfg.Dir, lock: lock}, nil
}

// waitReady waits until s takes connections, fails (a fatal record, such
// as a port in use), or ctx ends (10 s if ctx has no deadline).
func waitReady(ctx context.Context, s *server.Server, fatal <-chan string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		select {
		case msg := <-fatal:
			return fmt.Errorf("%w: %s", ErrEngine, msg)
		case <-ctx.Done():
			return fmt.Errorf("%w: the engine was not ready: %w", ErrEngine, ctx.Err())
		default:
		}
		// ReadyForConnections polls; a short bound keeps fatal and ctx heard.
		if s.ReadyForConnections(20 * time.Millisecond) {
			return nil
		}
	}
}

func (e *embedded) URL() string { return e.s.ClientURL() }

// connect connects in process, without the network and so without TLS
// (hence a nats:// URL, which does not ask for it).
func (e *embedded) connect(ctx context.Context, id identity) (*nats.Conn, <-chan struct{}, error) {
	u := (&url.URL{Scheme: "nats", Host: e.s.Addr().String()}).String()
	return dial(ctx, u, id, nil, "mp", nats.InProcessServer(e.s))
}

func (e *embedded) stop() error {
	e.s.Shutdown()
	e.s.WaitForShutdown()
	return e.lock.Close()
}
