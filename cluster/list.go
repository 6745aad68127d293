package cluster

import (
	"context"
	"fmt"
)

// List is a list shared by every process that opens its name on the same
// engine (Python: a manager's list). The whole list is one key of the
// engine's MP_STATE bucket, so every change reads the list, changes it and
// writes it back expecting the revision it read (reading again if another
// write came between): each method is atomic, and costs a transfer of the
// whole list. A List is for small lists — the engine refuses a value
// larger than its maximum payload, 1 MiB by default; use a Dict, keyed by
// index, for large ones.
//
// A *List is safe for concurrent use. It holds nothing to close.
type List[T any] struct {
	cl cell
}

// NewList opens the list named name on c, making it empty if it does not
// exist. It panics if T's values would lose data between processes.
func NewList[T any](ctx context.Context, c *Cluster, name string) (*List[T], error) {
	checkType[T]("list element type")
	cl, err := openCell(ctx, c, "list", name)
	if err != nil {
		return nil, err
	}
	return &List[T]{cl: cl}, nil
}

// Name returns the list's name.
func (l *List[T]) Name() string { return l.cl.name }

// load decodes the list's value (none: empty).
func load[T any](data []byte) ([]T, error) {
	var vs []T
	if len(data) == 0 {
		return vs, nil
	}
	err := decode(data, &vs)
	return vs, err
}

// change applies fn to the list atomically.
func (l *List[T]) change(ctx context.Context, fn func([]T) ([]T, error)) error {
	return l.cl.modify(ctx, func(cur []byte) ([]byte, error) {
		vs, err := load[T](cur)
		if err != nil {
			return nil, err
		}
		if vs, err = fn(vs); err != nil {
			return nil, err
		}
		if vs == nil {
			vs = []T{}
		}
		return encode(vs)
	})
}

// All returns every element (Python: list(l), l[:]).
func (l *List[T]) All(ctx context.Context) ([]T, error) {
	e, err := l.cl.get(ctx)
	if err != nil || e == nil {
		return nil, err
	}
	return load[T](e.Value())
}

// index resolves i with Python's rules (negative counts from the end).
func (l *List[T]) index(i, n int) (int, error) {
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return 0, fmt.Errorf("cluster: list %q: index %d of %d: %w", l.cl.name, i, n, ErrIndex)
	}
	return i, nil
}

// Append adds v at the end.
func (l *List[T]) Append(ctx context.Context, v T) error {
	return l.Extend(ctx, []T{v})
}

// Extend adds vs at the end, in one write.
func (l *List[T]) Extend(ctx context.Context, vs []T) error {
	return l.change(ctx, func(cur []T) ([]T, error) { return append(cur, vs...), nil })
}

// Insert inserts v before index i (Python: insert; an index past either
// end inserts at that end).
func (l *List[T]) Insert(ctx context.Context, i int, v T) error {
	return l.change(ctx, func(cur []T) ([]T, error) {
		if i < 0 {
			i = max(i+len(cur), 0)
		}
		i = min(i, len(cur))
		cur = append(cur, v)
		copy(cur[i+1:], cur[i:])
		cur[i] = v
		return cur, nil
	})
}

// Get returns the element at index i (negative counts from the end); out
// of range gives ErrIndex.
func (l *List[T]) Get(ctx context.Context, i int) (T, error) {
	var zero T
	vs, err := l.All(ctx)
	if err != nil {
		return zero, err
	}
	if i, err = l.index(i, len(vs)); err != nil {
		return zero, err
	}
	return vs[i], nil
}

// Set replaces the element at index i; out of range gives ErrIndex.
func (l *List[T]) Set(ctx context.Context, i int, v T) error {
	return l.change(ctx, func(cur []T) ([]T, error) {
		j, err := l.index(i, len(cur))
		if err != nil {
			return nil, err
		}
		cur[j] = v
		return cur, nil
	})
}

// Pop removes and returns the element at index i (-1: the last); out of
// range gives ErrIndex.
func (l *List[T]) Pop(ctx context.Context, i int) (T, error) {
	var v T
	err := l.change(ctx, func(cur []T) ([]T, error) {
		j, err := l.index(i, len(cur))
		if err != nil {
			return nil, err
		}
		v = cur[j]
		return append(cur[:j], cur[j+1:]...), nil
	})
	return v, err
}

// Len returns the number of elements.
func (l *List[T]) Len(ctx context.Context) (int, error) {
	vs, err := l.All(ctx)
	return len(vs), err
}

// Slice returns the elements [lo:hi], with Python's rules: negative bounds
// count from the end, bounds past the ends are clamped.
func (l *List[T]) Slice(ctx context.Context, lo, hi int) ([]T, error) {
	vs, err := l.All(ctx)
	if err != nil {
		return nil, err
	}
	clamp := func(i int) int {
		if i < 0 {
			i += len(vs)
		}
		return min(max(i, 0), len(vs))
	}
	lo, hi = clamp(lo), clamp(hi)
	if lo >= hi {
		return []T{}, nil
	}
	return vs[lo:hi], nil
}

// Clear removes every element.
func (l *List[T]) Clear(ctx context.Context) error {
	return l.change(ctx, func([]T) ([]T, error) { return []T{}, nil })
}
