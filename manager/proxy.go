package manager

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/wire"
)

// proxyTag is the CBOR tag of an encoded proxy.
const proxyTag = wire.TagBase + 0x4d

// proxyForm is what travels when a proxy is sent to another process: where
// its object lives, and nothing secret. It needs no descriptors, so a proxy
// can travel anywhere a value can: in a Process argument, a pool task, an
// mp queue, a manager container, or over the network.
type proxyForm struct {
	_      struct{} `cbor:",toarray"`
	Server uint64   // the server's random id
	Addr   string
	ID     uint64
	Kind   Kind
	Types  []string // the object's item types, as far as recorded
}

// ref is the part every proxy shares: which object, through which client.
//
// A proxy made in this process (by a constructor or Lookup) is bound to the
// client that made it and holds one reference to its object. A proxy that
// arrived from another process binds on its first call: to a client of
// this process already connected to the same server if there is one,
// otherwise to a new connection to the proxy's address made with the key
// this process used for that address before (Dial), or else with this
// process's own key (mp.Current().AuthKey), which children inherit; the key
// never travels with the proxy. Binding takes a reference of its own.
type ref struct {
	form  proxyForm
	owner uint64 // tells this proxy apart from others, for reentrant locks

	// mu guards bound and closed, and the stores to c once the proxy is in
	// use; c is loaded without it.
	mu     sync.Mutex
	c      atomic.Pointer[Client]
	bound  bool // holds a reference on c
	closed bool
}

func (r *ref) setRef(c *Client, cr created) {
	r.form = proxyForm{Server: c.serverID, Addr: c.addr, ID: cr.ID, Kind: cr.Kind, Types: cr.Types}
	r.owner = newOwner()
	r.c.Store(c)
	r.bound = true
}

func newOwner() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) | 1
}

// MarshalCBOR is plumbing: it encodes the proxy as its address and
// object id, so that a proxy travels inside a message to another process;
// not for direct use.
func (r *ref) MarshalCBOR() ([]byte, error) {
	if r.form.ID == 0 {
		return nil, fmt.Errorf("manager: encode a zero proxy: make proxies with the constructors or Lookup")
	}
	return cbor.Marshal(cbor.Tag{Number: proxyTag, Content: r.form})
}

// decodeAs decodes a proxy of one of the given kinds.
func (r *ref) decodeAs(data []byte, kinds ...Kind) error {
	var tag cbor.RawTag
	if err := cbor.Unmarshal(data, &tag); err != nil || tag.Number != proxyTag {
		return fmt.Errorf("%w: not a manager proxy", mp.ErrProtocol)
	}
	var f proxyForm
	if err := decode(tag.Content, &f); err != nil {
		return err
	}
	if !kindIn(f.Kind, kinds) {
		return fmt.Errorf("%w: a proxy to a %s cannot be received as a %s", ErrKind, f.Kind, kinds[0])
	}
	r.form, r.owner = f, newOwner()
	return nil
}

// decodeTyped decodes a proxy of one of the given kinds whose object's
// item types match types.
func (r *ref) decodeTyped(data []byte, types []string, kinds ...Kind) error {
	if err := r.decodeAs(data, kinds...); err != nil {
		return err
	}
	if !typesMatch(r.form.Types, types) {
		err := wrongTypes("the proxy received", r.form.Kind, r.form.Types, types)
		r.form = proxyForm{}
		return err
	}
	return nil
}

