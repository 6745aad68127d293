package manager

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
)

// The methods of Python's list that search, reorder and cut a list in
// place. Values are compared by their encoding, as dict keys are.

// searchLocked runs count, index and contains, which a fixed array has
// too.
func (l *listObj) searchLocked(c *call) (any, error) {
	v, err := c.raw(0)
	if err != nil {
		return nil, err
	}
	switch c.method {
	case "count":
		n := 0
		for _, x := range l.items {
			if bytes.Equal(x, v) {
				n++
			}
		}
		return n, nil
	case "contains":
		return l.find(v, 0) >= 0, nil
	}
	var from int // index: the value, and where to start
	if err := c.arg(1, &from); err != nil {
		return nil, err
	}
	from, _ = clampSlice(from, from, len(l.items))
	i := l.find(v, from)
	if i < 0 {
		return nil, fmt.Errorf("%w: the value is not in the list", ErrMissing)
	}
	return i, nil
}

// find returns the index of the first element from on encoded as v, or -1.
func (l *listObj) find(v cbor.RawMessage, from int) int {
	for i := from; i < len(l.items); i++ {
		if bytes.Equal(l.items[i], v) {
			return i
		}
	}
	return -1
}

// reshapeLocked runs the methods that remove, reorder or repeat elements.
func (l *listObj) reshapeLocked(c *call) (any, error) {
	switch c.method {
	case "remove":
		v, err := c.raw(0)
		if err != nil {
			return nil, err
		}
		i := l.find(v, 0)
		if i < 0 {
			return nil, fmt.Errorf("%w: the value is not in the list", ErrMissing)
		}
		c.release(l.items[i])
		l.items = slices.Delete(l.items, i, i+1)
		return nil, nil
	case "reverse":
		slices.Reverse(l.items)
		return nil, nil
	case "sort":
		var reverse bool
		if err := c.arg(0, &reverse); err != nil {
			return nil, err
		}
		return nil, l.sortLocked(reverse)
	case "delslice":
		lo, hi, err := l.bounds(c)
		if err != nil {
			return nil, err
		}
		for _, v := range l.items[lo:hi] {
			c.release(v)
		}
		l.items = slices.Delete(l.items, lo, hi)
		return nil, nil
	case "setslice":
		return nil, l.setSliceLocked(c)
	case "repeat":
		return nil, l.repeatLocked(c)
	case "reorder":
		return l.reorderLocked(c)
	}
	return nil, unknownMethod(KindList, c.method)
}

// bounds decodes the bounds of a slice, arguments 0 and 1, resolved.
func (l *listObj) bounds(c *call) (lo, hi int, err error) {
	if err := c.arg(0, &lo); err != nil {
		return 0, 0, err
	}
	if err := c.arg(1, &hi); err != nil {
		return 0, 0, err
	}
	lo, hi = clampSlice(lo, hi, len(l.items))
	return lo, hi, nil
}

// setSliceLocked replaces the elements [lo:hi] with those of argument 2.
func (l *listObj) setSliceLocked(c *call) error {
	lo, hi, err := l.bounds(c)
	if err != nil {
		return err
	}
	var vs []cbor.RawMessage
	if err := c.arg(2, &vs); err != nil {
		return err
	}
	for _, v := range vs {
		c.retain(v)
	}
	for _, v := range l.items[lo:hi] {
		c.release(v)
	}
	l.items = slices.Replace(l.items, lo, hi, vs...)
	return nil
}

// repeatLocked makes the list n copies of itself (Python: l *= n).
func (l *listObj) repeatLocked(c *call) error {
	var n int
	if err := c.arg(0, &n); err != nil {
		return err
	}
	if n <= 0 {
		for _, v := range l.items {
			c.release(v)
		}
		l.items = nil
		return nil
	}
	if len(l.items) == 0 {
		return nil
	}
	if n > maxListLen/len(l.items) {
		return fmt.Errorf("%w: %d copies of %d elements", ErrIndex, n, len(l.items))
	}
	orig := l.items
	for range n - 1 {
		for _, v := range orig {
			c.retain(v)
		}
		l.items = append(l.items, orig...)
	}
	return nil
}

// maxListLen bounds what repeat can make a list grow to.
const maxListLen = 1 << 24

// reorderLocked replaces the list's elements with argument 1 if they are
// still argument 0, and reports whether it did: SortFunc's compare and
// swap.
func (l *listObj) reorderLocked(c *call) (any, error) {
	var old, nw []cbor.RawMessage
	if err := c.arg(0, &old); err != nil {
		return nil, err
	}
	if err := c.arg(1, &nw); err != nil {
		return nil, err
	}
	if !slices.EqualFunc(old, l.items, func(a, b cbor.RawMessage) bool { return bytes.Equal(a, b) }) {
		return false, nil
	}
	for _, v := range nw {
		c.retain(v)
	}
	for _, v := range l.items {
		c.release(v)
	}
	l.items = nw
	return true, nil
}

// sortLocked sorts a list of numbers or of strings, stably (Python:
// list.sort()); anything else, or a mix of numbers and strings, is an
// error, and the list stays as it was.
func (l *listObj) sortLocked(reverse bool) error {
	keys := make([]sortKey, len(l.items))
	for i, v := range l.items {
		k, err := keyOf(v)
		if err != nil {
			return err
		}
		if i > 0 && k.isStr != keys[0].isStr {
			return fmt.Errorf("%w: the list mixes numbers and strings", ErrUnordered)
		}
		keys[i] = k
	}
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if reverse {
			return keys[b].compare(keys[a])
		}
		return keys[a].compare(keys[b])
	})
	sorted := make([]cbor.RawMessage, len(idx))
	for i, j := range idx {
		sorted[i] = l.items[j]
	}
	l.items = sorted
	return nil
}

// sortKey is an element decoded for sorting.
type sortKey struct {
	isStr bool
	s     string
	n     num
}

func keyOf(v cbor.RawMessage) (sortKey, error) {
	var x any
	if err := decode(v, &x); err != nil {
		return sortKey{}, err
	}
	switch x := x.(type) {
	case string:
		return sortKey{isStr: true, s: x}, nil
	}
	n, err := number(v)
	if err != nil {
		return sortKey{}, fmt.Errorf("%w: Sort orders numbers and strings, not %T (use SortFunc)", ErrUnordered, x)
	}
	return sortKey{n: n}, nil
}

func (k sortKey) compare(o sortKey) int {
	switch {
	case k.isStr:
		return cmp.Compare(k.s, o.s)
	case !k.n.isFloat && !o.n.isFloat:
		return cmp.Compare(k.n.i, o.n.i)
	}
	return cmp.Compare(k.n.float(), o.n.float())
}
