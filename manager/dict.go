package manager

import (
	"context"

	"github.com/fxamacker/cbor/v2"
)

// Dict is a proxy to a dict held by a manager server (Python: a
// DictProxy). Keys keep their insertion order. Keys and values travel in
// mp's codec; keys are compared by their encoding, so K should be a type
// whose encoding is unique (numbers, strings, structs of those; not maps).
// A value may hold proxies (a dict of lists): the dict keeps their objects
// alive. Every method is one round trip to the server; a *Dict is safe for
// concurrent use.
type Dict[K comparable, V any] struct{ ref }

// Item is one key and value of a Dict.
type Item[K comparable, V any] struct {
	_     struct{} `cbor:",toarray"`
	Key   K
	Value V
}

// optionalOf is a value that may be absent, as the server sends it.
type optionalOf[V any] struct {
	_     struct{} `cbor:",toarray"`
	Found bool
	Value V
}

// NewDict makes a dict in the server, filled from init (which may be nil),
// and returns a proxy to it (Python: manager.dict(init)).
func NewDict[K comparable, V any](ctx context.Context, c *Client, init map[K]V) (*Dict[K, V], error) {
	d := new(Dict[K, V])
	a := createArgs{Kind: KindDict}
	if len(init) > 0 {
		raw, err := encode(items(init))
		if err != nil {
			return nil, err
		}
		a.Init = raw
	}
	if err := create(ctx, c, d, a); err != nil {
		return nil, err
	}
	return d, nil
}

func items[K comparable, V any](m map[K]V) []Item[K, V] {
	out := make([]Item[K, V], 0, len(m))
	for k, v := range m {
		out = append(out, Item[K, V]{Key: k, Value: v})
	}
	return out
}

func (d *Dict[K, V]) accepts(k Kind) bool { return k == KindDict }

func (d *Dict[K, V]) itemTypes() []string { return []string{typeName[K](), typeName[V]()} }

// UnmarshalCBOR is plumbing: it decodes a Dict that arrived from another
// process, as part of a message; not for direct use.
func (d *Dict[K, V]) UnmarshalCBOR(data []byte) error {
	return d.decodeTyped(data, d.itemTypes(), KindDict)
}

// Get returns the value under k, and whether there is one (Python: d.get(k)).
func (d *Dict[K, V]) Get(ctx context.Context, k K) (V, bool, error) {
	var o optionalOf[V]
	err := d.call(ctx, "get", callOpts{}, &o, k)
	return o.Value, o.Found, err
}

// Set sets the value under k (Python: d[k] = v).
func (d *Dict[K, V]) Set(ctx context.Context, k K, v V) error {
	return d.call(ctx, "set", callOpts{}, nil, k, v)
}

// Delete removes k and reports whether it was there (Python: del d[k]).
func (d *Dict[K, V]) Delete(ctx context.Context, k K) (bool, error) {
	var o optionalOf[cbor.RawMessage]
	err := d.call(ctx, "delete", callOpts{}, &o, k)
	return o.Found, err
}

// Pop removes k and returns its value, and whether it was there.
//
// A value that does not decode as a V (set through a Dict[K, any]) is put
// back under k (at the end of the order), and Pop returns an error
// matching ErrWrongType.
func (d *Dict[K, V]) Pop(ctx context.Context, k K) (V, bool, error) {
	var v V
	var o optionalOf[cbor.RawMessage]
	if err := d.call(ctx, "pop", callOpts{}, &o, k); err != nil || !o.Found {
		return v, false, err
	}
	if derr := decode(o.Value, &v); derr != nil {
		return v, false, undoTake[V](ctx, "the value popped", derr, func(ctx context.Context) error {
			return d.call(ctx, "setdefault", callOpts{}, nil, k, o.Value)
		})
	}
	return v, true, nil
}

// Has reports whether k is in the dict (Python: k in d).
func (d *Dict[K, V]) Has(ctx context.Context, k K) (bool, error) {
	var ok bool
	err := d.call(ctx, "has", callOpts{}, &ok, k)
	return ok, err
}

