package manager_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

// TestQueue follows CPython's queue tests, through a manager.
func TestQueue(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	q, err := manager.NewQueue[string](ctx, c, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if _, err := q.TryGet(ctx); !errors.Is(err, mp.ErrEmpty) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("TryGet on empty = %v, want mp.ErrEmpty alone", err)
	}
	must(t, q.Put(ctx, "a"))
	must(t, q.TryPut(ctx, "b"))
	if err := q.TryPut(ctx, "c"); !errors.Is(err, mp.ErrFull) {
		t.Errorf("TryPut on full = %v, want mp.ErrFull", err)
	}
	if full, _ := q.Full(ctx); !full {
		t.Error("Full = false on a full queue")
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = q.Put(short, "c")
	cancel()
	if !errors.Is(err, mp.ErrFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Put on full with a deadline = %v, want mp.ErrFull and DeadlineExceeded", err)
	}
	if n, _ := q.Len(ctx); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
	for _, want := range []string{"a", "b"} {
		if v, err := q.Get(ctx); v != want || err != nil {
			t.Errorf("Get = %q, %v; want %q", v, err, want)
		}
	}
	short, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = q.Get(short)
	cancel()
	if !errors.Is(err, mp.ErrEmpty) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get on empty with a deadline = %v, want mp.ErrEmpty and DeadlineExceeded", err)
	}
	if empty, _ := q.Empty(ctx); !empty {
		t.Error("Empty = false")
	}
}

// TestBlockedGetDoesNotBlockConnection: a Get waiting on one connection
// leaves the connection free for other calls, including the Put that wakes
// it.
func TestBlockedGetDoesNotBlockConnection(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	srv, c := localServer(t)
	q, _ := manager.NewQueue[int](ctx, c, 0)
	defer q.Close()
	got := make(chan int, 1)
	go func() {
		v, err := q.Get(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	waitParked(t, srv, q.ID(), 1)
	d, err := manager.NewDict[int, int](ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	must(t, d.Set(ctx, 1, 1))
	must(t, q.Put(ctx, 42))
	if v := <-got; v != 42 {
		t.Errorf("Get = %d, want 42", v)
	}
}

// TestCancelledGet: cancelling a Get's context (no deadline) returns
// promptly with mp.ErrEmpty and context.Canceled, and the server forgets
// the call, so a later item is not lost.
func TestCancelledGet(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	srv, c := localServer(t)
	q, _ := manager.NewQueue[int](ctx, c, 0)
	defer q.Close()
	gctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { _, err := q.Get(gctx); errc <- err }()
	waitParked(t, srv, q.ID(), 1)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, mp.ErrEmpty) || !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Get = %v, want mp.ErrEmpty and context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled Get did not return")
	}
	must(t, q.Put(ctx, 5))
	if v, err := q.TryGet(ctx); v != 5 || err != nil {
		t.Errorf("TryGet = %v, %v; want the item (the cancelled Get must not take it)", v, err)
	}
}

func TestJoinableQueue(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	q, err := manager.NewJoinableQueue[int](ctx, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for i := range 3 {
		must(t, q.Put(ctx, i))
	}
	done := make(chan error, 1)
	go func() { done <- q.Wait(ctx) }()
	for range 3 {
		if _, err := q.Get(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
			t.Fatal("Wait returned before every item was done")
		default:
		}
		must(t, q.TaskDone(ctx))
	}
	if err := <-done; err != nil {
		t.Errorf("Wait = %v", err)
	}
	if err := q.TaskDone(ctx); !errors.Is(err, mp.ErrTooManyReleases) {
		t.Errorf("extra TaskDone = %v, want mp.ErrTooManyReleases", err)
	}
	// A Queue proxy can be looked at as a plain queue.
	if _, err := q.TryGet(ctx); !errors.Is(err, mp.ErrEmpty) {
		t.Errorf("TryGet = %v", err)
	}
}

var putSquares = mp.Register("manager_test.putSquares", func(ctx context.Context, q *manager.Queue[int]) (struct{}, error) {
	defer q.Close()
	for i := range 5 {
		if err := q.Put(ctx, i*i); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

// TestQueueBetweenProcesses passes a queue proxy to a child that fills it.
func TestQueueBetweenProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, nil)
	q, _ := manager.NewQueue[int](ctx, c, 1) // bounded: the child waits for the parent
	defer q.Close()
	p := mp.Command(putSquares, q)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 5 {
		if v, err := q.Get(ctx); v != i*i || err != nil {
			t.Fatalf("Get = %v, %v; want %d", v, err, i*i)
		}
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
