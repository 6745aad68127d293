package manager

import (
	"context"

	"github.com/fxamacker/cbor/v2"
)

// List is a proxy to a list held by a manager server (Python: a
// ListProxy). Indexes follow Python: a negative index counts from the end.
// Elements may hold proxies, which the list keeps alive. A *List is safe
// for concurrent use.
type List[T any] struct{ ref }

// NewList makes a list in the server holding init's elements (Python:
// manager.list(init)).
func NewList[T any](ctx context.Context, c *Client, init []T) (*List[T], error) {
	l := new(List[T])
	a := createArgs{Kind: KindList}
	if len(init) > 0 {
		raw, err := encode(init)
		if err != nil {
			return nil, err
		}
		a.Init = raw
	}
	if err := create(ctx, c, l, a); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *List[T]) accepts(k Kind) bool { return k == KindList }

func (l *List[T]) itemTypes() []string { return []string{typeName[T]()} }

// UnmarshalCBOR is plumbing: it decodes a List that arrived from another
// process, as part of a message; not for direct use.
func (l *List[T]) UnmarshalCBOR(data []byte) error {
	return l.decodeTyped(data, l.itemTypes(), KindList)
}

// Append adds v at the end.
func (l *List[T]) Append(ctx context.Context, v T) error {
	return l.call(ctx, "append", callOpts{}, nil, v)
}

// Extend adds vs at the end, in one round trip.
func (l *List[T]) Extend(ctx context.Context, vs []T) error {
	return l.call(ctx, "extend", callOpts{}, nil, vs)
}

// Insert inserts v before index i (Python: insert; an index past either end
// inserts at that end).
func (l *List[T]) Insert(ctx context.Context, i int, v T) error {
	return l.call(ctx, "insert", callOpts{}, nil, i, v)
}

// Get returns the element at index i; out of range gives ErrIndex.
func (l *List[T]) Get(ctx context.Context, i int) (T, error) {
	var v T
	err := l.call(ctx, "get", callOpts{}, &v, i)
	return v, err
}

// Set replaces the element at index i.
func (l *List[T]) Set(ctx context.Context, i int, v T) error {
	return l.call(ctx, "set", callOpts{}, nil, i, v)
}

// Pop removes and returns the element at index i (-1: the last).
//
// An element that does not decode as a T (put through a List[any]) is put
// back where it was, and Pop returns an error matching ErrWrongType.
func (l *List[T]) Pop(ctx context.Context, i int) (T, error) {
	var v T
	var raw cbor.RawMessage
	if err := l.call(ctx, "pop", callOpts{}, &raw, i); err != nil {
		return v, err
	}
	if derr := decode(raw, &v); derr != nil {
		return v, undoTake[T](ctx, "the element popped", derr, func(ctx context.Context) error {
			if i == -1 { // it was the last: append it
				return l.call(ctx, "append", callOpts{}, nil, raw)
			}
			if i < 0 { // the list is one shorter now
				i++
			}
			return l.call(ctx, "insert", callOpts{}, nil, i, raw)
		})
	}
	return v, nil
}

// Len returns the number of elements.
func (l *List[T]) Len(ctx context.Context) (int, error) {
	var n int
	err := l.call(ctx, "len", callOpts{}, &n)
	return n, err
}

// Slice returns the elements [lo:hi], with Python's rules: negative bounds
// count from the end, bounds past the ends are clamped.
func (l *List[T]) Slice(ctx context.Context, lo, hi int) ([]T, error) {
	var out []T
	err := l.call(ctx, "slice", callOpts{}, &out, lo, hi)
	return out, err
}

// All returns every element (Python: list(l), l[:]).
func (l *List[T]) All(ctx context.Context) ([]T, error) {
	var out []T
	err := l.call(ctx, "all", callOpts{}, &out)
	return out, err
}

// Clear removes every element.
func (l *List[T]) Clear(ctx context.Context) error {
	return l.call(ctx, "clear", callOpts{}, nil)
}

// Array is a proxy to a fixed-length array held by a manager server
// (Python: manager.Array). A *Array is safe for concurrent use.
type Array[T any] struct{ ref }

// NewArray makes an array in the server holding init's elements (Python:
// manager.Array(typecode, sequence)); use make([]T, n) for n zero values.
func NewArray[T any](ctx context.Context, c *Client, init []T) (*Array[T], error) {
	a := new(Array[T])
	args := createArgs{Kind: KindArray}
	raw, err := encode(init)
	if err != nil {
		return nil, err
	}
	args.Init = raw
	if err := create(ctx, c, a, args); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Array[T]) accepts(k Kind) bool { return k == KindArray }

func (a *Array[T]) itemTypes() []string { return []string{typeName[T]()} }

// UnmarshalCBOR is plumbing: it decodes an Array that arrived from another
// process, as part of a message; not for direct use.
func (a *Array[T]) UnmarshalCBOR(data []byte) error {
	return a.decodeTyped(data, a.itemTypes(), KindArray)
}

// Len returns the array's length.
func (a *Array[T]) Len(ctx context.Context) (int, error) {
	var n int
	err := a.call(ctx, "len", callOpts{}, &n)
	return n, err
}

// Get returns the element at index i.
func (a *Array[T]) Get(ctx context.Context, i int) (T, error) {
	var v T
	err := a.call(ctx, "get", callOpts{}, &v, i)
	return v, err
}

// Set replaces the element at index i.
func (a *Array[T]) Set(ctx context.Context, i int, v T) error {
	return a.call(ctx, "set", callOpts{}, nil, i, v)
}

// Add adds delta to the number at index i, atomically, and returns the sum.
func (a *Array[T]) Add(ctx context.Context, i int, delta T) (T, error) {
	var v T
	err := a.call(ctx, "add", callOpts{}, &v, i, delta)
	return v, err
}

// Slice returns the elements [lo:hi], with Python's rules.
func (a *Array[T]) Slice(ctx context.Context, lo, hi int) ([]T, error) {
	var out []T
	err := a.call(ctx, "slice", callOpts{}, &out, lo, hi)
	return out, err
}

// All returns every element.
func (a *Array[T]) All(ctx context.Context) ([]T, error) {
	var out []T
	err := a.call(ctx, "all", callOpts{}, &out)
	return out, err
}
