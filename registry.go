package mp

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/funcs"
	"github.com/mpgo/mp/internal/proc"
	"github.com/mpgo/mp/internal/wire"
)

// Func is a function registered to run in other processes, with its argument
// type In and result type Out. Both are sent between processes with mp's
// codec (CBOR): exported fields of structs, slices, maps, strings, numbers,
// and handles (Conn, queues, locks, shared memory) anywhere inside.
type Func[In, Out any] struct {
	name string
}

// Name returns the name the function was registered under.
func (f Func[In, Out]) Name() string { return f.name }

// Register registers fn under name, so that mp can run it in another
// process, and returns the typed handle to pass to Command, Call or a Pool.
// Call it at package level (var square = mp.Register("square", squareFn)):
// a child process finds the function by name, in its own copy of the binary,
// after every package's init has run. The name must be unique in the binary
// and stable across builds, which workers on other machines rely on.
//
// Register panics if name is already registered or if Main has already run,
// and if In or Out holds a struct with an unexported field, which the codec
// would leave out (the panic names the type and the field; see
// ErrUnencodable).
func Register[In, Out any](name string, fn func(context.Context, In) (Out, error)) Func[In, Out] {
	if fn == nil {
		panic("mp: Register of a nil function")
	}
	mustTravel(fmt.Sprintf("Register %q: argument", name), reflect.TypeFor[In]())
	mustTravel(fmt.Sprintf("Register %q: result", name), reflect.TypeFor[Out]())
	if proc.MainCalled() {
		panic(fmt.Sprintf("mp: Register(%q) after mp.Main: register functions at package level (var f = mp.Register(...)), so that child processes have them too", name))
	}
	funcs.Add(name, invoker(name, fn), chunkInvoker(name, fn))
	return Func[In, Out]{name: name}
}

// mustTravel panics if values of type t would lose data between processes
// (see wire.Check): where is what the type is for, as in "Register \"f\":
// argument". Registration and the making of a queue call it, since a type
// is known there, long before a value of it is sent.
func mustTravel(where string, t reflect.Type) {
	var te *wire.TypeError
	if errors.As(wire.Check(t), &te) {
		panic(fmt.Sprintf("mp: %s %s", where, te.Describe()))
	}
}

// mustTravelItems is mustTravel for the items of a queue of T made by the
// constructor named ctor.
func mustTravelItems[T any](ctor string) {
	t := reflect.TypeFor[T]()
	mustTravel(fmt.Sprintf("%s[%v]: item", ctor, t), t)
}

// invoker turns a typed function into one that decodes its argument, runs
// it, turns a panic into an error with the stack, and encodes its result.
func invoker[In, Out any](name string, fn func(context.Context, In) (Out, error)) funcs.Invoker {
	return func(ctx context.Context, arg []byte, fds []int) (res []byte, resFDs []int, err error) {
		var in In
		if err := wire.UnmarshalOwned(arg, fds, &in); err != nil {
			return nil, nil, fmt.Errorf("mp: decode the argument of %s: %w", name, err)
		}
		out, err := callRecover(ctx, fn, in)
		if err != nil {
			return nil, nil, err
		}
		return wire.Marshal(out)
	}
}

// chunkInvoker turns a typed function into one that runs it over a chunk of
// a Map: decoding a whole chunk with one call of the codec, and encoding
// its results with one, is what makes Map over small items cheap. A chunk
// of Map stops at its first failing item, as in Python; one of MapEach or
// Imap reports each item's outcome (see runEach).
func chunkInvoker[In, Out any](name string, fn func(context.Context, In) (Out, error)) funcs.ChunkInvoker {
	return func(ctx context.Context, arg []byte, fds []int, item func(int) (context.Context, func())) ([]byte, []int, error) {
		arg, each := cutEachMark(arg)
		var in []In
		if err := wire.UnmarshalOwned(arg, fds, &in); err != nil {
			return nil, nil, fmt.Errorf("mp: decode the arguments of %s: %w", name, err)
		}
		if each {
			return runEach(ctx, name, fn, in, item)
		}
		out := make([]Out, len(in))
		for i := range in {
			ictx, done := item(i)
			o, err := callRecover(ictx, fn, in[i])
			done()
			if err != nil {
				return nil, nil, err
			}
			out[i] = o
		}
		return wire.Marshal(out)
	}
}

// callRecover calls fn, turning a panic into an error with the stack.
func callRecover[In, Out any](ctx context.Context, fn func(context.Context, In) (Out, error), in In) (out Out, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errs.Panicked(r)
		}
	}()
	return fn(ctx, in)
}

// encodeArg encodes the argument of a call for the wire.
func encodeArg[In any](arg In) ([]byte, []int, error) {
	data, fds, err := wire.Marshal(arg)
	if err != nil {
		return nil, nil, fmt.Errorf("mp: encode the argument: %w", err)
	}
	return data, fds, nil
}
