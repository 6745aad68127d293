package mp

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"reflect"
	"sync"

	"github.com/mpgo/mp/internal/proc"
	"github.com/mpgo/mp/internal/queue"
	"github.com/mpgo/mp/internal/wire"
)

// PriorityQueue is a queue between processes that hands out its smallest
// item first: Python's queue.PriorityQueue, which only works between
// threads, made process-safe. Items of equal priority come out in the order
// they were put. It is a handle, safe for concurrent use, usable with Wait.
//
// The order is the natural one of a cmp.Ordered item type
// (NewPriorityQueue), or an Order registered by name (NewPriorityQueueFunc),
// so that every process that receives the queue orders items the same way.
// The items live in shared memory as a sorted index; a Put decodes about
// log2(n) items to find its place and moves the index entries behind it,
// which suits queues of up to some ten thousand items. Like LifoQueue's,
// its items cannot hold handles and must fit its 1 MiB of shared memory.
type PriorityQueue[T any] struct {
	c     *queue.Core
	order string
	less  func(a, b T) bool
}

// Order is a way of ordering items of type T, registered under a name with
// RegisterOrder so that other processes find it.
type Order[T any] struct {
	name string
	less func(a, b T) bool
}

// orders holds the registered orders by name.
var orders = struct {
	sync.RWMutex
	m map[string]any
}{m: map[string]any{}}

// RegisterOrder registers less, which reports whether a comes out of a
// PriorityQueue before b, under name, and returns the Order to pass to
// NewPriorityQueueFunc. Call it at package level, like Register: a process
// that receives the queue finds the order by name in its own copy of the
// binary. It panics if name is taken or Main has already run.
func RegisterOrder[T any](name string, less func(a, b T) bool) Order[T] {
	if less == nil || name == "" {
		panic("mp: RegisterOrder needs a name and a function")
	}
	if proc.MainCalled() {
		panic(fmt.Sprintf("mp: RegisterOrder(%q) after mp.Main: register orders at package level", name))
	}
	orders.Lock()
	defer orders.Unlock()
	if _, dup := orders.m[name]; dup {
		panic(fmt.Sprintf("mp: order %q registered twice", name))
	}
	orders.m[name] = less
	return Order[T]{name: name, less: less}
}

// NewPriorityQueue returns a new PriorityQueue of items ordered by <
// (cmp.Less), holding at most maxsize items (≤ 0: as many as fit).
func NewPriorityQueue[T cmp.Ordered](maxsize int) (*PriorityQueue[T], error) {
	return newPriorityQueue(maxsize, "", cmp.Less[T])
}

// NewPriorityQueueFunc returns a new PriorityQueue of items ordered by
// order, holding at most maxsize items (≤ 0: as many as fit). It panics if
// T has a struct with an unexported field (see ErrUnencodable).
func NewPriorityQueueFunc[T any](maxsize int, order Order[T]) (*PriorityQueue[T], error) {
	if order.less == nil {
		panic("mp: NewPriorityQueueFunc with a zero Order: use the value RegisterOrder returned")
	}
	return newPriorityQueue(maxsize, order.name, order.less)
}

func newPriorityQueue[T any](maxsize int, name string, less func(a, b T) bool) (*PriorityQueue[T], error) {
	mustTravelItems[T]("NewPriorityQueue")
	c, err := queue.New(queue.Priority, maxsize, queue.DefaultCapacity, false)
	if err != nil {
		return nil, err
	}
	return &PriorityQueue[T]{c: c, order: name, less: less}, nil
}

func (q *PriorityQueue[T]) core() *queue.Core {
	if q == nil || q.c == nil {
		panic("mp: use of a PriorityQueue not made by NewPriorityQueue")
	}
	return q.c
}

// Put adds v, waiting while the queue is full; if ctx ends first, it
// returns an error that matches both ErrFull and ctx's error.
func (q *PriorityQueue[T]) Put(ctx context.Context, v T) error { return q.put(ctx, v, true) }

// TryPut adds v if there is room, else returns ErrFull.
func (q *PriorityQueue[T]) TryPut(v T) error { return q.put(context.Background(), v, false) }

func (q *PriorityQueue[T]) put(ctx context.Context, v T, wait bool) error {
	c := q.core()
	it, err := encodeItem(v)
	if err != nil {
		return err
	}
	if it.Raw { // items are compared decoded: no raw bytes here
		if it.Data, _, err = wire.Marshal(v); err != nil {
			return fmt.Errorf("mp: encode a queue item: %w", err)
		}
		it.Raw = false
	}
	it.After = func(existing []byte) bool {
		var e T
		if wire.Unmarshal(existing, nil, &e) != nil {
			return false
		}
		return q.less(v, e)
	}
	return c.Put(ctx, it, wait)
}

