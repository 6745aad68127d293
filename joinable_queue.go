package mp

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/queue"
)

// JoinableQueue is a Queue that also counts the items not yet processed
// (Python: multiprocessing.JoinableQueue): every Put adds one, TaskDone
// takes one off, and Join waits until the count is zero. The count lives in
// the queue's shared memory, so producers and consumers in any processes
// share it.
//
// Each process that gets items is tracked (up to 128 at a time) with the
// number it got and has not marked done, so that Join notices a consumer
// that died with tasks in hand instead of waiting for them in vain. Items
// count against the process that got them: one that leaves its items for
// another process to mark done, and ends before they are, has them
// reported as lost with it.
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
	q.c.SetJoinable()
	return &JoinableQueue[T]{Queue: *q}, nil
}

// TaskDone tells the queue that one item got from it has been processed
// (Python: task_done). Called more times than items were put, it returns
// an error matching ErrTooManyReleases (Python: ValueError).
func (q *JoinableQueue[T]) TaskDone() error { return q.core().TaskDone() }

// Join waits until every item put on the queue, by any process, has been
// marked done with TaskDone; if ctx ends first, it returns ctx's error
// (Python: join). Like Python's, it returns once the count has been seen
// at zero, even if more items were put right after.
//
// While it waits, Join looks every 50 ms for processes that died holding
// items they got and had not marked done (Python's join would wait for
// them forever). It writes those items off — they no longer count as
// unfinished, so a later Join can succeed — and returns a
// *ConsumerDiedError naming the process and the count; so does every Join
// waiting at that moment, in any process. Items a producer died with in
// its buffer (see Queue) are written off too, without an error.
func (q *JoinableQueue[T]) Join(ctx context.Context) error {
	err := q.core().Join(ctx)
	if d, ok := errors.AsType[*queue.ConsumerDied](err); ok {
		return &ConsumerDiedError{Pid: d.Pid, Unfinished: d.Unfinished}
	}
	return err
}

// Unfinished returns the number of items put on the queue, by any
// process, and not yet marked done (Python: the unfinished_tasks
// attribute). Other processes may change it at any moment.
func (q *JoinableQueue[T]) Unfinished() int { return q.core().Unfinished() }

// ConsumerDiedError is returned by JoinableQueue.Join when a process died
// holding items it got from the queue and had not marked done. It matches
// ErrConsumerDied. The items are lost: Join no longer waits for them.
type ConsumerDiedError struct {
	// Pid is the process id of the consumer that died.
	Pid int
	// Unfinished is the number of items it had got and not marked done.
	Unfinished int
}

func (e *ConsumerDiedError) Error() string {
	return fmt.Sprintf("mp: consumer %d died holding %d unfinished tasks of the queue", e.Pid, e.Unfinished)
}

// Is reports whether target is ErrConsumerDied.
func (e *ConsumerDiedError) Is(target error) bool { return target == ErrConsumerDied }

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
