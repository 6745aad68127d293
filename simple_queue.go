package mp

import (
	"context"
	"iter"

	"github.com/mpgo/mp/internal/queue"
)

// SimpleQueue is a plain first-in, first-out queue between processes
// (Python: multiprocessing.SimpleQueue): no size limit, no buffering in
// the producer: Put waits while the shared ring (1 MiB) is full. It is
// otherwise a Queue: a handle, safe for concurrent use, usable with Wait.
type SimpleQueue[T any] struct {
	c *queue.Core
}

// NewSimpleQueue returns a new SimpleQueue. It panics if T has a struct
// with an unexported field (see ErrUnencodable).
func NewSimpleQueue[T any]() (*SimpleQueue[T], error) {
	mustTravelItems[T]("NewSimpleQueue")
	c, err := queue.New(queue.FIFO, 0, queue.DefaultCapacity, false)
	if err != nil {
		return nil, err
	}
	return &SimpleQueue[T]{c: c}, nil
}

func (q *SimpleQueue[T]) core() *queue.Core {
	if q == nil || q.c == nil {
		panic("mp: use of a SimpleQueue not made by NewSimpleQueue")
	}
	return q.c
}

// Put adds v, waiting while the shared ring is full; if ctx ends first, it
// returns an error that matches both ErrFull and ctx's error.
func (q *SimpleQueue[T]) Put(ctx context.Context, v T) error {
	return putItem(ctx, q.core(), v, true)
}

// Get removes and returns the next item, waiting for one; if ctx ends
// first, it returns an error that matches both ErrEmpty and ctx's error.
func (q *SimpleQueue[T]) Get(ctx context.Context) (T, error) {
	return getItem[T](ctx, q.core(), true)
}

// Empty reports whether the queue holds no item.
func (q *SimpleQueue[T]) Empty() bool { return q.core().Empty() }

// Close releases this handle in this process. Blocked calls on it return
// ErrClosed. It is safe to call twice.
func (q *SimpleQueue[T]) Close() error { return q.core().Close() }

// All returns an iterator over the items, got one at a time as Get gets
// them, that ends when the queue has been shut down and no item is left;
// see Queue.All.
func (q *SimpleQueue[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return allItems[T](ctx, q.core())
}

// Shutdown shuts the queue down for every process that holds it: Put
// returns ErrShutDown, Get returns the items left and then ErrShutDown;
// see Queue.Shutdown.
func (q *SimpleQueue[T]) Shutdown() error { return q.core().Shutdown(false) }

// ShutdownNow shuts the queue down and discards the items left; see
// Queue.ShutdownNow.
func (q *SimpleQueue[T]) ShutdownNow() error { return q.core().Shutdown(true) }

// MarshalCBOR is plumbing: part of how a SimpleQueue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *SimpleQueue[T]) MarshalCBOR() ([]byte, error) {
	return marshalCore(q.core(), simpleQueueTag, nil)
}

// UnmarshalCBOR is plumbing: part of how a SimpleQueue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *SimpleQueue[T]) UnmarshalCBOR(data []byte) error {
	c, err := unmarshalCore(data, simpleQueueTag, queue.FIFO, false, nil)
	if err == nil {
		q.c = c
	}
	return err
}

func (q *SimpleQueue[T]) waitFD() int { return q.core().WaitFD() }