// Get removes and returns the smallest item, waiting for one; if ctx ends
// first, it returns an error that matches both ErrEmpty and ctx's error.
func (q *PriorityQueue[T]) Get(ctx context.Context) (T, error) {
	return getItem[T](ctx, q.core(), true)
}

// TryGet removes and returns the smallest item, or returns ErrEmpty.
func (q *PriorityQueue[T]) TryGet() (T, error) {
	return getItem[T](context.Background(), q.core(), false)
}

// Len returns the number of items in the queue.
func (q *PriorityQueue[T]) Len() int { return q.core().Len() }

// Empty reports whether the queue holds no item.
func (q *PriorityQueue[T]) Empty() bool { return q.core().Empty() }

// Full reports whether a bounded queue holds maxsize items.
func (q *PriorityQueue[T]) Full() bool { return q.core().Full() }

// Close releases this handle in this process. It is safe to call twice.
func (q *PriorityQueue[T]) Close() error { return q.core().Close() }

// All returns an iterator over the items, got one at a time as Get gets
// them, that ends when the queue has been shut down and no item is left;
// see Queue.All.
func (q *PriorityQueue[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return allItems[T](ctx, q.core())
}

// Shutdown shuts the queue down for every process that holds it: Put
// returns ErrShutDown, Get returns the items left and then ErrShutDown;
// see Queue.Shutdown.
func (q *PriorityQueue[T]) Shutdown() error { return q.core().Shutdown(false) }

// ShutdownNow shuts the queue down and discards the items left; see
// Queue.ShutdownNow.
func (q *PriorityQueue[T]) ShutdownNow() error { return q.core().Shutdown(true) }

// MarshalCBOR is plumbing: part of how a PriorityQueue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *PriorityQueue[T]) MarshalCBOR() ([]byte, error) {
	return marshalCore(q.core(), priorityQueueTag, &queueMeta{Order: q.order})
}

// UnmarshalCBOR is plumbing: part of how a PriorityQueue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *PriorityQueue[T]) UnmarshalCBOR(data []byte) error {
	var meta queueMeta
	c, err := unmarshalCore(data, priorityQueueTag, queue.Priority, false, &meta)
	if err != nil {
		return err
	}
	less, err := findOrder[T](meta.Order)
	if err != nil {
		c.Close()
		return err
	}
	*q = PriorityQueue[T]{c: c, order: meta.Order, less: less}
	return nil
}

func (q *PriorityQueue[T]) waitFD() int { return q.core().WaitFD() }

// findOrder returns the order registered as name, or for "" the natural
// order of an ordered type.
func findOrder[T any](name string) (func(a, b T) bool, error) {
	if name == "" {
		less := naturalLess[T]()
		if less == nil {
			return nil, fmt.Errorf("%w: a PriorityQueue of %v without an order", ErrProtocol, reflect.TypeFor[T]())
		}
		return less, nil
	}
	orders.RLock()
	fn, ok := orders.m[name]
	orders.RUnlock()
	if !ok {
		return nil, fmt.Errorf("mp: PriorityQueue order %q is not registered in this binary; register it at package level with mp.RegisterOrder", name)
	}
	less, ok := fn.(func(a, b T) bool)
	if !ok {
		return nil, fmt.Errorf("mp: PriorityQueue order %q orders %T, not %v", name, fn, reflect.TypeFor[T]())
	}
	return less, nil
}

// naturalLess returns cmp.Less for T, whose type parameter here is not
// constrained to cmp.Ordered: it compares by the underlying kind. It
// returns nil if T is not ordered.
func naturalLess[T any]() func(a, b T) bool {
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(a, b T) bool { return reflect.ValueOf(a).Int() < reflect.ValueOf(b).Int() }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(a, b T) bool { return reflect.ValueOf(a).Uint() < reflect.ValueOf(b).Uint() }
	case reflect.Float32, reflect.Float64:
		return func(a, b T) bool { return cmp.Less(reflect.ValueOf(a).Float(), reflect.ValueOf(b).Float()) }
	case reflect.String:
		return func(a, b T) bool { return reflect.ValueOf(a).String() < reflect.ValueOf(b).String() }
	}
	return nil
}
