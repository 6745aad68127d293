package cluster

import (
	"bytes"
	"context"
	"fmt"
	"reflect"

	"github.com/nats-io/nats.go/jetstream"
)

// Dict is a map shared by every process that opens its name on the same
// engine (Python: a manager's dict). It is a key-value bucket: each key
// is the base64url text of the key's encoding, each value its encoding,
// and every write gets a revision, a number that grows with each write to
// the bucket.
//
// Each method is one or a few requests to the engine. Single-key methods
// are atomic: SetDefault, Delete, Pop and CompareAndSwap write only if the
// key is still as they read it, and read again if not. Methods over the
// whole dict (Len, Keys, Values, Items, Copy, Update, Clear) are not: they
// see or make the changes of other processes one key at a time.
//
// A read or write under way when the engine's process dies waits for it to
// be started again and is made again; a write sent twice is stored once.
// The listing methods (Len, Keys, Values, Items, Copy) are not made again.
//
// Two keys are the same key if their encodings are equal; for the usual
// key types (strings, integers, structs of them) that is Go's ==.
//
// A *Dict is safe for concurrent use. It holds nothing to close: the dict
// lives on the engine until Remove.
type Dict[K comparable, V any] struct {
	name string
	js   jetstream.JetStream
	kv   jetstream.KeyValue
	st   kvStore // kv, for reads and writes that survive the engine's death
}

// Item is a key of a Dict with its value.
type Item[K comparable, V any] struct {
	Key   K
	Value V
}

// NewDict opens the dict named name on c, making it empty if it does not
// exist. It panics if K's or V's values would lose data between processes.
func NewDict[K comparable, V any](ctx context.Context, c *Cluster, name string) (*Dict[K, V], error) {
	checkType[K]("dict key type")
	checkType[V]("dict value type")
	return openDict[K, V](ctx, c, dictBucketPrefix+escapeName("dict", name), name)
}

// openDict opens the dict in bucket.
func openDict[K comparable, V any](ctx context.Context, c *Cluster, bucket, name string) (*Dict[K, V], error) {
	kv, err := openBucket(ctx, c, bucket)
	if err != nil {
		return nil, err
	}
	st, err := newKVStore(ctx, c, kv)
	if err != nil {
		return nil, err
	}
	return &Dict[K, V]{name: name, js: c.js, kv: kv, st: st}, nil
}

func (d *Dict[K, V]) error(what string, err error) error {
	return engineError(fmt.Sprintf("dict %q: %s", d.name, what), err)
}

// Name returns the dict's name.
func (d *Dict[K, V]) Name() string { return d.name }

// entry returns k's key and its entry, nil if k is not there.
func (d *Dict[K, V]) entry(ctx context.Context, k K) (string, jetstream.KeyValueEntry, error) {
	key, err := encodeKey(k)
	if err != nil {
		return "", nil, err
	}
	e, err := d.st.get(ctx, key)
	if isAbsent(err) {
		return key, nil, nil
	}
	if err != nil {
		return key, nil, d.error("get", err)
	}
	return key, e, nil
}

// value decodes e's value.
func (d *Dict[K, V]) value(e jetstream.KeyValueEntry) (V, error) {
	var v V
	if err := decode(e.Value(), &v); err != nil {
		return v, fmt.Errorf("dict %q: key %q: %w", d.name, e.Key(), err)
	}
	return v, nil
}

// Get returns k's value, and whether k is there.
func (d *Dict[K, V]) Get(ctx context.Context, k K) (V, bool, error) {
	v, _, ok, err := d.Entry(ctx, k)
	return v, ok, err
}

// Entry returns k's value and revision, and whether k is there, for
// SetIfRevision.
func (d *Dict[K, V]) Entry(ctx context.Context, k K) (V, uint64, bool, error) {
	var zero V
	_, e, err := d.entry(ctx, k)
	if err != nil || e == nil {
		return zero, 0, false, err
	}
	v, err := d.value(e)
	return v, e.Revision(), err == nil, err
}

// Has reports whether k is there.
func (d *Dict[K, V]) Has(ctx context.Context, k K) (bool, error) {
	_, e, err := d.entry(ctx, k)
	return e != nil, err
}