func kindIn(k Kind, kinds []Kind) bool {
	if len(kinds) == 0 {
		return true
	}
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// client returns the client to call through, binding the proxy first if it
// arrived from another process. Binding waits for no lock that ctx cannot
// interrupt: calls that bind one proxy at once each take a reference, and
// all but the first to finish give theirs back.
func (r *ref) client(ctx context.Context) (*Client, error) {
	if c := r.c.Load(); c != nil {
		return c, nil
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	switch {
	case closed:
		return nil, mp.ErrClosed
	case r.form.ID == 0:
		panic("manager: use of a zero proxy: make proxies with the constructors or Lookup")
	}
	c, err := clientFor(ctx, r.form)
	if err != nil {
		return nil, err
	}
	if err := c.call(ctx, opIncref, nil, r.form.ID); err != nil {
		release(c)
		return nil, err
	}
	return r.bind(c)
}

// bind makes c, which holds a new reference to the proxy's object, the
// proxy's client, unless another call bound the proxy meanwhile or it was
// closed: then the reference and the use of c are given back.
func (r *ref) bind(c *Client) (*Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed && r.c.Load() == nil {
		r.c.Store(c)
		r.bound = true
		return c, nil
	}
	c.send(&request{Method: opDecref, Args: rawArgs(r.form.ID)}, false)
	release(c)
	if r.closed {
		return nil, mp.ErrClosed
	}
	return r.c.Load(), nil
}

// call calls a method of the proxy's object; its result is decoded into
// out unless out is nil.
func (r *ref) call(ctx context.Context, method string, o callOpts, out any, args ...any) error {
	raw := make([]cbor.RawMessage, len(args))
	for i, a := range args {
		var err error
		if raw[i], err = encode(a); err != nil {
			return err
		}
	}
	c, err := r.client(ctx)
	if err != nil {
		return err
	}
	o.owner = r.owner
	if o.what == "" {
		o.what = string(r.form.Kind) + "." + method
	}
	res, err := c.do(ctx, r.form.ID, method, o, raw)
	if err != nil {
		return err
	}
	return decode(res, out)
}

// Close drops the proxy's reference to its object; the object is freed
// once nothing refers to it. Later calls return mp.ErrClosed. Close is safe
// to call twice. Proxies that are never closed drop their references when
// their connection ends (at the latest when their process exits).
func (r *ref) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	c := r.c.Swap(nil)
	if c == nil || !r.bound {
		return nil
	}
	c.send(&request{Method: opDecref, Args: rawArgs(r.form.ID)}, false)
	release(c)
	return nil
}

// ID returns the object's id in its server.
func (r *ref) ID() uint64 { return r.form.ID }

// proxy is implemented by every proxy type.
type proxy interface {
	setRef(c *Client, cr created)
	accepts(k Kind) bool
}

// Lookup returns a proxy to the object the server exposes under name (see
// Server.Register and Options.Shared), typed by P: a Queue[int] for a
// queue, an Object for a custom object, and so on. A name registered as a
// factory makes a new object for every Lookup.
//
// The server knows the item types of a typed proxy's object (those it was
// made with, or those of the first typed Lookup of it): a Lookup with
// other item types fails with an error matching ErrWrongType that names
// both, and a proxy of the wrong kind with one matching ErrKind.
//
//	tasks, err := manager.Lookup[manager.Queue[int]](ctx, c, "get_task_queue")
func Lookup[P any, PP interface {
	*P
	proxy
}](ctx context.Context, c *Client, name string) (*P, error) {
	p := PP(new(P))
	var cr created
	if err := c.call(ctx, opLookup, &cr, name, itemTypesOf(p), kindsOf(p)); err != nil {
		return nil, err
	}
	if !p.accepts(cr.Kind) {
		c.send(&request{Method: opDecref, Args: rawArgs(cr.ID)}, false)
		return nil, fmt.Errorf("%w: %q is a %s, not a %T", ErrKind, name, cr.Kind, *new(P))
	}
	p.setRef(c, cr)
	return (*P)(p), nil
}

// kindsOf returns the kinds of object p accepts.
func kindsOf(p proxy) []Kind {
	var out []Kind
	for _, k := range allKinds {
		if p.accepts(k) {
			out = append(out, k)
		}
	}
	return out
}

// create asks the server for a new object and binds p to it.
func create(ctx context.Context, c *Client, p proxy, a createArgs) error {
	a.Types = itemTypesOf(p)
	var cr created
	if err := c.call(ctx, opCreate, &cr, a); err != nil {
		return err
	}
	p.setRef(c, cr)
	return nil
}
