package mp_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// shutdownQueue is what the tests here need of every kind of queue.
type shutdownQueue interface {
	Put(ctx context.Context, v int) error
	Get(ctx context.Context) (int, error)
	Shutdown() error
	ShutdownNow() error
	Close() error
}

// drainAll ranges over q.All in a child and returns the items it got.
func drainAll[Q interface {
	All(context.Context) iter.Seq2[int, error]
}](ctx context.Context, q Q) ([]int, error) {
	var got []int
	for v, err := range q.All(ctx) {
		if err != nil {
			return got, err
		}
		got = append(got, v)
	}
	return got, nil
}

var (
	qDrainQueue    = mp.Register("test.qDrainQueue", drainAll[*mp.Queue[int]])
	qDrainSimple   = mp.Register("test.qDrainSimple", drainAll[*mp.SimpleQueue[int]])
	qDrainLifo     = mp.Register("test.qDrainLifo", drainAll[*mp.LifoQueue[int]])
	qDrainPriority = mp.Register("test.qDrainPriority", drainAll[*mp.PriorityQueue[int]])
	// qPutThenShutdown puts 0..N-1 on In, shuts it down and then tells
	// Out so.
	qPutThenShutdown = mp.Register("test.qPutThenShutdown", func(ctx context.Context, a pipeArgs) (int, error) {
		for i := range a.N {
			if err := a.In.Put(ctx, i); err != nil {
				return i, err
			}
		}
		if err := a.In.Shutdown(); err != nil {
			return a.N, err
		}
		return a.N, a.Out.Put(ctx, a.N)
	})
	// qPutAndHang puts 0..N-1 on In, tells Out, and waits to be killed.
	qPutAndHang = mp.Register("test.qPutAndHang", func(ctx context.Context, a pipeArgs) (int, error) {
		for i := range a.N {
			if err := a.In.Put(ctx, i); err != nil {
				return i, err
			}
		}
		if err := a.Out.Put(ctx, a.N); err != nil {
			return a.N, err
		}
		<-ctx.Done()
		return a.N, nil
	})
)

// TestQueueShutdownAcrossProcesses: for each kind of queue, a child ranges
// over All; it gets the items put, in the kind's order, and waits for more
// until the parent shuts the queue down, which ends its range.
func TestQueueShutdownAcrossProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, tc := range []struct {
		name  string
		queue func() (shutdownQueue, func() int, *mp.Process, error)
		want  []int
	}{
		{"Queue", func() (shutdownQueue, func() int, *mp.Process, error) {
			q, err := mp.NewQueue[int](0)
			return q, func() int { g, _, _ := mp.QueueSleepers(q); return g }, mp.Command(qDrainQueue, q), err
		}, []int{3, 1, 2}},
		{"SimpleQueue", func() (shutdownQueue, func() int, *mp.Process, error) {
			q, err := mp.NewSimpleQueue[int]()
			return q, func() int { g, _, _ := mp.QueueSleepers(q); return g }, mp.Command(qDrainSimple, q), err
		}, []int{3, 1, 2}},
		{"LifoQueue", func() (shutdownQueue, func() int, *mp.Process, error) {
			q, err := mp.NewLifoQueue[int](0)
			return q, func() int { g, _, _ := mp.QueueSleepers(q); return g }, mp.Command(qDrainLifo, q), err
		}, []int{2, 1, 3}},
		{"PriorityQueue", func() (shutdownQueue, func() int, *mp.Process, error) {
			q, err := mp.NewPriorityQueue[int](0)
			return q, func() int { g, _, _ := mp.QueueSleepers(q); return g }, mp.Command(qDrainPriority, q), err
		}, []int{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, sleepers, p, err := tc.queue()
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			ctx := timeout(t)
			for _, v := range []int{3, 1, 2} {
				if err := q.Put(ctx, v); err != nil {
					t.Fatal(err)
				}
			}
			start(t, p)
			// The child sleeps in Get when the shutdown comes: it must
			// wake, across processes.
			waitUntil(t, "the child sleeps in Get", func() bool { return sleepers() == 1 })
			if err := q.Shutdown(); err != nil {
				t.Fatal(err)
			}
			if err := q.Put(ctx, 4); !errors.Is(err, mp.ErrShutDown) {
				t.Errorf("Put() after Shutdown = %v, want ErrShutDown", err)
			}
			got, err := result[[]int](ctx, p)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("the child got %v, %v; want %v and the end of its range", got, err, tc.want)
			}
		})
	}
}

