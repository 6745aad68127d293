package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// The roles a key gives: a client may do anything on the engine; a worker
// only what a Pool's worker needs.
const (
	roleClient = "client"
	roleWorker = "worker"
)

// dial connects to url as id, and returns the connection with a channel
// closed once the connection is. It keeps reconnecting for ever after a
// first success; the first attempt is bounded by ctx.
func dial(ctx context.Context, url string, id identity, tc *tls.Config, name string, extra ...nats.Option) (*nats.Conn, <-chan struct{}, error) {
	closed := make(chan struct{})
	opts := []nats.Option{
		id.option(),
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	if d, ok := ctx.Deadline(); ok {
		opts = append(opts, nats.Timeout(time.Until(d)))
	}
	opts = append(opts, extra...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, connectError(url, err)
	}
	return nc, closed, nil
}

// connectError turns the client's error on connecting into one of this
// package's.
func connectError(url string, err error) error {
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked):
		return fmt.Errorf("connect to %s: %w: %w", url, ErrAuthentication, err)
	default:
		return fmt.Errorf("connect to %s: %w: %w", url, ErrEngine, err)
	}
}
