package auth

import (
	"context"
	"fmt"
	"net"
	"time"
)

// ServerTimeout is how long a server gives a client, from its connection,
// to end the handshake: a Listener's and a manager's.
const ServerTimeout = 5 * time.Second

// Connect dials with dial and runs the client's side of the handshake,
// trying again as Retry paces it while the server resets the connection
// before its verdict (a server under a flood displaces the oldest
// handshakes). wrap, if not nil, wraps each connection before the
// handshake (TLS). An error names the step that failed: "dial" or
// "connect".
func Connect(ctx context.Context, dial func(context.Context) (net.Conn, error), wrap func(net.Conn) net.Conn, magic string, key []byte) (net.Conn, Peer, error) {
	var retry Retry
	for {
		nc, err := dial(ctx)
		if err != nil {
			if retry.Again(ctx, err) {
				continue // reset as soon as connected
			}
			return nil, Peer{}, fmt.Errorf("dial: %w", err)
		}
		if wrap != nil {
			nc = wrap(nc)
		}
		v, err := ClientContext(ctx, nc, magic, key)
		if err == nil {
			return nc, v, nil
		}
		nc.Close()
		if !retry.Again(ctx, err) {
			return nil, Peer{}, fmt.Errorf("connect: %w", err)
		}
	}
}
