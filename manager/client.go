package manager

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/auth"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// DialOptions configures a connection to a server. The zero value is
// usable.
type DialOptions struct {
	// AuthKey is the key shared with the server. If empty (nil or of
	// length zero), the client uses this process's key
	// (mp.Current().AuthKey), inherited from its parent.
	AuthKey []byte
	// TLS, if not nil, makes the connection a TLS client connection.
	TLS *tls.Config
	// FrameCap bounds one reply. Zero means DefaultFrameCap (16 MiB). The
	// server replaces a result over its own cap with an error; keep the two
	// caps equal, or the client's larger.
	FrameCap int
}

// Client is a connection to a manager server (Python: a connected
// BaseManager). Proxies made through it share it: any number of goroutines
// may call through one Client at once, each call waiting only for its own
// reply. Its methods are safe for concurrent use.
type Client struct {
	addr      string
	key       []byte
	serverID  uint64
	serverPid int
	nc        net.Conn
	done      chan struct{} // closed when the connection has ended
	readDone  chan struct{} // closed when the reader goroutine has returned
	cached    bool          // made for proxies that arrived from elsewhere; set before c is shared

	// wmu serializes requests through fw and guards writeDeadline.
	wmu           sync.Mutex
	fw            frameWriter
	writeDeadline time.Time

	// mu guards everything below.
	mu      sync.Mutex
	pending map[uint64]chan *reply
	nextID  uint64
	err     error // why the connection ended
	users   int   // for a cached client: bound proxies; changed with clients.mu held too
	proc    *serverProc
}

// cancelGrace is how long a call whose context ended waits for the server
// to confirm (so that a value taken from a queue at the last moment is not
// lost) before it gives up.
const cancelGrace = 2 * time.Second

// writeTimeout bounds a request's write: a server that stops reading (it
// hangs, or the network does) is given up as lost.
const writeTimeout = 30 * time.Second

// Dial connects to the server at address — a Unix socket's path, or
// host:port — and authenticates. A wrong key gives an error matching
// ErrAuthentication.
func Dial(ctx context.Context, address string, opts *DialOptions) (*Client, error) {
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	c, err := dial(ctx, address, o)
	if err != nil {
		return nil, err
	}
	remember(c, o)
	return c, nil
}

func dial(ctx context.Context, address string, o DialOptions) (*Client, error) {
	key := o.AuthKey
	if len(key) == 0 {
		key = mp.Current().AuthKey
	}
	nc, v, err := connect(ctx, address, o.TLS, key)
	if err != nil {
		return nil, err
	}
	c := &Client{addr: address, key: key, serverID: v.ID, serverPid: v.Pid, nc: nc, fw: frameWriter{w: nc},
		done: make(chan struct{}), readDone: make(chan struct{}), pending: map[uint64]chan *reply{}}
	frameCap := o.FrameCap
	if frameCap <= 0 {
		frameCap = DefaultFrameCap
	}
	go c.readLoop(frameCap)
	return c, nil
}

// connect connects to the server at address and authenticates. A server
// under a flood of connections displaces the oldest of those in their
// handshake (see Limits.MaxHandshakes): a connection closed before the
// verdict is tried again at once, then after 1, 2, 4… ms (at most 32 ms
// apart), for up to 2 s and as long as ctx lasts.
func connect(ctx context.Context, address string, tlsConf *tls.Config, key []byte) (net.Conn, auth.Peer, error) {
	network, addr := splitAddress(address)
	var d net.Dialer
	dial := func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, network, addr) }
	var wrap func(net.Conn) net.Conn
	if tlsConf != nil {
		wrap = func(nc net.Conn) net.Conn { return tls.Client(nc, tlsConf) }
	}
	nc, v, err := auth.Connect(ctx, dial, wrap, magic, key)
	if err != nil {
		return nil, auth.Peer{}, fmt.Errorf("manager: %s: %w", address, err)
	}
	return nc, v, nil
}

// splitAddress tells a Unix socket's path from a TCP address.
func splitAddress(address string) (network, addr string) {
	if a, ok := strings.CutPrefix(address, "unix:"); ok {
		return "unix", a
	}
	if strings.HasPrefix(address, "/") || strings.HasPrefix(address, "@") || strings.HasPrefix(address, "./") {
		return "unix", address
	}
	return "tcp", address
}

// Addr returns the server's address, as given to Dial or reported by Start
// ("" for a nil Client).
func (c *Client) Addr() string {
	if c == nil {
		return ""
	}
	return c.addr
}

// readLoop delivers replies to the calls waiting for them.
func (c *Client) readLoop(frameCap int) {
	defer close(c.readDone)
	fr := &frameReader{nc: c.nc, r: bufio.NewReader(newReader(c.nc)), cap: frameCap}
	for {
		frame, err := fr.read()
		if err != nil {
			c.fail(err)
			return
		}
		rep, err := decodeReply(frame)
		if err != nil {
			c.fail(err)
			return
		}
		c.mu.Lock()
		if ch := c.pending[rep.ID]; ch != nil {
			delete(c.pending, rep.ID)
			ch <- rep // buffered: under c.mu, so that a fail cannot come between
		}
		c.mu.Unlock()
	}
}

// fail ends the connection: every call waiting and every later call gets
// an error matching ErrConnection (mp.ErrClosed after Close).
func (c *Client) fail(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = connError(cause)
	c.pending = nil
	close(c.done)
	c.nc.Close()
}

// failed reports whether the connection has ended.
func (c *Client) failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil
}

