package mp

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/mpgo/mp/internal/queue"
	"github.com/mpgo/mp/internal/wire"
)

// Tags of the queue handles.
const (
	queueTag         = wire.TagBase + 0x10
	simpleQueueTag   = wire.TagBase + 0x11
	joinableQueueTag = wire.TagBase + 0x12
	lifoQueueTag     = wire.TagBase + 0x13
	priorityQueueTag = wire.TagBase + 0x14
)

// Queue is a first-in, first-out queue between processes (Python:
// multiprocessing.Queue). Make one with NewQueue; it is safe for concurrent
// use by any number of goroutines in any number of processes.
//
// A Queue is a handle: placed in a Process's argument, in a task sent to a
// running process or in a message on a Conn or another queue, it arrives as
// a working Queue on the same items. Wait accepts it: it is ready while the
// queue holds an item.
//
// # How it works, and what it costs
//
// Items live in shared memory mapped by every process that holds the
// queue: a 1 MiB ring for items up to 64 KiB and an 8 MiB ring for items up
// to 1 MiB (pages are used only once touched), guarded by a lock in that
// memory. An uncontended Put or Get takes no system call and costs about as
// much as encoding the item with mp's codec; a []byte item is not encoded
// at all. Items that hold handles (their descriptors must travel with
// SCM_RIGHTS) and items over 1 MiB go through a Unix socket instead, with a
// ticket in the ring that keeps their place in the order; those over 32 KiB
// cross in a memfd. A Get that finds the queue empty spins for a few
// microseconds, then sleeps on an eventfd in Go's poller, without holding a
// thread.
//
// # Ordering and failures
//
// Items put by one goroutine are got in the order they were put (FIFO per
// producer); items of different producers interleave in the order their
// Puts took the queue's lock. Each item is got exactly once. An item stays
// in shared memory until a Get removes it, and a Get removes it only once
// it has decoded it, as the last thing it does before it returns: a
// consumer killed between two Gets, or anywhere inside a Get before that
// point, leaves the item where it was (first in line) for the next Get,
// handles included; one killed after it holds the item, as it would hold
// any value. A Get decodes the item holding the queue's lock, so the
// UnmarshalCBOR method of an item type must not use the same queue. A
// process that dies holding the queue's lock (a Get or Put under way) does
// not block the others: the next one takes the lock over once it notices
// the death (as a Mutex's next owner does), and the queue goes on from its
// last complete change. A producer that dies with items still buffered (see
// below) loses them, as in Python, and they stay counted in Len and against
// maxsize until a JoinableQueue's Join, or a Get waiting on a queue that
// was shut down, finds the producer dead and writes them off.
//
// # Shutting down
//
// Shutdown ends a queue for every process that holds it, the way closing
// a channel does (Python 3.13: Queue.shutdown): Puts fail with ErrShutDown
// from then on, Gets return the items left and then ErrShutDown, and
// blocked Puts and Gets in every process wake up. All ranges over the
// items until then, so consumers need no sentinel value. ShutdownNow
// discards the items left instead. Close, by contrast, only releases one
// process's handle.
//
// # Buffered items
//
// As in Python, Put on an unbounded queue does not wait for consumers: when
// the ring is full, the item is kept in this process, and a goroutine of the
// Queue (Python's feeder thread) moves such items over in order as room
// appears.
// They count in Len, and Close, Flush and the end of a child process wait
// for them to reach the queue, unless CancelFlush was called. As in Python,
// this means a child that put more than the ring holds does not end until
// someone gets from the queue: get the items before waiting for the child.
// Python's feeder holds references to the objects put, while mp must copy
// them, so a handle buffers at most 16 MiB: past that, Put waits until the
// feeder has moved half of it. A process buffers only while it has one of
// the queue's 128 holder slots, which count what it buffers so that the
// others stop waiting for those items if it dies: with 128 other live
// processes getting from (a JoinableQueue) or buffering for the queue,
// a Put in one more waits for room in shared memory instead, as a
// SimpleQueue's does, and TryPut returns ErrFull.
type Queue[T any] struct {
	c *queue.Core
}

