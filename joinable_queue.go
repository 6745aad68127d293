package mp

import (
	"context"

	"github.com/mpgo/mp/internal/queue"
)

// JoinableQueue is a Queue that also counts the items not yet processed
// (Python: multiprocessing.JoinableQueue): every Put adds one, TaskDone
// takes one off, and Join waits until the count is zero. The count lives in
// the queue's shared memory, so producers and consumers in any processes
// share it.
type JoinableQueue[T any] struct {
	Queue[T]
}

// NewJoinableQueue returns a new JoinableQueue that holds at most maxsize
// items (≤ 0: no limit). It panics if T has a struct with an unexported
// field (see ErrUnencodable).
func NewJoinableQueue[T any](maxsize int) (*JoinableQueue[T], error) {
	mustTravelItems[T]("NewJoinableQueue")
	q, err := NewQueue[T](maxsize)
	if err != nil {
		return nil, err
	}
	return &JoinableQueue[T]{Queue: *q}, nil
}

// TaskDone tells the queue that one item got from it has been processed
// (Python: task_done). Called more times than items were put, it returns
// an error matching ErrTooManyReleases (Python: ValueError).
func (q *JoinableQueue[T]) TaskDone() error { return q.core().TaskDone() }

// Join waits until every item put on the queue, by any process, has been
// marked done with TaskDone; if ctx ends first, it returns ctx's error
// (Python: join).
func (q *JoinableQueue[T]) Join(ctx context.Context) error { return q.core().Join(ctx) }

// MarshalCBOR is plumbing: part of how a JoinableQueue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *JoinableQueue[T]) MarshalCBOR() ([]byte, error) {
	return marshalCore(q.core(), joinableQueueTag, nil)
}

// UnmarshalCBOR is plumbing: part of how a JoinableQueue travels to another
// process (see Handles in the package doc); not for direct use.
func (q *JoinableQueue[T]) UnmarshalCBOR(data []byte) error {
	c, err := unmarshalCore(data, joinableQueueTag, queue.FIFO, true, nil)
	if err == nil {
		q.c = c
	}
	return err
}