// callOpts says how to make a call.
type callOpts struct {
	owner    uint64
	noBlock  bool  // fail at once instead of waiting
	sentinel error // what a wait that ended with the context also matches
	what     string
	// always says that the reply must be taken however late: the server
	// answers once the call's effect is complete, and dropping the reply
	// would lose that effect (a Cond's wait takes its lock again).
	always bool
}

// do sends a request and waits for its reply. If ctx ends first, do asks
// the server to cancel the call and waits a little for its answer, which
// may still be a success.
func (c *Client) do(ctx context.Context, obj uint64, method string, o callOpts, args []cbor.RawMessage) (cbor.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, errs.WithContext(o.sentinel, err)
	}
	req := request{Obj: obj, Method: method, Args: args, Owner: o.owner}
	if o.noBlock {
		req.Timeout = -1
	} else if d, ok := ctx.Deadline(); ok {
		req.Timeout = max(int64(time.Until(d)), 1)
	}
	ch, err := c.send(&req, true)
	if err != nil {
		return nil, err
	}
	select {
	case rep := <-ch:
		return c.result(rep, o, method)
	case <-c.done:
		return c.lastReply(ch, o, method)
	case <-ctx.Done():
	}
	if req.Timeout <= 0 || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// The server ends calls at their deadline by itself; others it
		// must be told about.
		c.send(&request{Method: opCancel, Args: rawArgs(req.ID)}, false)
	}
	if o.always {
		select {
		case rep := <-ch:
			return c.result(rep, o, method)
		case <-c.done:
			return c.lastReply(ch, o, method)
		}
	}
	t := time.NewTimer(cancelGrace)
	defer t.Stop()
	select {
	case rep := <-ch:
		return c.result(rep, o, method)
	case <-c.done:
		return c.lastReply(ch, o, method)
	case <-t.C:
		c.forget(req.ID)
		return nil, errs.WithContext(o.sentinel, ctx.Err())
	}
}

// lastReply returns the reply on ch if it came before the connection
// ended, and the connection's error otherwise.
func (c *Client) lastReply(ch chan *reply, o callOpts, method string) (cbor.RawMessage, error) {
	select {
	case rep := <-ch:
		return c.result(rep, o, method)
	default:
		return nil, c.connErr()
	}
}

func (c *Client) result(rep *reply, o callOpts, method string) (cbor.RawMessage, error) {
	if rep.Err != nil {
		what := o.what
		if what == "" {
			what = method
		}
		return nil, bodyToError(rep.Err, "manager "+what, c.serverPid)
	}
	return rep.Value, nil
}

// send writes req, giving it an id; if wait, it returns the channel its
// reply will arrive on.
func (c *Client) send(req *request, wait bool) (chan *reply, error) {
	var ch chan *reply
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.err
	}
	c.nextID++
	req.ID = c.nextID
	if wait {
		ch = make(chan *reply, 1)
		c.pending[req.ID] = ch
	}
	c.mu.Unlock()
	data, _, err := wire.Marshal(req)
	if err != nil {
		c.forget(req.ID)
		return nil, fmt.Errorf("manager: encode a request: %w", err)
	}
	c.wmu.Lock()
	c.writeDeadline = extendDeadline(c.nc, c.writeDeadline, writeTimeout)
	err = c.fw.write(data)
	c.wmu.Unlock()
	if err != nil {
		c.fail(err)
		return nil, c.connErr()
	}
	return ch, nil
}

func (c *Client) forget(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, id)
}

func (c *Client) connErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// rawArgs encodes arguments that are known to encode.
func rawArgs(args ...any) []cbor.RawMessage {
	out := make([]cbor.RawMessage, len(args))
	for i, a := range args {
		out[i], _ = encode(a)
	}
	return out
}

// call calls a method of the server itself and decodes its result into out.
func (c *Client) call(ctx context.Context, method string, out any, args ...any) error {
	if c == nil {
		return ErrNilClient
	}
	raw, err := c.do(ctx, 0, method, callOpts{what: method}, rawArgs(args...))
	if err != nil {
		return err
	}
	return decode(raw, out)
}

// Ping checks that the server answers, and returns its process id.
func (c *Client) Ping(ctx context.Context) (int, error) {
	var pid int
	err := c.call(ctx, opPing, &pid)
	return pid, err
}

// Close closes the connection; calls in flight and later calls return an
// error matching mp.ErrClosed. If Start made the client, Close also shuts
// the server down, as Shutdown does, waiting at most a few seconds. Close
// is safe to call twice.
func (c *Client) Close() error {
	if c == nil {
		return ErrNilClient
	}
	c.mu.Lock()
	proc := c.proc
	c.mu.Unlock()
	if proc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return c.Shutdown(ctx)
	}
	c.close()
	return nil
}

func (c *Client) close() {
	forget(c)
	c.fail(mp.ErrClosed)
	<-c.readDone
}

// Shutdown asks the server to stop (Python: manager.shutdown()): it stops
// accepting connections, closes every connection, and every call blocked
// on it returns an error matching ErrConnection. If Start made the client,
// Shutdown also waits for the server's process to exit and reaps it,
// killing it if it has not exited when ctx ends. The client is closed
// afterwards.
func (c *Client) Shutdown(ctx context.Context) error {
	if c == nil {
		return ErrNilClient
	}
	err := c.call(ctx, opShutdown, nil)
	if errors.Is(err, ErrConnection) {
		err = nil // it went away first
	}
	c.close()
	c.mu.Lock()
	proc := c.proc
	c.proc = nil
	c.mu.Unlock()
	if proc == nil {
		return err
	}
	return errors.Join(err, reap(ctx, proc))
}