// TestQueueShutdownByProducer: a producer child puts more items than the
// shared ring holds, so that it still buffers some, shuts the queue down
// and returns; the parent's range gets every item, in order, and ends.
func TestQueueShutdownByProducer(t *testing.T) {
	mptest.CheckLeaks(t)
	q, told := newQueue[int](t, 0), newQueue[int](t, 0)
	ctx := timeout(t)
	const n = 100_000 // about 1.6 MB of records: more than the 1 MiB ring
	p := start(t, mp.Command(qPutThenShutdown, pipeArgs{In: q, Out: told, N: n}))
	if _, err := told.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := q.TryGet(); err != nil {
		t.Fatalf("TryGet() on a queue shut down with items left = %v", err)
	}
	if got := q.Len(); got != n-1 {
		t.Fatalf("Len() = %d, want %d: items the producer buffers count", got, n-1)
	}
	i := 1
	for v, err := range q.All(ctx) {
		if err != nil {
			t.Fatalf("All() yielded %v after %d items", err, i)
		}
		if v != i {
			t.Fatalf("item %d = %d", i, v)
		}
		i++
	}
	if i != n {
		t.Errorf("the range ended after %d items, want %d", i, n)
	}
	if got, err := result[int](ctx, p); err != nil || got != n {
		t.Errorf("producer = %d, %v", got, err)
	}
	if _, err := q.TryGet(); !errors.Is(err, mp.ErrShutDown) {
		t.Errorf("TryGet() after the range = %v, want ErrShutDown", err)
	}
}

// TestQueueShutdownNow: ShutdownNow discards what is left and ends a
// range at once; a JoinableQueue's Join counts what it discarded as done.
func TestQueueShutdownNow(t *testing.T) {
	mptest.CheckLeaks(t)
	q, err := mp.NewJoinableQueue[int](0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := timeout(t)
	for i := range 10 {
		q.Put(ctx, i)
	}
	if n := q.Unfinished(); n != 10 {
		t.Errorf("Unfinished() = %d, want 10", n)
	}
	if err := q.ShutdownNow(); err != nil {
		t.Fatal(err)
	}
	for v, err := range q.All(ctx) {
		t.Errorf("All() yielded %d, %v after ShutdownNow", v, err)
	}
	if err := q.Join(ctx); err != nil {
		t.Errorf("Join() = %v", err)
	}
	if n := q.Unfinished(); n != 0 {
		t.Errorf("Unfinished() = %d, want 0", n)
	}
}

func TestQueueShutdownWait(t *testing.T) {
	mptest.CheckLeaks(t)
	q := newQueue[int](t, 0)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if ready, _ := mp.Wait(ended, q); len(ready) != 0 {
		t.Fatalf("Wait() on an empty queue = %v", ready)
	}
	q.Shutdown()
	ready, err := mp.Wait(timeout(t), q)
	if err != nil || len(ready) != 1 {
		t.Errorf("Wait() on a queue shut down = %v, %v; want it ready (a Get does not wait)", ready, err)
	}
}

// TestQueueShutdownProducerDied: a producer killed with items still in its
// buffer does not keep a range over a queue shut down waiting for them:
// the range gets what reached the queue and ends, and Len drops to zero.
func TestQueueShutdownProducerDied(t *testing.T) {
	mptest.CheckLeaks(t)
	q, told := newQueue[int](t, 0), newQueue[int](t, 0)
	ctx := timeout(t)
	const n = 100_000 // more than the ring holds
	p := start(t, mp.Command(qPutAndHang, pipeArgs{In: q, Out: told, N: n}))
	if _, err := told.Get(ctx); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	<-p.Done()
	if got := q.Len(); got != n {
		t.Fatalf("Len() = %d, want %d", got, n)
	}
	q.Shutdown()
	i := 0
	for v, err := range q.All(ctx) {
		if err != nil || v != i {
			t.Fatalf("item %d = %d, %v", i, v, err)
		}
		i++
	}
	if i == 0 || i >= n {
		t.Errorf("the range got %d items, want those that reached the ring: more than 0, fewer than %d", i, n)
	}
	if got := q.Len(); got != 0 {
		t.Errorf("Len() = %d after the dead producer's items were written off, want 0", got)
	}
}
