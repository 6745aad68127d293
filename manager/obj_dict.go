package manager

import (
	"bytes"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// dictObj is a shared dict: encoded keys to encoded values, in insertion
// order (as Python's dict).
type dictObj struct {
	// mu guards everything below.
	mu    sync.Mutex
	index map[string]int // encoded key → position in keys and vals
	keys  []cbor.RawMessage
	vals  []cbor.RawMessage // nil at a deleted position
	dead  int               // deleted positions
}

func newDict() *dictObj { return &dictObj{index: map[string]int{}} }

func (d *dictObj) kind() Kind         { return KindDict }
func (d *dictObj) blocks(string) bool { return false }
func (d *dictObj) contents(f func(cbor.RawMessage)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.eachLocked(func(k, v cbor.RawMessage) { f(k); f(v) })
}

// optional is a value that may be absent.
type optional struct {
	_     struct{} `cbor:",toarray"`
	Found bool
	Value cbor.RawMessage
}

func (d *dictObj) call(c *call) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch c.method {
	case "get", "pop", "has", "delete", "set", "setdefault", "add", "cas":
		return d.keyedLocked(c)
	case "len":
		return len(d.index), nil
	case "keys", "values", "items":
		return d.listLocked(c.method), nil
	case "popitem":
		return d.popLastLocked(c), nil
	case "update":
		var pairs [][2]cbor.RawMessage
		if err := c.arg(0, &pairs); err != nil {
			return nil, err
		}
		for _, p := range pairs {
			d.setLocked(c, p[0], p[1])
		}
		return nil, nil
	case "clear":
		d.eachLocked(func(k, v cbor.RawMessage) { c.release(k); c.release(v) })
		d.index, d.keys, d.vals, d.dead = map[string]int{}, nil, nil, 0
		return nil, nil
	}
	return nil, unknownMethod(KindDict, c.method)
}

// keyedLocked runs the methods whose first argument is a key.
func (d *dictObj) keyedLocked(c *call) (any, error) {
	k, err := c.raw(0)
	if err != nil {
		return nil, err
	}
	i, ok := d.index[string(k)]
	switch c.method {
	case "get":
		if !ok {
			return optional{}, nil
		}
		return optional{Found: true, Value: d.vals[i]}, nil
	case "has":
		return ok, nil
	case "pop", "delete":
		if !ok {
			return optional{}, nil
		}
		v := d.vals[i]
		d.deleteLocked(c, i)
		return optional{Found: true, Value: v}, nil
	}
	v, err := c.raw(1)
	if err != nil {
		return nil, err
	}
	return d.writeLocked(c, k, v, i, ok)
}

// writeLocked runs set, setdefault, add and cas.
func (d *dictObj) writeLocked(c *call, k, v cbor.RawMessage, i int, ok bool) (any, error) {
	switch c.method {
	case "set":
		d.setLocked(c, k, v)
		return nil, nil
	case "setdefault":
		if ok {
			return d.vals[i], nil
		}
		d.setLocked(c, k, v)
		return v, nil
	case "add":
		var old cbor.RawMessage
		if ok {
			old = d.vals[i]
		}
		sum, err := addNumbers(old, v)
		if err != nil {
			return nil, err
		}
		d.setLocked(c, k, sum)
		return sum, nil
	}
	// cas: key, old, new
	nv, err := c.raw(2)
	if err != nil {
		return nil, err
	}
	if !ok || !bytes.Equal(d.vals[i], v) {
		return false, nil
	}
	d.setLocked(c, k, nv)
	return true, nil
}

// popLastLocked removes the key inserted last and returns it with its
// value (Python: popitem, LIFO).
func (d *dictObj) popLastLocked(c *call) optionalItem {
	for i := len(d.keys) - 1; i >= 0; i-- {
		if k := d.keys[i]; k != nil {
			v := d.vals[i]
			d.deleteLocked(c, i)
			// Drop the dead tail, so that the next popitem does not walk it.
			for len(d.keys) > 0 && d.keys[len(d.keys)-1] == nil {
				d.keys, d.vals = d.keys[:len(d.keys)-1], d.vals[:len(d.vals)-1]
				d.dead--
			}
			return optionalItem{Found: true, Key: k, Value: v}
		}
	}
	return optionalItem{}
}

// optionalItem is a key and its value, which may be absent.
type optionalItem struct {
	_     struct{} `cbor:",toarray"`
	Found bool
	Key   cbor.RawMessage
	Value cbor.RawMessage
}

func (d *dictObj) setLocked(c *call, k, v cbor.RawMessage) {
	c.retain(v)
	if i, ok := d.index[string(k)]; ok {
		c.release(d.vals[i])
		d.vals[i] = v
		return
	}
	c.retain(k)
	d.index[string(k)] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

func (d *dictObj) deleteLocked(c *call, i int) {
	c.release(d.keys[i])
	c.release(d.vals[i])
	delete(d.index, string(d.keys[i]))
	d.keys[i], d.vals[i] = nil, nil
	d.dead++
	if d.dead > 32 && d.dead > len(d.keys)/2 {
		d.compactLocked()
	}
}

// compactLocked drops deleted positions.
func (d *dictObj) compactLocked() {
	keys, vals := d.keys[:0], d.vals[:0]
	for i, k := range d.keys {
		if k != nil {
			d.index[string(k)] = len(keys)
			keys, vals = append(keys, k), append(vals, d.vals[i])
		}
	}
	clear(d.keys[len(keys):])
	clear(d.vals[len(vals):])
	d.keys, d.vals, d.dead = keys, vals, 0
}

func (d *dictObj) eachLocked(f func(k, v cbor.RawMessage)) {
	for i, k := range d.keys {
		if k != nil {
			f(k, d.vals[i])
		}
	}
}

// listLocked returns the keys, values or [key, value] pairs, in order.
func (d *dictObj) listLocked(what string) any {
	switch what {
	case "keys":
		out := make([]cbor.RawMessage, 0, len(d.index))
		d.eachLocked(func(k, _ cbor.RawMessage) { out = append(out, k) })
		return out
	case "values":
		out := make([]cbor.RawMessage, 0, len(d.index))
		d.eachLocked(func(_, v cbor.RawMessage) { out = append(out, v) })
		return out
	}
	out := make([][2]cbor.RawMessage, 0, len(d.index))
	d.eachLocked(func(k, v cbor.RawMessage) { out = append(out, [2]cbor.RawMessage{k, v}) })
	return out
}