// NewQueue returns a new queue that holds at most maxsize items; maxsize ≤
// 0 means no limit (Python: Queue(maxsize)). It panics if T has a struct
// with an unexported field (see ErrUnencodable).
func NewQueue[T any](maxsize int) (*Queue[T], error) {
	mustTravelItems[T]("NewQueue")
	c, err := queue.New(queue.FIFO, maxsize, queue.DefaultCapacity, true)
	if err != nil {
		return nil, err
	}
	return &Queue[T]{c: c}, nil
}

func (q *Queue[T]) core() *queue.Core {
	if q == nil || q.c == nil {
		panic("mp: use of a Queue not made by NewQueue")
	}
	return q.c
}

// Put adds v to the queue. On a full bounded queue it waits for room; if
// ctx ends first, it returns an error that matches both ErrFull and ctx's
// error (Python: put(block=True, timeout)). Handles inside v travel with
// it. After Close it returns ErrClosed.
func (q *Queue[T]) Put(ctx context.Context, v T) error { return putItem(ctx, q.core(), v, true) }

// TryPut adds v if the queue has room, and returns ErrFull if it is full
// (Python: put_nowait).
func (q *Queue[T]) TryPut(v T) error {
	return putItem(context.Background(), q.core(), v, false)
}

// Get removes and returns the next item, waiting for one if the queue is
// empty; if ctx ends first, it returns an error that matches both ErrEmpty
// and ctx's error (Python: get(block=True, timeout)). On a queue that was
// shut down, it returns ErrShutDown once no item is left.
func (q *Queue[T]) Get(ctx context.Context) (T, error) { return getItem[T](ctx, q.core(), true) }

// TryGet removes and returns the next item, or returns ErrEmpty if there
// is none (Python: get_nowait), ErrShutDown if there is none and the queue
// was shut down.
func (q *Queue[T]) TryGet() (T, error) {
	return getItem[T](context.Background(), q.core(), false)
}

// All returns an iterator over the items of the queue, got one at a time
// as Get gets them, that ends when the queue has been shut down and no
// item is left: a range over it reads like a range over a channel. Any
// other error (ctx ended, an item that could not be decoded, the handle
// closed) is yielded with the zero T, and ends the iteration.
func (q *Queue[T]) All(ctx context.Context) iter.Seq2[T, error] { return allItems[T](ctx, q.core()) }

// Shutdown shuts the queue down for every process that holds it (Python
// 3.13: shutdown(immediate=False)): from then on Put returns ErrShutDown,
// and Get returns the items left, including those that producers still
// buffer, and then ErrShutDown. Puts and Gets blocked in any process wake
// up. The state lives in the queue's shared memory, so a handle sent
// after the shutdown sees it too. Shutdown does not release this handle
// (Close does); it returns ErrClosed after Close, and is safe to call
// twice.
func (q *Queue[T]) Shutdown() error { return q.core().Shutdown(false) }

// ShutdownNow shuts the queue down like Shutdown, and discards the items
// left, in shared memory and buffered by producers in any process: Get
// returns ErrShutDown at once (Python 3.13: shutdown(immediate=True)).
// Each item discarded counts as done for a JoinableQueue's Join.
func (q *Queue[T]) ShutdownNow() error { return q.core().Shutdown(true) }

// Len returns the number of items put and not yet got, including items
// still buffered by their producers (Python: qsize). Other processes may
// change it at any moment.
func (q *Queue[T]) Len() int { return q.core().Len() }

// Empty reports whether the queue holds no item ready to get (Python:
// empty). Like Len, it is a snapshot.
func (q *Queue[T]) Empty() bool { return q.core().Empty() }

// Full reports whether a bounded queue holds maxsize items (Python: full).
func (q *Queue[T]) Full() bool { return q.core().Full() }

// Flush waits until the items this handle buffered (see Queue) are in the
// shared queue, or ctx ends (Python: join_thread).
func (q *Queue[T]) Flush(ctx context.Context) error { return q.core().Flush(ctx) }

// CancelFlush makes Close, and the end of this process if it is a child,
// drop the items this handle still buffers instead of waiting for room for
// them (Python: cancel_join_thread).
func (q *Queue[T]) CancelFlush() { q.core().CancelFlush() }

