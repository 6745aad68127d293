package manager

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// serverConn serves one authenticated client connection. Calls that cannot
// block run inline, in the order they arrive; calls that may block (queue
// gets, lock acquisitions, waits, custom methods) each run in a goroutine of
// their own, so that they never hold up the connection's other calls.
type serverConn struct {
	srv    *Server
	nc     net.Conn
	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	wg     sync.WaitGroup // the goroutines of blocking calls

	// wmu serializes replies through fw and guards writeDeadline.
	wmu           sync.Mutex
	fw            frameWriter
	writeDeadline time.Time

	// mu guards pending, pendingBytes, held and closing.
	mu           sync.Mutex
	pending      map[uint64]context.CancelFunc // blocking calls in flight, by request id
	pendingBytes int                           // the size of their arguments
	held         map[uint64]func(*serverConn)  // locks held, by object id: how to release each
	closing      bool                          // finish has begun: no more locks are held

	// refs counts the references this connection holds, by object id;
	// guarded by srv.mu.
	refs map[uint64]int
}

func newServerConn(ctx context.Context, s *Server, nc net.Conn) *serverConn {
	ctx, cancel := context.WithCancel(ctx)
	return &serverConn{srv: s, nc: nc, fw: frameWriter{w: nc}, ctx: ctx, cancel: cancel,
		pending: map[uint64]context.CancelFunc{}, held: map[uint64]func(*serverConn){}, refs: map[uint64]int{}}
}

// serve reads requests until the connection ends, then cleans up: blocked
// calls are cancelled and joined, locks the client held are released (their
// next holder learns that the owner died), its references are dropped.
func (c *serverConn) serve() {
	stop := context.AfterFunc(c.ctx, func() { c.nc.Close() })
	defer stop()
	fr := &frameReader{nc: c.nc, r: bufio.NewReader(newReader(c.nc)), cap: c.frameCap(), bodyTimeout: c.srv.timeout(30 * time.Second)}
	for {
		frame, err := fr.read()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && c.ctx.Err() == nil {
				c.srv.log("bad request; connection closed", "remote", remote(c.nc), "err", err)
			}
			break
		}
		req, err := decodeRequest(frame)
		if err != nil {
			c.srv.log("undecodable request; connection closed", "remote", remote(c.nc), "err", err)
			break
		}
		c.dispatch(req)
	}
	c.finish()
}

func (c *serverConn) frameCap() int {
	if c.srv.opts.FrameCap > 0 {
		return c.srv.opts.FrameCap
	}
	return DefaultFrameCap
}

func (c *serverConn) finish() {
	c.cancel()
	c.nc.Close()
	c.wg.Wait()
	c.mu.Lock()
	c.closing = true
	held := c.held
	c.held = nil
	c.mu.Unlock()
	for _, release := range held {
		release(c)
	}
	c.srv.dropConn(c)
}

// hold records that c holds the lock object id, to be released by release
// if c ends first. It returns false if c has ended already.
func (c *serverConn) hold(id uint64, release func(*serverConn)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.held[id] = release
	return true
}

// unhold records that c released the lock object id.
func (c *serverConn) unhold(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.held, id)
}

// dispatch runs one request, inline or in a goroutine of its own.
func (c *serverConn) dispatch(req *request) {
	if req.Obj == 0 {
		v, err := c.serverCall(req)
		c.reply(req.ID, v, err)
		return
	}
	obj, err := c.srv.object(req.Obj)
	if err != nil {
		c.reply(req.ID, nil, err)
		return
	}
	cl := &call{ctx: c.ctx, method: req.Method, args: req.Args, conn: c, owner: req.Owner, self: req.Obj, noBlock: req.Timeout < 0, srv: c.srv}
	if !obj.blocks(req.Method) || (req.Timeout < 0 && obj.kind() != KindObject) {
		v, err := safeCall(obj, cl)
		c.deliver(req.ID, cl, v, err)
		return
	}
	if tryFirst(obj.kind(), req.Method) {
		cl.noBlock = true
		v, err := safeCall(obj, cl)
		if !cl.wouldBlock {
			c.deliver(req.ID, cl, v, err)
			return
		}
		cl.noBlock, cl.wouldBlock = false, false
	}
	c.goCall(req, obj, cl)
}

