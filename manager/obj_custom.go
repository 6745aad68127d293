package manager

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
)

// customObj exposes the exported methods of a Go value to clients, who call
// them by name (Object.Call, Invoke). A method may take a context.Context
// first (the caller's context: its deadline and cancellation cross the
// wire), then any number of arguments that mp's codec can decode; it may
// return nothing, a value, an error, or a value and an error.
type customObj struct {
	v       reflect.Value
	exposed []string // nil: every exported method
}

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)

func (o *customObj) kind() Kind         { return KindObject }
func (o *customObj) blocks(string) bool { return true }

func (o *customObj) call(c *call) (any, error) {
	if o.exposed != nil && !slices.Contains(o.exposed, c.method) {
		return nil, fmt.Errorf("%w: method %q is not exposed", ErrKind, c.method)
	}
	m := o.v.MethodByName(c.method)
	if !m.IsValid() {
		return nil, fmt.Errorf("%w: %s has no exported method %q", ErrKind, o.v.Type(), c.method)
	}
	in, err := o.args(c, m.Type())
	if err != nil {
		return nil, err
	}
	return results(m.Call(in))
}

// args decodes the arguments of a call of a method of type t.
func (o *customObj) args(c *call, t reflect.Type) ([]reflect.Value, error) {
	var in []reflect.Value
	first := 0
	if t.NumIn() > 0 && t.In(0) == ctxType {
		in = append(in, reflect.ValueOf(c.ctx))
		first = 1
	}
	if t.IsVariadic() || t.NumIn()-first != len(c.args) {
		return nil, fmt.Errorf("%w: %s takes %d arguments, got %d", mp.ErrProtocol, c.method, t.NumIn()-first, len(c.args))
	}
	for i := first; i < t.NumIn(); i++ {
		p := reflect.New(t.In(i))
		if err := decode(c.args[i-first], p.Interface()); err != nil {
			return nil, err
		}
		in = append(in, p.Elem())
	}
	return in, nil
}

// results turns a method's results into a value and an error.
func results(out []reflect.Value) (any, error) {
	var err error
	if n := len(out); n > 0 && out[n-1].Type() == errType {
		if e := out[n-1].Interface(); e != nil {
			err = e.(error)
		}
		out = out[:n-1]
	}
	switch {
	case err != nil:
		return nil, err
	case len(out) == 0:
		return nil, nil
	case len(out) == 1:
		return out[0].Interface(), nil
	}
	vals := make([]any, len(out))
	for i, v := range out {
		vals[i] = v.Interface()
	}
	return vals, nil
}

// Shared is a shared object of one of SyncManager's kinds made in the
// server's own process, to expose under a name with Server.Register (the
// seeds' QueueManager.register('get_task_queue', callable=lambda: queue)).
type Shared struct {
	obj object
}

// NewShared makes a shared object of spec's kind. It panics on an unknown
// kind, KindObject, or a negative size.
func NewShared(spec Spec) *Shared {
	obj, err := newObject(spec.Kind, spec.Size, nil)
	if err != nil {
		panic("manager: NewShared: " + err.Error())
	}
	return &Shared{obj: obj}
}

// newObject makes an object of a built-in kind; cond may name the lock of a
// condition variable.
func newObject(kind Kind, size int, cond *lockObj) (object, error) {
	if size < 0 {
		return nil, fmt.Errorf("%w: negative size %d", mp.ErrProtocol, size)
	}
	switch kind {
	case KindDict:
		return newDict(), nil
	case KindList, KindArray:
		return &listObj{fixed: kind == KindArray, items: make([]cbor.RawMessage, size)}, nil
	case KindNamespace:
		return &namespaceObj{fields: map[string]cbor.RawMessage{}}, nil
	case KindQueue, KindJoinableQueue:
		return &queueObj{maxSize: size, joinable: kind == KindJoinableQueue}, nil
	case KindMutex, KindReentrantLock:
		return &lockObj{reentrant: kind == KindReentrantLock}, nil
	case KindSemaphore:
		return &semObj{value: size}, nil
	case KindBoundedSemaphore:
		return &semObj{value: size, bounded: true, bound: size}, nil
	case KindCond:
		if cond == nil {
			cond = &lockObj{}
		}
		return &condObj{lock: cond}, nil
	case KindEvent:
		return &eventObj{}, nil
	case KindBarrier:
		if size < 1 {
			return nil, fmt.Errorf("%w: a barrier needs at least one party", mp.ErrProtocol)
		}
		return &barrierObj{parties: size}, nil
	case KindValue:
		return &valueObj{}, nil
	}
	return nil, fmt.Errorf("%w: unknown kind %q", ErrKind, kind)
}
