package manager

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
)

// createArgs are the arguments of the server's create method.
type createArgs struct {
	_     struct{} `cbor:",toarray"`
	Kind  Kind
	Size  int
	Lock  uint64          // a condition variable's lock, or 0 for a new one
	Init  cbor.RawMessage // initial contents, or nil
	Types []string        // the item types of a typed proxy (see types.go)
}

// created describes an object a client asked for.
type created struct {
	_     struct{} `cbor:",toarray"`
	ID    uint64
	Kind  Kind
	Types []string
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
	return created{ID: c.srv.addObject(c, obj, a.Types), Kind: a.Kind, Types: a.Types}, nil
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

// lookupArgs are the arguments of the server's lookup method: a name, the
// item types of the proxy asking and the kinds it accepts.
type lookupArgs struct {
	name  string
	types []string
	kinds []Kind
}

// lookup returns the object exposed under a name, making one if the name
// is a factory's. An object of a kind the proxy does not accept, or with
// other item types, is refused before any type is recorded.
func (c *serverConn) lookup(cl *call) (any, error) {
	var a lookupArgs
	if err := cl.arg(0, &a.name); err != nil {
		return nil, err
	}
	if len(cl.args) > 1 {
		if err := cl.arg(1, &a.types); err != nil {
			return nil, err
		}
		if err := cl.arg(2, &a.kinds); err != nil {
			return nil, err
		}
	}
	c.srv.mu.Lock()
	n, ok := c.srv.names[a.name]
	c.srv.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: the server exposes nothing named %q", ErrNotFound, a.name)
	}
	if n.factory == nil {
		return c.srv.lookupNamed(c, n.id, a)
	}
	obj, err := callFactory(n)
	if err != nil {
		return nil, err
	}
	if err := checkLookup(a, obj.kind(), nil); err != nil {
		return nil, err
	}
	return created{ID: c.srv.addObject(c, obj, a.types), Kind: obj.kind(), Types: a.types}, nil
}

// checkLookup refuses a lookup of an object of kind k and item types have
// by a proxy that does not accept them.
func checkLookup(a lookupArgs, k Kind, have []string) error {
	if len(a.kinds) > 0 && !kindIn(k, a.kinds) {
		return fmt.Errorf("%w: %q is a %s, not a %s", ErrKind, a.name, k, a.kinds[0])
	}
	if !typesMatch(have, a.types) {
		return wrongTypes(fmt.Sprintf("%q", a.name), k, have, a.types)
	}
	return nil
}

// lookupNamed returns the object id, exposed by name, to the client of c,
// recording the item types asked for if it has none yet.
func (s *Server) lookupNamed(c *serverConn, id uint64, a lookupArgs) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.objects[id]
	if !ok {
		return nil, fmt.Errorf("%w: object %d does not exist (any more)", ErrNotFound, id)
	}
	if err := checkLookup(a, e.obj.kind(), e.types); err != nil {
		return nil, err
	}
	e.types = mergeTypes(e.types, a.types)
	e.refs++
	delete(s.dying, id)
	c.refs[id]++
	return created{ID: id, Kind: e.obj.kind(), Types: e.types}, nil
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
