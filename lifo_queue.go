package mp

import (
	"context"
	"iter"

	"github.com/mpgo/mp/internal/queue"
)

// LifoQueue is a last-in, first-out queue (a stack) between processes:
// Python's queue.LifoQueue, which only works between threads, made
// process-safe. It is a handle, safe for concurrent use, usable with Wait.
//
// Its items live in shared memory only (1 MiB, used as far as it is
// filled), so they cannot hold handles (Put returns an error), an item
// must fit that memory, and Put waits while the memory is full even on an
// unbounded queue: buffering items in the producer would break the order.
type LifoQueue[T any] struct {
	c *queue.Core
}

// NewLifoQueue returns a new LifoQueue that holds at most maxsize items
// (≤ 0: as many as fit). It panics if T has a struct with an unexported
// field (see ErrUnencodable).
func NewLifoQueue[T any](maxsize int) (*LifoQueue[T], error) {
	mustTravelItems[T]("NewLifoQueue")
	c, err := queue.New(queue.LIFO, maxsize, queue.DefaultCapacity, false)
	if err != nil {
		return nil, err
	}
	return &LifoQueue[T]{c: c}, nil
}

func (q *LifoQueue[T]) core() *queue.Core {
	if q == nil || q.c == nil {
		panic("mp: use of a LifoQueue not made by NewLifoQueue")
	}
	return q.c
}

// Put pushes v, waiting while the queue is full; if ctx ends first, it
// returns an error that matches both ErrFull and ctx's error.
func (q *LifoQueue[T]) Put(ctx context.Context, v T) error { return putItem(ctx, q.core(), v, true) }

// TryPut pushes v if there is room, else returns ErrFull.
func (q *LifoQueue[T]) TryPut(v T) error {
	return putItem(context.Background(), q.core(), v, false)
}

// Get pops the item put last, waiting for one; if ctx ends first, it
// returns an error that matches both ErrEmpty and ctx's error.
func (q *LifoQueue[T]) Get(ctx context.Context) (T, error) { return getItem[T](ctx, q.core(), true) }

// TryGet pops the item put last, or returns ErrEmpty.
func (q *LifoQueue[T]) TryGet() (T, error) {
	return getItem[T](context.Background(), q.core(), false)
}

// Len returns the number of items in the queue.
func (q *LifoQueue[T]) Len() int { return q.core().Len() }

// Empty reports whether the queue holds no item.
func (q *LifoQueue[T]) Empty() bool { return q.core().Empty() }

// Full reports whether a bounded queue holds maxsize items.
func (q *LifoQueue[T]) Full() bool { return q.core().Full() }

// Close releases this handle in this process. It is safe to call twice.
func (q *LifoQueue[T]) Close() error { return q.core().Close() }

// All returns an iterator over the items, got one at a time as Get gets
// them, that ends when the queue has been shut down and no item is left;
// see Queue.All.
func (q *LifoQueue[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return allItems[T](ctx, q.core())
}

// Shutdown shuts the queue down for every process that holds it: Put
// returns ErrShutDown, Get returns the items left and then ErrShutDown;
// see Queue.Shutdown.
func (q *LifoQueue[T]) Shutdown() error { return q.core().Shutdown(false) }

// ShutdownNow shuts the queue down and discards the items left; see
// Queue.ShutdownNow.
func (q *LifoQueue[T]) ShutdownNow() error { return q.core().Shutdown(true) }

// MarshalCBOR is plumbing: part of how a LifoQueue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *LifoQueue[T]) MarshalCBOR() ([]byte, error) {
	return marshalCore(q.core(), lifoQueueTag, nil)
}

// UnmarshalCBOR is plumbing: part of how a LifoQueue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *LifoQueue[T]) UnmarshalCBOR(data []byte) error {
	c, err := unmarshalCore(data, lifoQueueTag, queue.LIFO, false, nil)
	if err == nil {
		q.c = c
	}
	return err
}

func (q *LifoQueue[T]) waitFD() int { return q.core().WaitFD() }
