package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/diag"
	"github.com/nats-io/nats.go"
)

// The roles a key gives: a client may do anything on the engine; a worker
// only what a Pool's worker needs.
const (
	roleClient = "client"
	roleWorker = "worker"
)

// connectTimeout bounds each step of a first connection (TCP, TLS, the
// engine's greeting) when ctx has no nearer deadline, so that a failure
// is reported within about this long.
const connectTimeout = 2 * time.Second

// dial connects to url as id, and returns the connection with a channel
// closed once the connection is. It keeps reconnecting for ever after a
// first success; the first attempt is bounded by ctx.
func dial(ctx context.Context, url string, id identity, tc *tls.Config, name string, extra ...nats.Option) (*nats.Conn, <-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w: %w", url, ErrEngine, err)
	}
	closed := make(chan struct{})
	d := &firstDialer{ctx: ctx}
	opts := []nats.Option{
		id.option(),
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.ErrorHandler(logAsyncError),
		nats.Timeout(connectTimeout),
		nats.SetCustomDialer(d),
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	opts = append(opts, extra...)
	nc, err := nats.Connect(url, opts...)
	d.first.Store(true)
	if err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			err = errors.Join(cerr, err)
		}
		return nil, nil, connectError(url, tc != nil, err)
	}
	return nc, closed, nil
}

// logAsyncError reports an error the engine sent outside of any call —
// a permission refused to a publish, a slow consumer — to mp's logger at
// Warn, instead of the client's default of printing it to standard error.
func logAsyncError(nc *nats.Conn, sub *nats.Subscription, err error) {
	attrs := []any{"conn", nc.Opts.Name, "err", err}
	if sub != nil {
		attrs = append(attrs, "subject", sub.Subject)
	}
	diag.Logger().Warn("cluster: the engine reported an error", attrs...)
}

// ctxErr is ctx.Err(), or context.DeadlineExceeded once ctx's deadline
// has passed, even if ctx has not noticed yet (a connection's deadline
// set from it may fire first).
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// firstDialer bounds the first connection by ctx as well as by
// connectTimeout: its TCP connection, and the handshake's deadlines on
// it. Reconnections, later, have connectTimeout alone.
type firstDialer struct {
	ctx   context.Context
	first atomic.Bool // set once the first connection was made or failed
}

func (d *firstDialer) Dial(network, address string) (net.Conn, error) {
	ctx := d.ctx
	if d.first.Load() {
		ctx = context.Background()
	}
	var nd net.Dialer
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	c, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &firstConn{Conn: c, d: d}, nil
}

// firstConn is a connection whose deadlines, during the first connection's
// handshake, come no later than the first connection's ctx's.
type firstConn struct {
	net.Conn
	d *firstDialer
}

func (c *firstConn) SetDeadline(t time.Time) error {
	// A zero t lifts the deadline once the handshake is done: keep it so.
	if dl, ok := c.d.ctx.Deadline(); ok && !t.IsZero() && !c.d.first.Load() && dl.Before(t) {
		t = dl
	}
	return c.Conn.SetDeadline(t)
}

// connectError turns the client's error on connecting into one of this
// package's; withTLS says whether the client was given a TLS
// configuration.
func connectError(url string, withTLS bool, err error) error {
	if why := tlsFailure(withTLS, err); why != "" {
		return fmt.Errorf("connect to %s: %w: %s: %w", url, ErrTLS, why, err)
	}
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked):
		return fmt.Errorf("connect to %s: %w: %w", url, ErrAuthentication, err)
	default:
		return fmt.Errorf("connect to %s: %w: %w", url, ErrEngine, err)
	}
}

// tlsFailure says what went wrong with TLS in err, or "" if err is not
// about TLS.
func tlsFailure(withTLS bool, err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, nats.ErrSecureConnWanted):
		return "the engine does not use TLS but this client was given a TLS configuration"
	case errors.Is(err, nats.ErrSecureConnRequired):
		return "the engine requires TLS; give the client a TLS configuration"
	case !withTLS && (errors.As(err, &unknown) || errors.As(err, &verify)):
		return "the engine requires TLS, and its certificate is not trusted by this system; give the client a TLS configuration trusting its CA"
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &verify):
		return "the engine's certificate is not trusted by this client (wrong CA?)"
	case errors.As(err, &hostname):
		return "the engine's certificate does not name the host connected to"
	case errors.As(err, &alert), strings.Contains(err.Error(), "remote error: tls:"),
		errors.Is(err, nats.ErrTLS) && strings.Contains(err.Error(), "closed by remote after TLS handshake"):
		return "the engine refused this client's certificate or its lack of one (mutual TLS needs a client certificate of a CA the engine trusts)"
	case errors.As(err, &record):
		return "the other side does not speak TLS"
	case errors.Is(err, nats.ErrTLS):
		return "the TLS handshake failed"
	}
	return ""
}
