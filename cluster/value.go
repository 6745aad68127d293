package cluster

import (
	"bytes"
	"context"
	"fmt"
	"reflect"

	"github.com/nats-io/nats.go/jetstream"
)

// Value is one value shared by every process that opens its name on the
// same engine (Python: a manager's Value). It is a key of the engine's
// MP_STATE bucket; every write gets a revision, and the read-modify-write
// methods (Swap, CompareAndSwap, Add) write only if the revision they read
// is still the last, reading again if not, so they are atomic across
// processes and machines. Under contention each retry costs two requests
// to the engine. A call under way when the engine's process dies waits
// for it to be started again and carries on, and changes the value once.
//
// A *Value is safe for concurrent use. It holds nothing to close.
type Value[T any] struct {
	name string
	cell cell
}

// NewValue opens the value named name on c, setting it to init if it does
// not exist (a value that exists keeps its value). It panics if T's values
// would lose data between processes.
func NewValue[T any](ctx context.Context, c *Cluster, name string, init T) (*Value[T], error) {
	checkType[T]("value type")
	cl, err := openCell(ctx, c, "value", name)
	if err != nil {
		return nil, err
	}
	data, err := encode(init)
	if err != nil {
		return nil, err
	}
	if _, err := cl.st.update(ctx, cl.key, data, 0); err != nil && !isConflict(err) {
		return nil, cl.error("create", err)
	}
	return &Value[T]{name: name, cell: cl}, nil
}

// Name returns the value's name.
func (p *Value[T]) Name() string { return p.name }

// Load returns the value (Python: v.value).
func (p *Value[T]) Load(ctx context.Context) (T, error) {
	var v T
	e, err := p.cell.get(ctx)
	if err != nil || e == nil {
		return v, err
	}
	err = decode(e.Value(), &v)
	return v, err
}

// Store sets the value (Python: v.value = x).
func (p *Value[T]) Store(ctx context.Context, v T) error {
	data, err := encode(v)
	if err != nil {
		return err
	}
	if _, err := p.cell.st.put(ctx, p.cell.key, data); err != nil {
		return p.cell.error("store", err)
	}
	return nil
}

// Swap sets the value and returns the old one, atomically.
func (p *Value[T]) Swap(ctx context.Context, v T) (T, error) {
	data, err := encode(v)
	if err != nil {
		return v, err
	}
	var old T
	err = p.cell.modify(ctx, func(cur []byte) ([]byte, error) {
		return data, decode(cur, &old)
	})
	return old, err
}

// CompareAndSwap sets the value to new if it is old (compared by their
// encodings), atomically, and reports whether it did.
func (p *Value[T]) CompareAndSwap(ctx context.Context, old, new T) (bool, error) {
	want, err := encode(old)
	if err != nil {
		return false, err
	}
	data, err := encode(new)
	if err != nil {
		return false, err
	}
	swapped := false
	err = p.cell.modify(ctx, func(cur []byte) ([]byte, error) {
		swapped = bytes.Equal(cur, want)
		if !swapped {
			return nil, nil
		}
		return data, nil
	})
	return swapped, err
}

// Add adds delta to the value, atomically, and returns the sum. It panics
// if T is not an integer or floating-point type. Integers wrap around as
// in Go.
func (p *Value[T]) Add(ctx context.Context, delta T) (T, error) {
	if !isNumber(reflect.TypeFor[T]()) {
		panic(fmt.Sprintf("cluster: Value[%v].Add: not a number type", reflect.TypeFor[T]()))
	}
	var sum T
	err := p.cell.modify(ctx, func(cur []byte) ([]byte, error) {
		var v T
		if err := decode(cur, &v); err != nil {
			return nil, err
		}
		sum = add(v, delta)
		return encode(sum)
	})
	return sum, err
}

func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// add returns a+b for a number type.
func add[T any](a, b T) T {
	va, vb := reflect.ValueOf(&a).Elem(), reflect.ValueOf(b)
	switch {
	case va.CanInt():
		va.SetInt(va.Int() + vb.Int())
	case va.CanUint():
		va.SetUint(va.Uint() + vb.Uint())
	default:
		va.SetFloat(va.Float() + vb.Float())
	}
	return a
}

// cell is one key of the state bucket.
type cell struct {
	kind, name string
	key        string
	kv         jetstream.KeyValue
	st         kvStore // kv, for reads and writes that survive the engine's death
}

// openCell opens the key of the object of kind named name.
func openCell(ctx context.Context, c *Cluster, kind, name string) (cell, error) {
	kv, err := openBucket(ctx, c, stateBucket)
	if err != nil {
		return cell{}, err
	}
	st, err := newKVStore(ctx, c, kv)
	if err != nil {
		return cell{}, err
	}
	return cell{kind: kind, name: name, key: stateKey(kind, name), kv: kv, st: st}, nil
}

func (cl cell) error(what string, err error) error {
	return engineError(fmt.Sprintf("%s %q: %s", cl.kind, cl.name, what), err)
}

// get returns the key's entry, nil if it is not there.
func (cl cell) get(ctx context.Context) (jetstream.KeyValueEntry, error) {
	e, err := cl.st.get(ctx, cl.key)
	if isAbsent(err) {
		return nil, nil
	}
	if err != nil {
		return nil, cl.error("get", err)
	}
	return e, nil
}

// modify writes fn(current value) if no other write came between the read
// and the write, reading again until one does; fn returning nil data
// writes nothing. A key that is not there reads as an empty value.
func (cl cell) modify(ctx context.Context, fn func(cur []byte) ([]byte, error)) error {
	for {
		e, err := cl.get(ctx)
		if err != nil {
			return err
		}
		var cur []byte
		var rev uint64
		if e != nil {
			cur, rev = e.Value(), e.Revision()
		}
		data, err := fn(cur)
		if err != nil || data == nil {
			return err
		}
		_, err = cl.st.update(ctx, cl.key, data, rev)
		if !isConflict(err) {
			if err != nil {
				return cl.error("write", err)
			}
			return nil
		}
	}
}
