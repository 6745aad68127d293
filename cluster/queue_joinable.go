package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/nats-io/nats.go/jetstream"
)

// JoinableQueue is a Queue whose getters mark each item done, so that a
// producer can wait until every item has been processed (Python:
// JoinableQueue).
//
// Marking done is the acknowledgement: Get does not acknowledge an item,
// TaskDone acknowledges the oldest item this proxy got and has not marked
// done. Until then the proxy keeps the item from being delivered again by
// telling the engine, every third of the ack wait, that it is still being
// worked on. So an item whose getter dies before TaskDone — its process
// killed, its machine cut off — is delivered again after
// QueueOptions.AckWait, to another getter, and Wait does not return until
// someone has marked it done. (Python's JoinableQueue loses such an item
// and leaves join waiting for ever.)
//
// TaskDone counts per proxy, not per queue: a proxy that has no item left
// to mark done returns mp.ErrTooManyReleases. Items delivered and not yet
// done count towards MaxSize, unlike Python's.
//
// A *JoinableQueue is safe for concurrent use. Close it when done with it.
type JoinableQueue[T any] struct {
	Queue[T]

	// mu guards the fields below.
	mu     sync.Mutex
	held   []jetstream.Msg // got and not yet done, oldest first
	closed bool
	stop   chan struct{} // closed to stop the refresher; nil when none runs
	done   chan struct{} // closed when the refresher has stopped
}

// NewJoinableQueue opens the joinable queue named name on c, making it as
// o says if it does not exist. A JoinableQueue and a Queue of the same
// name share one queue; a Queue's Get counts as done. It panics if T's
// values would lose data between processes.
func NewJoinableQueue[T any](ctx context.Context, c *Cluster, name string, o *QueueOptions) (*JoinableQueue[T], error) {
	checkType[T]("queue item type")
	q := new(JoinableQueue[T])
	if err := q.open(ctx, c, name, o); err != nil {
		return nil, err
	}
	return q, nil
}

// Get removes and returns the item at the front of the queue, waiting
// until there is one; the proxy holds it until TaskDone. If ctx ends
// first, the error matches mp.ErrEmpty and ctx's error.
func (q *JoinableQueue[T]) Get(ctx context.Context) (T, error) {
	m, err := q.next(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return q.hold(m)
}

// TryGet is Get that returns mp.ErrEmpty at once when no item is there.
func (q *JoinableQueue[T]) TryGet(ctx context.Context) (T, error) {
	m, err := q.tryNext()
	if err != nil {
		var zero T
		return zero, err
	}
	return q.hold(m)
}

// hold decodes m and keeps it until TaskDone.
func (q *JoinableQueue[T]) hold(m jetstream.Msg) (T, error) {
	v, err := q.decode(m)
	if err != nil {
		return v, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		m.Nak()
		var zero T
		return zero, fmt.Errorf("cluster: queue %q: %w", q.name, ErrClosed)
	}
	q.held = append(q.held, m)
	if q.stop == nil {
		q.stop, q.done = make(chan struct{}), make(chan struct{})
		go q.refresh(q.stop, q.done)
	}
	return v, nil
}

// refresh tells the engine that the held items are still being worked
// on, every third of the ack wait, until stop is closed.
func (q *JoinableQueue[T]) refresh(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(q.ackWait / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		q.mu.Lock()
		held := append([]jetstream.Msg(nil), q.held...)
		q.mu.Unlock()
		for _, m := range held {
			m.InProgress() // a failure shows as a second delivery, which at-least-once allows
		}
	}
}

// TaskDone marks done the oldest item this proxy got and has not marked
// done, acknowledging it to the engine, which then forgets it. It returns
// mp.ErrTooManyReleases if the proxy holds no such item.
func (q *JoinableQueue[T]) TaskDone(ctx context.Context) error {
	q.mu.Lock()
	if len(q.held) == 0 {
		q.mu.Unlock()
		return fmt.Errorf("cluster: queue %q: task done with no item held: %w", q.name, mp.ErrTooManyReleases)
	}
	m := q.held[0]
	q.held = q.held[1:]
	q.mu.Unlock()
	return q.ack(ctx, m)
}

// Wait waits until every item put has been marked done: until the stream
// holds no item (Python: join). It looks again after each hint that an
// item was acknowledged, and every half second. If ctx ends first, the
// error matches mp.ErrTimeout and ctx's error.
func (q *JoinableQueue[T]) Wait(ctx context.Context) error {
	return q.waitAcked(ctx, mp.ErrTimeout, func() (bool, error) {
		n, err := q.stored(ctx)
		if ctx.Err() != nil {
			return false, nil // reported as a timeout by waitAcked
		}
		return err == nil && n == 0, err
	})
}

// Close gives back the items this proxy holds and has not marked done, so
// that other getters get them at once, and stops refreshing them. Later
// Gets return ErrClosed. It is safe to call twice.
func (q *JoinableQueue[T]) Close() error {
	q.mu.Lock()
	held, stop, done := q.held, q.stop, q.done
	q.held, q.stop, q.closed = nil, nil, true
	q.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	var first error
	for _, m := range held {
		if err := m.Nak(); err != nil && first == nil {
			first = q.error("give back", err)
		}
	}
	return first
}