// goCall runs a blocking call in its own goroutine, under the request's
// timeout, cancellable by a cancel request.
func (c *serverConn) goCall(req *request, obj object, cl *call) {
	var ctx context.Context
	var cancel context.CancelFunc
	if req.Timeout > 0 {
		ctx, cancel = context.WithTimeout(c.ctx, time.Duration(req.Timeout))
	} else {
		ctx, cancel = context.WithCancel(c.ctx)
	}
	cl.ctx = ctx
	size := argsSize(req.Args)
	if !c.addPending(req.ID, size, cancel) {
		cancel()
		c.reply(req.ID, nil, ErrBusy)
		return
	}
	c.wg.Go(func() {
		v, err := safeCall(obj, cl)
		c.removePending(req.ID, size)
		cancel()
		c.deliver(req.ID, cl, v, err)
	})
}

// deliver sends the result of a call to an object. If it cannot reach the
// client — over a Unix socket, a client that died gives a failed write —
// what the call took goes back: an item taken from a queue by a client
// killed while it waited is not lost.
func (c *serverConn) deliver(id uint64, cl *call, v any, err error) {
	delivered := c.reply(id, v, err)
	if cl.settle != nil {
		cl.settle(delivered)
	}
}

// addPending records a blocking call, unless the connection has too many,
// or their arguments hold more than four frames' worth of bytes.
func (c *serverConn) addPending(id uint64, size int, cancel context.CancelFunc) bool {
	limit := c.srv.opts.MaxPending
	if limit <= 0 {
		limit = 1024
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.pending[id]; dup || len(c.pending) >= limit || c.pendingBytes+size > 4*c.frameCap() {
		return false
	}
	c.pending[id] = cancel
	c.pendingBytes += size
	return true
}

func (c *serverConn) removePending(id uint64, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, id)
	c.pendingBytes -= size
}

func argsSize(args []cbor.RawMessage) int {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	return n
}

// safeCall calls obj, turning a panic into an error.
func safeCall(obj object, cl *call) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &mp.RemoteError{Message: fmt.Sprint(r), Type: fmt.Sprintf("%T", r), Panic: true, Stack: string(debug.Stack())}
		}
	}()
	return obj.call(cl)
}

// serverCall runs a method of the server itself.
func (c *serverConn) serverCall(req *request) (any, error) {
	cl := &call{ctx: c.ctx, method: req.Method, args: req.Args, conn: c, srv: c.srv}
	var id uint64
	switch req.Method {
	case opCreate:
		return c.create(cl)
	case opLookup:
		return c.lookup(cl)
	case opPing:
		return c.srv.pid, nil
	case opShutdown:
		c.srv.shutdownAsync()
		return nil, nil
	}
	if err := cl.arg(0, &id); err != nil {
		return nil, err
	}
	switch req.Method {
	case opIncref:
		return nil, c.srv.incref(c, id)
	case opDecref:
		c.srv.decref(c, id, 1)
		return nil, nil
	case opCancel:
		c.mu.Lock()
		cancel := c.pending[id]
		c.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%w: the server has no method %q", ErrKind, req.Method)
}

// reply sends the result of request id and reports whether it was written.
// Errors writing mean the connection is going away; its reader notices. A
// result larger than the frame cap is replaced by an error saying so (and
// reported as not delivered): the client would otherwise take the frame
// for an attack and drop the whole connection.
func (c *serverConn) reply(id uint64, v any, err error) bool {
	rep := reply{ID: id}
	if err != nil {
		rep.Err = errorToBody(err)
	} else if v != nil {
		raw, ok := v.(cbor.RawMessage)
		if !ok {
			raw, err = encode(v)
			if err != nil {
				rep.Err = errorToBody(err)
			}
		}
		rep.Value = raw
	}
	data, _, err := wire.Marshal(rep)
	if err != nil {
		data, _, _ = wire.Marshal(reply{ID: id, Err: errorToBody(err)})
	}
	whole := true
	if len(data) > c.frameCap() {
		err := fmt.Errorf("%w: a result of %d bytes, over the frame cap of %d", errs.ErrTooLarge, len(data), c.frameCap())
		data, _, _ = wire.Marshal(reply{ID: id, Err: errorToBody(err)})
		whole = false
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.writeDeadline = extendDeadline(c.nc, c.writeDeadline, c.srv.timeout(30*time.Second))
	if err := c.fw.write(data); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.srv.log("the client stopped reading replies; connection dropped", "remote", remote(c.nc), "err", err)
		}
		c.nc.Close()
		return false
	}
	return whole
}

// extendDeadline keeps nc's write deadline, last set to at, between d and
// 2d away, moving it (which costs a little) at most once per d; it returns
// the deadline now set. A peer that stops reading is given up within 2d.
func extendDeadline(nc net.Conn, at time.Time, d time.Duration) time.Time {
	now := time.Now()
	if at.Sub(now) >= d {
		return at
	}
	at = now.Add(2 * d)
	nc.SetWriteDeadline(at)
	return at
}
