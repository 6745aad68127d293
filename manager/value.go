package manager

import (
	"context"
)

// Value is a proxy to one value held by a manager server (Python:
// manager.Value). A *Value is safe for concurrent use.
type Value[T any] struct{ ref }

// NewValue makes a value in the server, set to v.
func NewValue[T any](ctx context.Context, c *Client, v T) (*Value[T], error) {
	p := new(Value[T])
	raw, err := encode(v)
	if err != nil {
		return nil, err
	}
	if err := create(ctx, c, p, createArgs{Kind: KindValue, Init: raw}); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Value[T]) accepts(k Kind) bool { return k == KindValue }

func (p *Value[T]) itemTypes() []string { return []string{typeName[T]()} }

// UnmarshalCBOR is plumbing: it decodes a Value that arrived from another
// process, as part of a message; not for direct use.
func (p *Value[T]) UnmarshalCBOR(data []byte) error {
	return p.decodeTyped(data, p.itemTypes(), KindValue)
}

// Load returns the value (Python: v.value).
func (p *Value[T]) Load(ctx context.Context) (T, error) {
	var v T
	err := p.call(ctx, "load", callOpts{}, &v)
	return v, err
}

// Store sets the value (Python: v.value = x).
func (p *Value[T]) Store(ctx context.Context, v T) error {
	return p.call(ctx, "store", callOpts{}, nil, v)
}

// Swap sets the value and returns the old one.
func (p *Value[T]) Swap(ctx context.Context, v T) (T, error) {
	var old T
	err := p.call(ctx, "swap", callOpts{}, &old, v)
	return old, err
}

// Add adds delta to a number, atomically, and returns the sum.
func (p *Value[T]) Add(ctx context.Context, delta T) (T, error) {
	var v T
	err := p.call(ctx, "add", callOpts{}, &v, delta)
	return v, err
}

// CompareAndSwap sets the value to new if it is old (compared by encoding),
// atomically, and reports whether it did.
func (p *Value[T]) CompareAndSwap(ctx context.Context, old, new T) (bool, error) {
	var ok bool
	err := p.call(ctx, "cas", callOpts{}, &ok, old, new)
	return ok, err
}

// Namespace is a proxy to a set of named fields held by a manager server
// (Python: manager.Namespace(), whose attributes are its fields). A
// *Namespace is safe for concurrent use.
type Namespace struct{ ref }

// NewNamespace makes an empty namespace in the server.
func NewNamespace(ctx context.Context, c *Client) (*Namespace, error) {
	n := new(Namespace)
	if err := create(ctx, c, n, createArgs{Kind: KindNamespace}); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Namespace) accepts(k Kind) bool { return k == KindNamespace }

// UnmarshalCBOR is plumbing: it decodes a Namespace that arrived from another
// process, as part of a message; not for direct use.
func (n *Namespace) UnmarshalCBOR(data []byte) error { return n.decodeAs(data, KindNamespace) }

// Set sets field name to v (Python: ns.name = v).
func (n *Namespace) Set(ctx context.Context, name string, v any) error {
	return n.call(ctx, "set", callOpts{}, nil, name, v)
}

// Get decodes field name into out, a pointer (Python: ns.name). A missing
// field gives ErrNotFound.
func (n *Namespace) Get(ctx context.Context, name string, out any) error {
	return n.call(ctx, "get", callOpts{}, out, name)
}

// Delete removes field name and reports whether it was there.
func (n *Namespace) Delete(ctx context.Context, name string) (bool, error) {
	var ok bool
	err := n.call(ctx, "delete", callOpts{}, &ok, name)
	return ok, err
}

// Names returns the names of the fields, in no particular order.
func (n *Namespace) Names(ctx context.Context) ([]string, error) {
	var out []string
	err := n.call(ctx, "names", callOpts{}, &out)
	return out, err
}
