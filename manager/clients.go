package manager

import (
	"context"
	"fmt"
	"sync"
)

// clients is this process's table of connections for the proxies that
// arrive from other processes: the client connected to each server, the
// options used to reach each address, and the connections being made. Its
// lock is held only to read and change the table, never while dialling, so
// that a server slow to answer holds up only the proxies bound for it.
var clients = struct {
	// mu guards the maps below.
	mu       sync.Mutex
	byServer map[uint64]*Client
	options  map[string]DialOptions
	dialing  map[target]*attempt
}{byServer: map[uint64]*Client{}, options: map[string]DialOptions{}, dialing: map[target]*attempt{}}

// target is where a proxy's object lives: a server, reached at an address.
type target struct {
	server uint64
	addr   string
}

// attempt is a connection being made to a target for the proxies that
// need it: the first caller dials, the others wait for it to end.
type attempt struct {
	done chan struct{} // closed when the attempt has ended
	// err, set before done is closed, is why the attempt failed, for the
	// callers that waited for it; nil if it succeeded, or if it ended with
	// the dialling caller's context, which is no reason to fail the others.
	err error
	// waiting counts the callers that joined the attempt and have not
	// given up on it (a caller whose context ends leaves); guarded by
	// clients.mu. Tests read it.
	waiting int
}

// remember records c for proxies of its server, and o for its address.
func remember(c *Client, o DialOptions) {
	clients.mu.Lock()
	defer clients.mu.Unlock()
	if old, ok := clients.byServer[c.serverID]; !ok || old.failed() {
		clients.byServer[c.serverID] = c
	}
	o.AuthKey = c.key
	clients.options[c.addr] = o
}

// forget removes c from the table when it closes.
func forget(c *Client) {
	clients.mu.Lock()
	defer clients.mu.Unlock()
	if clients.byServer[c.serverID] == c {
		delete(clients.byServer, c.serverID)
	}
}

// clientFor returns a client connected to f's server, connecting if none
// is, and counts a use of it. A client made here is shared by the proxies
// that bind to it and closed when the last of them releases it. Callers
// that need the same server at the same address make one attempt: the
// first dials, the others wait for it or for their context to end. A
// failed attempt is forgotten at once; the callers that waited for it get
// its error, or, if it ended with the dialling caller's context, try
// again.
func clientFor(ctx context.Context, f proxyForm) (*Client, error) {
	to := target{f.Server, f.Addr}
	for {
		c, a, first := join(to)
		switch {
		case c != nil:
			return c, nil
		case first:
			return a.dial(ctx, to)
		}
		if err := a.wait(ctx, to); err != nil {
			return nil, err
		}
		// The attempt succeeded, or ended with its caller's context.
	}
}

// join returns the live client connected to to's server, counting a use of
// it; else the attempt under way to to, which the caller waits for; else a
// new attempt, which the caller (first) makes.
func join(to target) (c *Client, a *attempt, first bool) {
	clients.mu.Lock()
	defer clients.mu.Unlock()
	if c = useLocked(to.server); c != nil {
		return c, nil, false
	}
	if a = clients.dialing[to]; a != nil {
		a.waiting++
		return nil, a, false
	}
	a = &attempt{done: make(chan struct{})}
	clients.dialing[to] = a
	return nil, a, true
}

// useLocked returns the live client connected to server, counting a use of
// it, or nil.
func useLocked(server uint64) *Client {
	c, ok := clients.byServer[server]
	if !ok {
		return nil
	}
	c.mu.Lock()
	alive := c.err == nil
	if alive {
		c.users++
	}
	c.mu.Unlock()
	if !alive {
		delete(clients.byServer, server) // its connection broke: dial again
		return nil
	}
	return c
}

// dial makes the connection a stands for, with the options remembered for
// to's address (Dial's), ends a, and returns a client connected to to's
// server with a use counted.
func (a *attempt) dial(ctx context.Context, to target) (*Client, error) {
	clients.mu.Lock()
	o := clients.options[to.addr]
	clients.mu.Unlock()
	c, err := dial(ctx, to.addr, o)
	if err == nil && c.serverID != to.server {
		c.close()
		c, err = nil, fmt.Errorf("%w: the server at %s is not the one the proxy belongs to (it restarted?)", ErrNotFound, to.addr)
	}
	clients.mu.Lock()
	delete(clients.dialing, to)
	if err != nil && ctx.Err() == nil {
		a.err = err
	}
	var spare *Client
	if err == nil {
		if old := useLocked(to.server); old != nil { // Dial connected meanwhile: use that
			spare, c = c, old
		} else {
			c.cached, c.users = true, 1
			clients.byServer[to.server] = c
		}
	}
	close(a.done)
	clients.mu.Unlock()
	if spare != nil {
		spare.close()
	}
	return c, err
}

// wait waits for a to end, and returns the error its callers share; or
// for ctx to end, and returns ctx's error.
func (a *attempt) wait(ctx context.Context, to target) error {
	select {
	case <-a.done:
		return a.err
	case <-ctx.Done():
		clients.mu.Lock()
		a.waiting--
		clients.mu.Unlock()
		return fmt.Errorf("manager: connect to %s: %w", to.addr, ctx.Err())
	}
}

// release drops a proxy's use of c, closing c if it is a shared client
// nobody uses any more. It takes c out of the table first, under the
// table's lock, so that no proxy binds to it while it closes.
func release(c *Client) {
	clients.mu.Lock()
	c.mu.Lock()
	c.users--
	last := c.cached && c.users <= 0
	c.mu.Unlock()
	if last && clients.byServer[c.serverID] == c {
		delete(clients.byServer, c.serverID)
	}
	clients.mu.Unlock()
	if last {
		c.close()
	}
}