// Close releases this handle in this process: it first waits for the items
// it buffered to reach the queue (see Flush, CancelFlush), then makes
// blocked calls on this handle return ErrClosed. Other handles on the same
// queue, here or in other processes, keep working: Shutdown ends the queue
// for all of them. Close is safe to call twice.
func (q *Queue[T]) Close() error { return q.core().Close() }

// MarshalCBOR is plumbing: part of how a Queue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *Queue[T]) MarshalCBOR() ([]byte, error) { return marshalCore(q.core(), queueTag, nil) }

// UnmarshalCBOR is plumbing: part of how a Queue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *Queue[T]) UnmarshalCBOR(data []byte) error {
	c, err := unmarshalCore(data, queueTag, queue.FIFO, true, nil)
	if err == nil {
		q.c = c
	}
	return err
}

// waitFD lets Wait poll the queue; it is ready while the queue holds an
// item, and once it was shut down.
func (q *Queue[T]) waitFD() int { return q.core().WaitFD() }

// putItem encodes v and puts it on c.
func putItem[T any](ctx context.Context, c *queue.Core, v T, wait bool) error {
	it, err := encodeItem(v)
	if err != nil {
		return err
	}
	return c.Put(ctx, it, wait)
}

// allItems gets items from c until the queue is shut down and empty, or
// an error (yielded) ends it.
func allItems[T any](ctx context.Context, c *queue.Core) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err := getItem[T](ctx, c, true)
			if errors.Is(err, ErrShutDown) {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// encodeItem encodes v; a []byte goes as it is (raw), without the codec.
func encodeItem[T any](v T) (queue.Item, error) {
	if b, ok := any(v).([]byte); ok {
		return queue.Item{Data: b, Raw: true}, nil
	}
	data, fds, err := wire.Marshal(v)
	if err != nil {
		return queue.Item{}, fmt.Errorf("mp: encode a queue item: %w", err)
	}
	return queue.Item{Data: data, FDs: fds}, nil
}

// getItem gets an item from c and decodes it. The item is decoded before
// the queue commits its removal (see queue.Core.Get), so that a process
// that dies here leaves the item in the queue.
func getItem[T any](ctx context.Context, c *queue.Core, wait bool) (T, error) {
	var v T
	err := c.Get(ctx, wait, func(it queue.Item) error {
		var err error
		v, err = decodeItem[T](it)
		return err
	})
	return v, err
}

// decodeItem decodes an item got from a queue.
func decodeItem[T any](it queue.Item) (T, error) {
	var v T
	if it.Raw {
		if p, ok := any(&v).(*[]byte); ok {
			*p = it.Data
			return v, nil
		}
		return v, fmt.Errorf("%w: a []byte item where a %T was expected", ErrProtocol, v)
	}
	if err := wire.Unmarshal(it.Data, it.FDs, &v); err != nil {
		return v, fmt.Errorf("mp: decode a queue item: %w", err)
	}
	return v, nil
}

// queueMeta is what travels with a queue handle's descriptors.
type queueMeta struct {
	Order string `cbor:",omitempty"`
}

func marshalCore(c *queue.Core, tag uint64, meta *queueMeta) ([]byte, error) {
	if meta == nil {
		meta = new(queueMeta)
	}
	var data []byte
	err := c.FDs(func(fds []int) error {
		var err error
		data, err = wire.MarshalHandle(tag, fds, meta)
		return err
	})
	if errors.Is(err, ErrClosed) {
		return nil, fmt.Errorf("mp: send a closed queue: %w", err)
	}
	return data, err
}

func unmarshalCore(data []byte, tag uint64, kind queue.Kind, buffered bool, meta *queueMeta) (*queue.Core, error) {
	if meta == nil {
		meta = new(queueMeta)
	}
	fds, err := wire.UnmarshalHandle(data, tag, meta)
	if err != nil {
		return nil, err
	}
	c, err := queue.Attach(fds, buffered)
	if err != nil {
		return nil, err
	}
	if c.Kind() != kind {
		c.Close()
		return nil, fmt.Errorf("%w: a %v queue handle where a %v queue was expected", ErrProtocol, c.Kind(), kind)
	}
	return c, nil
}