// Len returns the number of keys.
func (d *Dict[K, V]) Len(ctx context.Context) (int, error) {
	var n int
	err := d.call(ctx, "len", callOpts{}, &n)
	return n, err
}

// Keys returns the keys, in insertion order.
func (d *Dict[K, V]) Keys(ctx context.Context) ([]K, error) {
	var out []K
	err := d.call(ctx, "keys", callOpts{}, &out)
	return out, err
}

// Values returns the values, in the order of their keys.
func (d *Dict[K, V]) Values(ctx context.Context) ([]V, error) {
	var out []V
	err := d.call(ctx, "values", callOpts{}, &out)
	return out, err
}

// Items returns the keys and values, in insertion order.
func (d *Dict[K, V]) Items(ctx context.Context) ([]Item[K, V], error) {
	var out []Item[K, V]
	err := d.call(ctx, "items", callOpts{}, &out)
	return out, err
}

// Copy returns the dict's contents as a Go map (Python: d.copy()).
func (d *Dict[K, V]) Copy(ctx context.Context) (map[K]V, error) {
	its, err := d.Items(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[K]V, len(its))
	for _, it := range its {
		m[it.Key] = it.Value
	}
	return m, nil
}

// Update sets every key of m, in one round trip.
func (d *Dict[K, V]) Update(ctx context.Context, m map[K]V) error {
	return d.call(ctx, "update", callOpts{}, nil, items(m))
}

// PopItem removes the key inserted last and returns it with its value,
// and whether there was one (Python: d.popitem(), which raises KeyError on
// an empty dict).
//
// A key or value that does not decode (set through a Dict[any, any]) is
// put back, and PopItem returns an error matching ErrWrongType.
func (d *Dict[K, V]) PopItem(ctx context.Context) (Item[K, V], bool, error) {
	var it Item[K, V]
	var o struct {
		_     struct{} `cbor:",toarray"`
		Found bool
		Key   cbor.RawMessage
		Value cbor.RawMessage
	}
	if err := d.call(ctx, "popitem", callOpts{}, &o); err != nil || !o.Found {
		return it, false, err
	}
	derr := decode(o.Key, &it.Key)
	if derr == nil {
		derr = decode(o.Value, &it.Value)
	}
	if derr != nil {
		return Item[K, V]{}, false, undoTake[Item[K, V]](ctx, "the item popped", derr, func(ctx context.Context) error {
			return d.call(ctx, "setdefault", callOpts{}, nil, o.Key, o.Value)
		})
	}
	return it, true, nil
}

// SetDefault returns the value under k, first setting it to v if k is not
// there.
func (d *Dict[K, V]) SetDefault(ctx context.Context, k K, v V) (V, error) {
	var out V
	err := d.call(ctx, "setdefault", callOpts{}, &out, k, v)
	return out, err
}

// Clear removes every key.
func (d *Dict[K, V]) Clear(ctx context.Context) error {
	return d.call(ctx, "clear", callOpts{}, nil)
}

// Add adds delta to the number under k (a missing key counts as zero) and
// returns the sum, atomically: a counter shared by many processes needs no
// lock (beyond Python, where d[k] -= 1 is a get and a set that race). V
// must be a number type; otherwise the error matches ErrNotNumber.
func (d *Dict[K, V]) Add(ctx context.Context, k K, delta V) (V, error) {
	var out V
	err := d.call(ctx, "add", callOpts{}, &out, k, delta)
	return out, err
}

// CompareAndSwap sets the value under k to new if it is old (compared by
// encoding), atomically, and reports whether it did. A missing key never
// matches.
func (d *Dict[K, V]) CompareAndSwap(ctx context.Context, k K, old, new V) (bool, error) {
	var ok bool
	err := d.call(ctx, "cas", callOpts{}, &ok, k, old, new)
	return ok, err
}
