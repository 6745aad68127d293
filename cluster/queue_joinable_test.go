package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

var (
	// joinableWork gets items until -1, marking each done, and returns how
	// many it got.
	joinableWork = mp.Register("cluster.test.joinableWork", func(ctx context.Context, j queueJob) (int, error) {
		c, err := cluster.Connect(ctx, j.URL, nil)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		q, err := cluster.NewJoinableQueue[int](ctx, c, j.Name, nil)
		if err != nil {
			return 0, err
		}
		defer q.Close()
		n := 0
		for {
			v, err := q.Get(ctx)
			if err != nil {
				return n, err
			}
			if err := q.TaskDone(ctx); err != nil {
				return n, err
			}
			if v == -1 {
				return n, nil
			}
			n++
		}
	})
	// joinableHold gets one item, reports it on "held", and never marks it
	// done.
	joinableHold = mp.Register("cluster.test.joinableHold", func(ctx context.Context, j queueJob) (int, error) {
		c, err := cluster.Connect(ctx, j.URL, nil)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		q, err := cluster.NewJoinableQueue[int](ctx, c, j.Name, nil)
		if err != nil {
			return 0, err
		}
		defer q.Close()
		held, err := cluster.NewQueue[int](ctx, c, "held", nil)
		if err != nil {
			return 0, err
		}
		v, err := q.Get(ctx)
		if err != nil {
			return 0, err
		}
		if err := held.Put(ctx, v); err != nil {
			return 0, err
		}
		<-ctx.Done()
		return 0, ctx.Err()
	})
)

func TestJoinableQueueAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	q, err := cluster.NewJoinableQueue[int](ctx, c, "tasks", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	const workers, items = 3, 150
	for i := range items {
		if err := q.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	var ps []*mp.Process
	for range workers {
		ps = append(ps, startChild(t, mp.Command(joinableWork, queueJob{URL: c.URL(), Name: "tasks"})))
	}
	if err := q.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for range workers {
		if err := q.Put(ctx, -1); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, p := range ps {
		total += childResult[int](t, ctx, p)
	}
	if total != items {
		t.Fatalf("workers got %d items, want %d", total, items)
	}
	if err := q.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(ctx); !errors.Is(err, mp.ErrTooManyReleases) {
		t.Fatalf("TaskDone with nothing held = %v, want ErrTooManyReleases", err)
	}
}

// TestJoinableQueueHolderKilled: an item whose getter lives and has not
// marked it done is not delivered again, however long it holds it, and
// Wait waits for it; once the getter is killed, the item comes to another
// getter, and Wait returns when that one marks it done.
func TestJoinableQueueHolderKilled(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	q, err := cluster.NewJoinableQueue[int](ctx, c, "tasks", &cluster.QueueOptions{AckWait: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	held, err := cluster.NewQueue[int](ctx, c, "held", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := q.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	p := startChild(t, mp.Command(joinableHold, queueJob{URL: c.URL(), Name: "tasks"}))
	lost, err := held.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		v, err := q.Get(ctx)
		if err != nil || v == lost {
			t.Fatalf("Get() = %d, %v; want an item other than %d", v, err, lost)
		}
		if err := q.TaskDone(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Wait outlasts several ack waits: the living holder keeps its item.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	err = q.Wait(short)
	cancel()
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with an item held = %v, want ErrTimeout and DeadlineExceeded", err)
	}
	if v, err := q.TryGet(ctx); !errors.Is(err, mp.ErrEmpty) {
		t.Fatalf("TryGet while the item is held = %d, %v; want ErrEmpty", v, err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	v, err := q.Get(ctx)
	if err != nil || v != lost {
		t.Fatalf("Get() after the kill = %d, %v; want %d", v, err, lost)
	}
	if err := q.TaskDone(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