// Set sets k to v (Python: d[k] = v) and returns when the engine has
// stored it.
func (d *Dict[K, V]) Set(ctx context.Context, k K, v V) error {
	_, err := d.put(ctx, k, v)
	return err
}

func (d *Dict[K, V]) put(ctx context.Context, k K, v V) (uint64, error) {
	key, err := encodeKey(k)
	if err != nil {
		return 0, err
	}
	data, err := encode(v)
	if err != nil {
		return 0, err
	}
	rev, err := d.st.put(ctx, key, data)
	if err != nil {
		return 0, d.error("set", err)
	}
	return rev, nil
}

// SetIfRevision sets k to v if k's revision is still rev (zero: if k is
// not there), and returns the new revision and true; it returns false,
// and writes nothing, if another write came between.
func (d *Dict[K, V]) SetIfRevision(ctx context.Context, k K, v V, rev uint64) (uint64, bool, error) {
	key, err := encodeKey(k)
	if err != nil {
		return 0, false, err
	}
	data, err := encode(v)
	if err != nil {
		return 0, false, err
	}
	return d.update(ctx, key, data, rev)
}

// update writes data to key if its last write is rev; rev 0 also matches
// a deleted key, whose delete marker's revision Entry does not give.
func (d *Dict[K, V]) update(ctx context.Context, key string, data []byte, rev uint64) (uint64, bool, error) {
	n, err := d.st.update(ctx, key, data, rev)
	if isConflict(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, d.error("set", err)
	}
	return n, true, nil
}

// CompareAndSwap sets k to new if its value is old (compared by their
// encodings), atomically, and reports whether it did. A k that is not
// there does not match.
func (d *Dict[K, V]) CompareAndSwap(ctx context.Context, k K, old, new V) (bool, error) {
	want, err := encode(old)
	if err != nil {
		return false, err
	}
	data, err := encode(new)
	if err != nil {
		return false, err
	}
	for {
		key, e, err := d.entry(ctx, k)
		if err != nil || e == nil || !bytes.Equal(e.Value(), want) {
			return false, err
		}
		if _, ok, err := d.update(ctx, key, data, e.Revision()); ok || err != nil {
			return ok, err
		}
	}
}

// SetDefault sets k to v if k is not there, and returns k's value
// (Python: d.setdefault(k, v)).
func (d *Dict[K, V]) SetDefault(ctx context.Context, k K, v V) (V, error) {
	data, err := encode(v)
	if err != nil {
		return v, err
	}
	for {
		key, e, err := d.entry(ctx, k)
		if err != nil {
			return v, err
		}
		if e != nil {
			return d.value(e)
		}
		if _, ok, err := d.update(ctx, key, data, 0); ok || err != nil {
			return v, err
		}
	}
}

// Delete removes k and reports whether it was there (Python: del d[k]).
func (d *Dict[K, V]) Delete(ctx context.Context, k K) (bool, error) {
	_, ok, err := d.Pop(ctx, k)
	return ok, err
}

// Pop removes k and returns its value, and whether it was there.
func (d *Dict[K, V]) Pop(ctx context.Context, k K) (V, bool, error) {
	var zero V
	for {
		key, e, err := d.entry(ctx, k)
		if err != nil || e == nil {
			return zero, false, err
		}
		rev := e.Revision()
		err = d.st.delete(ctx, key, &rev)
		if isConflict(err) {
			continue
		}
		if err != nil {
			return zero, false, d.error("delete", err)
		}
		v, err := d.value(e)
		return v, true, err
	}
}

// scan calls fn with every entry there, one at a time, from a snapshot
// the engine sends.
func (d *Dict[K, V]) scan(ctx context.Context, metaOnly bool, fn func(jetstream.KeyValueEntry) error) error {
	opts := []jetstream.WatchOpt{jetstream.IgnoreDeletes()}
	if metaOnly {
		opts = append(opts, jetstream.MetaOnly())
	}
	w, err := d.kv.WatchAll(ctx, opts...)
	if err != nil {
		return d.error("list", err)
	}
	defer w.Stop()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return d.error("list", ErrClosed)
			}
			if e == nil {
				return nil
			}
			if err := fn(e); err != nil {
				return err
			}
		case <-ctx.Done():
			return d.error("list", ctx.Err())
		}
	}
}

