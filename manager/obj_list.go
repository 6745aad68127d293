package manager

import (
	"fmt"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// listObj is a shared list of encoded values; an array is a list whose
// length never changes.
type listObj struct {
	fixed bool
	// mu guards items.
	mu    sync.Mutex
	items []cbor.RawMessage
}

func (l *listObj) kind() Kind {
	if l.fixed {
		return KindArray
	}
	return KindList
}

func (l *listObj) blocks(string) bool { return false }

func (l *listObj) contents(f func(cbor.RawMessage)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range l.items {
		f(v)
	}
}

func (l *listObj) call(c *call) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch c.method {
	case "len":
		return len(l.items), nil
	case "all":
		return l.items, nil
	case "get", "set", "add":
		return l.atLocked(c)
	case "slice":
		var lo, hi int
		if err := c.arg(0, &lo); err != nil {
			return nil, err
		}
		if err := c.arg(1, &hi); err != nil {
			return nil, err
		}
		lo, hi = clampSlice(lo, hi, len(l.items))
		return l.items[lo:hi], nil
	case "count", "index", "contains":
		return l.searchLocked(c)
	}
	if l.fixed {
		return nil, unknownMethod(KindArray, c.method)
	}
	return l.growLocked(c)
}

// atLocked runs get, set and add at an index.
func (l *listObj) atLocked(c *call) (any, error) {
	var i int
	if err := c.arg(0, &i); err != nil {
		return nil, err
	}
	i, err := l.indexLocked(i)
	if err != nil {
		return nil, err
	}
	switch c.method {
	case "get":
		return l.items[i], nil
	case "set":
		v, err := c.raw(1)
		if err != nil {
			return nil, err
		}
		c.retain(v)
		c.release(l.items[i])
		l.items[i] = v
		return nil, nil
	}
	v, err := c.raw(1)
	if err != nil {
		return nil, err
	}
	sum, err := addNumbers(l.items[i], v)
	if err != nil {
		return nil, err
	}
	l.items[i] = sum
	return sum, nil
}

// growLocked runs the methods that change a list's length.
func (l *listObj) growLocked(c *call) (any, error) {
	switch c.method {
	case "append":
		v, err := c.raw(0)
		if err != nil {
			return nil, err
		}
		c.retain(v)
		l.items = append(l.items, v)
		return nil, nil
	case "extend":
		var vs []cbor.RawMessage
		if err := c.arg(0, &vs); err != nil {
			return nil, err
		}
		for _, v := range vs {
			c.retain(v)
		}
		l.items = append(l.items, vs...)
		return nil, nil
	case "insert":
		return l.insertLocked(c)
	case "pop":
		return l.popLocked(c)
	case "clear":
		for _, v := range l.items {
			c.release(v)
		}
		l.items = nil
		return nil, nil
	}
	return l.reshapeLocked(c)
}

func (l *listObj) insertLocked(c *call) (any, error) {
	var i int
	if err := c.arg(0, &i); err != nil {
		return nil, err
	}
	v, err := c.raw(1)
	if err != nil {
		return nil, err
	}
	i, _ = clampSlice(i, i, len(l.items)) // Python inserts at the nearest end
	c.retain(v)
	l.items = append(l.items, nil)
	copy(l.items[i+1:], l.items[i:])
	l.items[i] = v
	return nil, nil
}

func (l *listObj) popLocked(c *call) (any, error) {
	var i int
	if err := c.arg(0, &i); err != nil {
		return nil, err
	}
	i, err := l.indexLocked(i)
	if err != nil {
		return nil, err
	}
	v := l.items[i]
	l.items = append(l.items[:i], l.items[i+1:]...)
	c.release(v)
	return v, nil
}

// indexLocked resolves a Python index (negative counts from the end).
func (l *listObj) indexLocked(i int) (int, error) {
	n := len(l.items)
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return 0, fmt.Errorf("%w: index %d, length %d", ErrIndex, i, n)
	}
	return i, nil
}

// clampSlice resolves the bounds of a Python slice [lo:hi].
func clampSlice(lo, hi, n int) (int, int) {
	clamp := func(i int) int {
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n)
	}
	lo, hi = clamp(lo), clamp(hi)
	return lo, max(lo, hi)
}

// namespaceObj holds named fields (Python: Namespace).
type namespaceObj struct {
	// mu guards fields.
	mu     sync.Mutex
	fields map[string]cbor.RawMessage
}

func (n *namespaceObj) kind() Kind         { return KindNamespace }
func (n *namespaceObj) blocks(string) bool { return false }

func (n *namespaceObj) contents(f func(cbor.RawMessage)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, v := range n.fields {
		f(v)
	}
}

func (n *namespaceObj) call(c *call) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.method == "names" {
		names := make([]string, 0, len(n.fields))
		for k := range n.fields {
			names = append(names, k)
		}
		return names, nil
	}
	var name string
	if err := c.arg(0, &name); err != nil {
		return nil, err
	}
	old, ok := n.fields[name]
	switch c.method {
	case "get":
		if !ok {
			return nil, fmt.Errorf("%w: namespace has no field %q", ErrNotFound, name)
		}
		return old, nil
	case "set":
		v, err := c.raw(1)
		if err != nil {
			return nil, err
		}
		c.retain(v)
		c.release(old)
		n.fields[name] = v
		return nil, nil
	case "delete":
		c.release(old)
		delete(n.fields, name)
		return ok, nil
	}
	return nil, unknownMethod(KindNamespace, c.method)
}

// valueObj holds one value (Python: Value).
type valueObj struct {
	// mu guards v.
	mu sync.Mutex
	v  cbor.RawMessage
}

func (o *valueObj) kind() Kind         { return KindValue }
func (o *valueObj) blocks(string) bool { return false }
func (o *valueObj) contents(f func(cbor.RawMessage)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f(o.v)
}

func (o *valueObj) call(c *call) (any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if c.method == "load" {
		return o.v, nil
	}
	v, err := c.raw(0)
	if err != nil {
		return nil, err
	}
	switch c.method {
	case "store", "swap":
		old := o.v
		c.retain(v)
		c.release(old)
		o.v = v
		return old, nil
	case "add":
		sum, err := addNumbers(o.v, v)
		if err != nil {
			return nil, err
		}
		o.v = sum
		return sum, nil
	case "cas":
		nv, err := c.raw(1)
		if err != nil {
			return nil, err
		}
		if string(o.v) != string(v) {
			return false, nil
		}
		c.retain(nv)
		c.release(o.v)
		o.v = nv
		return true, nil
	}
	return nil, unknownMethod(KindValue, c.method)
}
