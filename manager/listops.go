package manager

import (
	"context"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
)

// Python's list methods that search, reorder and cut a List. Each is one
// round trip and atomic in the server, except SortFunc (see there).
// Values are compared by their encoding, as Dict keys are: T should be a
// type whose encoding is unique (numbers, strings, structs of those; not
// maps).

// Contains reports whether the list holds v (Python: v in l).
func (l *List[T]) Contains(ctx context.Context, v T) (bool, error) {
	var ok bool
	err := l.call(ctx, "contains", callOpts{}, &ok, v)
	return ok, err
}

// Count returns how many elements equal v (Python: l.count(v)).
func (l *List[T]) Count(ctx context.Context, v T) (int, error) {
	var n int
	err := l.call(ctx, "count", callOpts{}, &n, v)
	return n, err
}

// Index returns the index of the first element equal to v at or after
// index from (Python: l.index(v, from); 0 searches the whole list, a
// negative from counts from the end). A value not there gives an error
// matching ErrMissing.
func (l *List[T]) Index(ctx context.Context, v T, from int) (int, error) {
	var i int
	err := l.call(ctx, "index", callOpts{}, &i, v, from)
	return i, err
}

// Remove removes the first element equal to v (Python: l.remove(v)). A
// value not there gives an error matching ErrMissing.
func (l *List[T]) Remove(ctx context.Context, v T) error {
	return l.call(ctx, "remove", callOpts{}, nil, v)
}

// Delete removes the element at index i (Python: del l[i]); out of range
// gives ErrIndex.
func (l *List[T]) Delete(ctx context.Context, i int) error {
	return l.call(ctx, "pop", callOpts{}, nil, i)
}

// DeleteSlice removes the elements [lo:hi] (Python: del l[lo:hi]), with
// Python's rules for the bounds.
func (l *List[T]) DeleteSlice(ctx context.Context, lo, hi int) error {
	return l.call(ctx, "delslice", callOpts{}, nil, lo, hi)
}

// SetSlice replaces the elements [lo:hi] with vs, which may be longer or
// shorter (Python: l[lo:hi] = vs).
func (l *List[T]) SetSlice(ctx context.Context, lo, hi int, vs []T) error {
	return l.call(ctx, "setslice", callOpts{}, nil, lo, hi, vs)
}

// Repeat makes the list n copies of itself (Python: l *= n); n <= 0
// empties it.
func (l *List[T]) Repeat(ctx context.Context, n int) error {
	return l.call(ctx, "repeat", callOpts{}, nil, n)
}

// Reverse reverses the list in place (Python: l.reverse()).
func (l *List[T]) Reverse(ctx context.Context) error {
	return l.call(ctx, "reverse", callOpts{}, nil)
}

// Add adds delta to the number at index i, atomically, and returns the sum
// (Python: l[i] += delta, without its race).
func (l *List[T]) Add(ctx context.Context, i int, delta T) (T, error) {
	var v T
	err := l.call(ctx, "add", callOpts{}, &v, i, delta)
	return v, err
}

// Sort sorts the list in place, stably, in the server (Python:
// l.sort(reverse=reverse)). The elements must be all numbers or all
// strings, compared as Go compares them (strings by bytes); otherwise the
// error matches ErrUnordered and the list is unchanged. Use SortFunc for
// another order or other types.
func (l *List[T]) Sort(ctx context.Context, reverse bool) error {
	return l.call(ctx, "sort", callOpts{}, nil, reverse)
}

// SortFunc sorts the list in place, stably, by cmp (Python:
// l.sort(key=…)): it takes the elements, sorts them here and puts them
// back only if nobody changed the list meanwhile, else tries again, so the
// list goes from one state to its sorted self at once. It costs two round
// trips and the list's size thrice on the wire; a list changed faster than
// it can be sorted makes it try until ctx ends.
func (l *List[T]) SortFunc(ctx context.Context, cmp func(a, b T) int) error {
	for {
		var raw []cbor.RawMessage
		if err := l.call(ctx, "all", callOpts{}, &raw); err != nil {
			return err
		}
		sorted, err := sortRaw[T](raw, cmp)
		if err != nil {
			return err
		}
		var done bool
		if err := l.call(ctx, "reorder", callOpts{}, &done, raw, sorted); err != nil || done {
			return err
		}
	}
}

// sortRaw returns raw, encoded Ts, sorted by cmp on their decoded values.
func sortRaw[T any](raw []cbor.RawMessage, cmp func(a, b T) int) ([]cbor.RawMessage, error) {
	vals := make([]T, len(raw))
	for i, r := range raw {
		if err := decode(r, &vals[i]); err != nil {
			return nil, fmt.Errorf("%w: an element is not a %s: %w", ErrWrongType, typeLabel[T](), err)
		}
	}
	idx := make([]int, len(raw))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp(vals[a], vals[b]) })
	out := make([]cbor.RawMessage, len(raw))
	for i, j := range idx {
		out[i] = raw[j]
	}
	return out, nil
}
