package cluster

import (
	"context"
	"fmt"
)

// Namespace is a set of named fields of any type, shared by every process
// that opens its name on the same engine (Python: a manager's Namespace,
// whose attributes are its fields). It is a Dict from field names to
// encoded values, in a bucket of its own; each field is set and read
// whole and atomically.
//
// A *Namespace is safe for concurrent use. It holds nothing to close.
type Namespace struct {
	d *Dict[string, []byte]
}

// NewNamespace opens the namespace named name on c, making it empty if it
// does not exist.
func NewNamespace(ctx context.Context, c *Cluster, name string) (*Namespace, error) {
	d, err := openDict[string, []byte](ctx, c, namespaceBucketPrefix+escapeName("namespace", name), name)
	if err != nil {
		return nil, err
	}
	return &Namespace{d: d}, nil
}

// Name returns the namespace's name.
func (n *Namespace) Name() string { return n.d.name }

// Set sets field name to v (Python: ns.name = v). A v the codec cannot
// carry whole is refused (mp.ErrUnencodable, mp.ErrHandles).
func (n *Namespace) Set(ctx context.Context, name string, v any) error {
	data, err := encode(v)
	if err != nil {
		return err
	}
	return n.d.Set(ctx, name, data)
}

// Get decodes field name into out, a pointer (Python: ns.name). A missing
// field gives ErrNotFound.
func (n *Namespace) Get(ctx context.Context, name string, out any) error {
	data, ok, err := n.d.Get(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("cluster: namespace %q has no field %q: %w", n.d.name, name, ErrNotFound)
	}
	return decode(data, out)
}

// Delete removes field name and reports whether it was there.
func (n *Namespace) Delete(ctx context.Context, name string) (bool, error) {
	return n.d.Delete(ctx, name)
}

// Names returns the names of the fields, in the order of their last
// writes.
func (n *Namespace) Names(ctx context.Context) ([]string, error) {
	return n.d.Keys(ctx)
}
