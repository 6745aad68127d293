package manager

import (
	"context"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
)

// Queue is a proxy to a FIFO queue held by a manager server (Python:
// manager.Queue()), with mp.Queue's methods and errors: a Get whose
// context ends on an empty queue returns an error matching both
// mp.ErrEmpty and the context's error. Unlike an mp.Queue, it can reach
// processes that were not started by this one: pool workers already
// running, programs on other machines. A blocked Get or Put does not hold
// up other calls on the same connection. A *Queue is safe for concurrent
// use.
type Queue[T any] struct{ ref }

// NewQueue makes a queue in the server holding at most maxSize items (zero:
// unbounded).
func NewQueue[T any](ctx context.Context, c *Client, maxSize int) (*Queue[T], error) {
	q := new(Queue[T])
	if err := create(ctx, c, q, createArgs{Kind: KindQueue, Size: maxSize}); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *Queue[T]) accepts(k Kind) bool { return k == KindQueue || k == KindJoinableQueue }

func (q *Queue[T]) itemTypes() []string { return []string{typeName[T]()} }

// UnmarshalCBOR is plumbing: it decodes a Queue that arrived from another
// process, as part of a message; not for direct use.
func (q *Queue[T]) UnmarshalCBOR(data []byte) error {
	return q.decodeTyped(data, q.itemTypes(), KindQueue, KindJoinableQueue)
}

// Put adds v at the end, waiting while the queue is full. If ctx ends
// first, the error matches mp.ErrFull and ctx's error.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	return q.call(ctx, "put", callOpts{sentinel: mp.ErrFull}, nil, v)
}

// TryPut adds v if there is room, and returns mp.ErrFull otherwise
// (Python: put_nowait).
func (q *Queue[T]) TryPut(ctx context.Context, v T) error {
	return q.call(ctx, "put", callOpts{sentinel: mp.ErrFull, noBlock: true}, nil, v)
}

// Get removes and returns the first item, waiting while the queue is
// empty. If ctx ends first, the error matches mp.ErrEmpty and ctx's error
// (Python: get(timeout=…) raising queue.Empty).
//
// An item that does not decode as a T (a producer with a Queue[any] put
// another type) is put back at the front of the queue, where a consumer
// of the right type can take it, and Get returns an error matching
// ErrWrongType that names T.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	return q.get(ctx, callOpts{sentinel: mp.ErrEmpty})
}

// get takes an item and decodes it, putting it back if it does not decode.
func (q *Queue[T]) get(ctx context.Context, o callOpts) (T, error) {
	var v T
	var raw cbor.RawMessage
	if err := q.call(ctx, "get", o, &raw); err != nil {
		return v, err
	}
	if derr := decode(raw, &v); derr != nil {
		return v, undoTake[T](ctx, "the queue's first item", derr, func(ctx context.Context) error {
			return q.call(ctx, "putback", callOpts{}, nil, raw)
		})
	}
	return v, nil
}

// TryGet removes and returns the first item if there is one, and returns
// mp.ErrEmpty otherwise (Python: get_nowait).
func (q *Queue[T]) TryGet(ctx context.Context) (T, error) {
	return q.get(ctx, callOpts{sentinel: mp.ErrEmpty, noBlock: true})
}

// Len returns the number of items queued (Python: qsize). Other processes
// may change it at once.
func (q *Queue[T]) Len(ctx context.Context) (int, error) {
	var n int
	err := q.call(ctx, "len", callOpts{}, &n)
	return n, err
}

// Empty reports whether the queue is empty (Python: empty).
func (q *Queue[T]) Empty(ctx context.Context) (bool, error) {
	n, err := q.Len(ctx)
	return n == 0, err
}

// Full reports whether the queue is full (Python: full).
func (q *Queue[T]) Full(ctx context.Context) (bool, error) {
	var full bool
	err := q.call(ctx, "full", callOpts{}, &full)
	return full, err
}

// JoinableQueue is a Queue whose consumers mark each item done, so that a
// producer can wait until every item has been processed (Python:
// manager.JoinableQueue()).
type JoinableQueue[T any] struct{ Queue[T] }

// NewJoinableQueue makes a joinable queue in the server holding at most
// maxSize items (zero: unbounded).
func NewJoinableQueue[T any](ctx context.Context, c *Client, maxSize int) (*JoinableQueue[T], error) {
	q := new(JoinableQueue[T])
	if err := create(ctx, c, q, createArgs{Kind: KindJoinableQueue, Size: maxSize}); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *JoinableQueue[T]) accepts(k Kind) bool { return k == KindJoinableQueue }

// UnmarshalCBOR is plumbing: it decodes a JoinableQueue that arrived from another
// process, as part of a message; not for direct use.
func (q *JoinableQueue[T]) UnmarshalCBOR(data []byte) error {
	return q.decodeTyped(data, q.itemTypes(), KindJoinableQueue)
}

// TaskDone marks one item taken from the queue as processed. Calling it
// more often than items were put returns mp.ErrTooManyReleases.
func (q *JoinableQueue[T]) TaskDone(ctx context.Context) error {
	return q.call(ctx, "task_done", callOpts{}, nil)
}

// Wait waits until every item put has been marked done (Python: join). If
// ctx ends first, the error matches mp.ErrTimeout and ctx's error.
func (q *JoinableQueue[T]) Wait(ctx context.Context) error {
	return q.call(ctx, "join", callOpts{sentinel: mp.ErrTimeout}, nil)
}
