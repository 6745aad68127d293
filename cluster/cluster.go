package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is a connection to a JetStream engine, and the engine itself
// when Start ran it. Pools, queues and shared state are made on it. It is
// safe for concurrent use.
type Cluster struct {
	nc     *nats.Conn
	closed <-chan struct{} // closed once nc is
	js     jetstream.JetStream
	url    string

	// engine is the engine Start ran, nil after Connect.
	engine engine

	closeOnce sync.Once
	closeErr  error
}

// engine is a running JetStream server that a Cluster owns.
type engine interface {
	// URL is where clients in other processes reach it.
	URL() string
	// connect connects this process to it as a client.
	connect(ctx context.Context, id identity) (*nats.Conn, <-chan struct{}, error)
	// stop stops it, and waits until it has.
	stop() error
}

// Start runs a JetStream engine as o says (nil means the zero Options)
// and connects to it. ctx bounds the start (10 s if ctx has no deadline);
// when Start fails, nothing it started is left running.
//
// Start fails with ErrInsecure for an address off loopback without an
// explicit key and TLS, with ErrStoreInUse if another engine uses the
// store directory, and with ErrEngine if the engine cannot start (a port
// in use, a store it cannot open).
func Start(ctx context.Context, o *Options) (*Cluster, error) {
	if o == nil {
		o = &Options{}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	key := keyOr(o.Key)
	e, err := startEngine(ctx, *o, key)
	if err != nil {
		return nil, err
	}
	nc, closed, err := e.connect(ctx, identityOf(key, roleClient))
	if err != nil {
		return nil, errors.Join(err, e.stop())
	}
	c, err := newCluster(nc, closed, e.URL())
	if err != nil {
		nc.Close()
		return nil, errors.Join(err, e.stop())
	}
	c.engine = e
	return c, nil
}

// Connect connects to the engine at url (nats://host:port, tls://host:port,
// or several separated by commas for a NATS cluster), run by another
// program's Start, by `mpcluster serve`, or by any NATS server with
// JetStream on whose users the key's identities are configured.
func Connect(ctx context.Context, url string, o *ConnectOptions) (*Cluster, error) {
	if o == nil {
		o = &ConnectOptions{}
	}
	key := keyOr(o.Key)
	role := roleClient
	if o.Worker {
		role = roleWorker
	}
	nc, closed, err := dial(ctx, url, identityOf(key, role), o.TLS, o.Name)
	if err != nil {
		return nil, err
	}
	c, err := newCluster(nc, closed, url)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// startTimeout bounds Start when its ctx has no deadline.
const startTimeout = 10 * time.Second

// startEngine starts the engine o asks for.
func startEngine(ctx context.Context, o Options, key []byte) (engine, error) {
	cfg, err := configFor(o, key)
	if err != nil {
		return nil, err
	}
	var e engine
	if o.Process {
		e, err = startChild(ctx, cfg, o)
	} else {
		e, err = startEmbedded(ctx, cfg, o.TLS, o.Logger)
	}
	if err != nil {
		return nil, err // not e, which holds a nil pointer
	}
	return e, nil
}

func newCluster(nc *nats.Conn, closed <-chan struct{}, url string) (*Cluster, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEngine, err)
	}
	return &Cluster{nc: nc, closed: closed, js: js, url: url}, nil
}

// keyOr returns key, or this process's mp key if key is empty.
func keyOr(key []byte) []byte {
	if len(key) > 0 {
		return key
	}
	return mp.Current().AuthKey
}

// URL returns the address other processes connect to: the engine's when
// Start ran it, the one given to Connect otherwise.
func (c *Cluster) URL() string { return c.url }

// NATS returns the underlying NATS connection, for what this package does
// not cover.
func (c *Cluster) NATS() *nats.Conn { return c.nc }

// JetStream returns the JetStream context of the connection.
func (c *Cluster) JetStream() jetstream.JetStream { return c.js }

// Close closes the connection, after flushing what it has to send, and
// stops the engine if Start ran it (for good, with Options.Process). It
// returns the error of stopping the engine, and the same error on later
// calls: it is safe to call twice.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		if err := c.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			c.nc.Close()
		}
		<-c.closed
		if c.engine != nil {
			c.closeErr = c.engine.stop()
		}
	})
	return c.closeErr
}
