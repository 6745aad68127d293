package manager

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
)

// createArgs are the arguments of the server's create method.
type createArgs struct {
	_    struct{} `cbor:",toarray"`
	Kind Kind
	Size int
	Lock uint64          // a condition variable's lock, or 0 for a new one
	Init cbor.RawMessage // initial contents, or nil
}

// created describes an object a client asked for.
type created struct {
	_    struct{} `cbor:",toarray"`
	ID   uint64
	Kind Kind
}

// create makes an object of a built-in kind for the client.
func (c *serverConn) create(cl *call) (any, error) {
	var a createArgs
	if err := cl.arg(0, &a); err != nil {
		return nil, err
	}
	var lock *lockObj
	if a.Lock != 0 {
		obj, err := c.srv.object(a.Lock)
		if err != nil {
			return nil, err
		}
		if lock, _ = obj.(*lockObj); lock == nil {
			return nil, fmt.Errorf("%w: a condition variable needs a Mutex or a ReentrantLock, not a %s", ErrKind, obj.kind())
		}
	}
	obj, err := newObject(a.Kind, a.Size, lock)
	if err != nil {
		return nil, err
	}
	if err := initObject(cl, obj, a.Init); err != nil {
		return nil, err
	}
	return created{ID: c.srv.addObject(c, obj), Kind: a.Kind}, nil
}

// initObject fills a new container with its initial contents. Nothing else
// can reach obj yet: its fields are set without its lock.
func initObject(cl *call, obj object, init cbor.RawMessage) error {
	if v, ok := obj.(*valueObj); ok {
		v.v = init
		cl.retain(init)
		return nil
	}
	if len(init) == 0 || (len(init) == 1 && init[0] == 0xf6) { // absent, or CBOR null
		return nil
	}
	var err error
	switch o := obj.(type) {
	case *dictObj:
		var pairs [][2]cbor.RawMessage
		if err = decode(init, &pairs); err == nil {
			for _, p := range pairs {
				o.setLocked(cl, p[0], p[1])
			}
		}
	case *listObj:
		if err = decode(init, &o.items); err == nil {
			for _, v := range o.items {
				cl.retain(v)
			}
		}
	default:
		err = fmt.Errorf("%w: a %s has no initial contents", mp.ErrProtocol, obj.kind())
	}
	return err
}

// lookup returns the object exposed under a name, making one if the name
// is a factory's.
func (c *serverConn) lookup(cl *call) (any, error) {
	var name string
	if err := cl.arg(0, &name); err != nil {
		return nil, err
	}
	c.srv.mu.Lock()
	n, ok := c.srv.names[name]
	c.srv.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: the server exposes nothing named %q", ErrNotFound, name)
	}
	if n.factory == nil {
		if err := c.srv.incref(c, n.id); err != nil {
			return nil, err
		}
		obj, err := c.srv.object(n.id)
		if err != nil {
			return nil, err
		}
		return created{ID: n.id, Kind: obj.kind()}, nil
	}
	obj, err := callFactory(n)
	if err != nil {
		return nil, err
	}
	return created{ID: c.srv.addObject(c, obj), Kind: obj.kind()}, nil
}

// callFactory calls a registered factory, turning a panic into an error.
func callFactory(n named) (obj object, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("manager: factory panicked: %v", r)
		}
	}()
	return toObject(n.factory(), n.methods), nil
}