// Len returns the number of keys. It reads every key's name.
func (d *Dict[K, V]) Len(ctx context.Context) (int, error) {
	n := 0
	err := d.scan(ctx, true, func(jetstream.KeyValueEntry) error { n++; return nil })
	return n, err
}

// Keys returns the keys, in the order of their last writes.
func (d *Dict[K, V]) Keys(ctx context.Context) ([]K, error) {
	var keys []K
	err := d.scan(ctx, true, func(e jetstream.KeyValueEntry) error {
		var k K
		if err := decodeKey(e.Key(), &k); err != nil {
			return fmt.Errorf("dict %q: %w", d.name, err)
		}
		keys = append(keys, k)
		return nil
	})
	return keys, err
}

// Items returns the keys with their values, in the order of their last
// writes.
func (d *Dict[K, V]) Items(ctx context.Context) ([]Item[K, V], error) {
	var items []Item[K, V]
	err := d.scan(ctx, false, func(e jetstream.KeyValueEntry) error {
		var it Item[K, V]
		if err := decodeKey(e.Key(), &it.Key); err != nil {
			return fmt.Errorf("dict %q: %w", d.name, err)
		}
		v, err := d.value(e)
		it.Value = v
		items = append(items, it)
		return err
	})
	return items, err
}

// Values returns the values, in the order of their keys' last writes.
func (d *Dict[K, V]) Values(ctx context.Context) ([]V, error) {
	items, err := d.Items(ctx)
	vs := make([]V, len(items))
	for i, it := range items {
		vs[i] = it.Value
	}
	return vs, err
}

// Copy returns the contents as a map.
func (d *Dict[K, V]) Copy(ctx context.Context) (map[K]V, error) {
	items, err := d.Items(ctx)
	m := make(map[K]V, len(items))
	for _, it := range items {
		m[it.Key] = it.Value
	}
	return m, err
}

// Update sets every key of m to its value, one key at a time.
func (d *Dict[K, V]) Update(ctx context.Context, m map[K]V) error {
	for k, v := range m {
		if err := d.Set(ctx, k, v); err != nil {
			return err
		}
	}
	return nil
}

// Clear deletes every key there when it starts, one at a time; a key set
// meanwhile may stay.
func (d *Dict[K, V]) Clear(ctx context.Context) error {
	var keys []string
	if err := d.scan(ctx, true, func(e jetstream.KeyValueEntry) error {
		keys = append(keys, e.Key())
		return nil
	}); err != nil {
		return err
	}
	for _, key := range keys {
		if err := d.st.delete(ctx, key, nil); err != nil {
			return d.error("clear", err)
		}
	}
	return nil
}

// Remove deletes the dict from the engine, for every process that uses
// it.
func (d *Dict[K, V]) Remove(ctx context.Context) error {
	if err := d.js.DeleteKeyValue(ctx, d.kv.Bucket()); err != nil {
		return d.error("remove", err)
	}
	return nil
}

// Add adds delta to k's value, atomically, and returns the sum; a k that
// is not there counts as zero. It panics if V is not an integer or
// floating-point type.
func (d *Dict[K, V]) Add(ctx context.Context, k K, delta V) (V, error) {
	if !isNumber(reflect.TypeFor[V]()) {
		panic(fmt.Sprintf("cluster: Dict[%v, %v].Add: not a number type", reflect.TypeFor[K](), reflect.TypeFor[V]()))
	}
	for {
		v, rev, _, err := d.Entry(ctx, k)
		if err != nil {
			return v, err
		}
		sum := add(v, delta)
		if _, ok, err := d.SetIfRevision(ctx, k, sum, rev); ok || err != nil {
			return sum, err
		}
	}
}

// PopItem removes some key and returns it with its value, and false if
// the dict is empty (Python: popitem, which raises KeyError then).
func (d *Dict[K, V]) PopItem(ctx context.Context) (Item[K, V], bool, error) {
	for {
		keys, err := d.Keys(ctx)
		if err != nil || len(keys) == 0 {
			return Item[K, V]{}, false, err
		}
		k := keys[len(keys)-1]
		v, ok, err := d.Pop(ctx, k)
		if ok || err != nil {
			return Item[K, V]{Key: k, Value: v}, ok, err
		}
	}
}
