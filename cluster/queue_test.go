package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// queueJob tells a child which queue to use on which engine.
type queueJob struct {
	URL, Name string
	From, N   int
	AckWait   time.Duration
}

var (
	queueProduce = mp.Register("cluster.test.queueProduce", func(ctx context.Context, j queueJob) (int, error) {
		c, err := cluster.Connect(ctx, j.URL, nil)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		q, err := cluster.NewQueue[int](ctx, c, j.Name, &cluster.QueueOptions{MaxSize: 16})
		if err != nil {
			return 0, err
		}
		for i := j.From; i < j.From+j.N; i++ {
			if err := q.Put(ctx, i); err != nil {
				return 0, err
			}
		}
		return j.N, nil
	})
	// queueConsume gets items until it gets -1, and returns them.
	queueConsume = mp.Register("cluster.test.queueConsume", func(ctx context.Context, j queueJob) ([]int, error) {
		c, err := cluster.Connect(ctx, j.URL, nil)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		q, err := cluster.NewQueue[int](ctx, c, j.Name, &cluster.QueueOptions{MaxSize: 16})
		if err != nil {
			return nil, err
		}
		var got []int
		for {
			v, err := q.Get(ctx)
			if err != nil {
				return got, err
			}
			if v == -1 {
				return got, nil
			}
			got = append(got, v)
		}
	})
)

// startChild starts p and makes the test wait for it (and kill it if the
// test fails first).
func startChild(t *testing.T, p *mp.Process) *mp.Process {
	t.Helper()
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Wait(context.Background())
		p.Close()
	})
	return p
}

// childResult waits for p and returns what it returned.
func childResult[Out any](t *testing.T, ctx context.Context, p *mp.Process) Out {
	t.Helper()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("child: %v", err)
	}
	out, err := mp.Result[Out](p)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	return out
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestQueueAcrossProcesses has three producer processes put 600 items
// through a queue of 16 places, and three consumer processes get them:
// each item is got exactly once.
func TestQueueAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	const producers, consumers, each = 3, 3, 200
	var prod, cons []*mp.Process
	for range consumers {
		cons = append(cons, startChild(t, mp.Command(queueConsume, queueJob{URL: c.URL(), Name: "work"})))
	}
	for i := range producers {
		prod = append(prod, startChild(t, mp.Command(queueProduce, queueJob{URL: c.URL(), Name: "work", From: i * each, N: each})))
	}
	for _, p := range prod {
		childResult[int](t, ctx, p)
	}
	q, err := cluster.NewQueue[int](ctx, c, "work", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range consumers {
		if err := q.Put(ctx, -1); err != nil {
			t.Fatal(err)
		}
	}
	var all []int
	for _, p := range cons {
		all = append(all, childResult[[]int](t, ctx, p)...)
	}
	slices.Sort(all)
	if len(all) != producers*each {
		t.Fatalf("got %d items, want %d", len(all), producers*each)
	}
	for i, v := range all {
		if v != i {
			t.Fatalf("item %d missing or doubled (sorted items[%d] = %d)", i, i, v)
		}
	}
	if n, err := q.Len(ctx); err != nil || n != 0 {
		t.Errorf("Len() = %d, %v; want 0", n, err)
	}
}

func TestQueueTryAndBounds(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	q, err := cluster.NewQueue[string](ctx, c, "small/queue with spaces", &cluster.QueueOptions{MaxSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.TryGet(ctx); !errors.Is(err, mp.ErrEmpty) {
		t.Fatalf("TryGet on empty = %v, want ErrEmpty", err)
	}
	for _, s := range []string{"a", "b"} {
		if err := q.TryPut(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.TryPut(ctx, "c"); !errors.Is(err, mp.ErrFull) {
		t.Fatalf("TryPut on full = %v, want ErrFull", err)
	}
	if full, err := q.Full(ctx); err != nil || !full {
		t.Fatalf("Full() = %v, %v; want true", full, err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = q.Put(short, "c")
	cancel()
	if !errors.Is(err, mp.ErrFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put on full with a deadline = %v, want ErrFull and DeadlineExceeded", err)
	}
	if n, err := q.Len(ctx); err != nil || n != 2 {
		t.Fatalf("Len() = %d, %v; want 2", n, err)
	}
	// A Put waiting for room goes through once a Get makes some.
	put := make(chan error, 1)
	go func() { put <- q.Put(ctx, "c") }()
	for _, want := range []string{"a", "b", "c"} {
		if got, err := q.Get(ctx); err != nil || got != want {
			t.Fatalf("Get() = %q, %v; want %q", got, err, want)
		}
	}
	if err := <-put; err != nil {
		t.Fatal(err)
	}
	short, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = q.Get(short)
	cancel()
	if !errors.Is(err, mp.ErrEmpty) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get on empty with a deadline = %v, want ErrEmpty and DeadlineExceeded", err)
	}
	// A Get waiting in the engine ends when its ctx is cancelled.
	cctx, cancel := context.WithCancel(ctx)
	stop := time.AfterFunc(50*time.Millisecond, cancel)
	defer stop.Stop()
	_, err = q.Get(cctx)
	if !errors.Is(err, mp.ErrEmpty) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Get on empty, cancelled = %v, want ErrEmpty and Canceled", err)
	}
	if empty, err := q.Empty(ctx); err != nil || !empty {
		t.Fatalf("Empty() = %v, %v; want true", empty, err)
	}
}

func TestQueueRefusesUnencodable(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	q, err := cluster.NewQueue[any](ctx, c, "any", nil)
	if err != nil {
		t.Fatal(err)
	}
	type hidden struct{ x int }
	if err := q.Put(ctx, hidden{1}); !errors.Is(err, mp.ErrUnencodable) {
		t.Fatalf("Put of a struct with an unexported field = %v, want ErrUnencodable", err)
	}
	if n, err := q.Len(ctx); err != nil || n != 0 {
		t.Fatalf("Len() = %d, %v after a refused Put; want 0", n, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewQueue[hidden] did not panic")
		}
	}()
	cluster.NewQueue[hidden](ctx, c, "hidden", nil)
}

// stuckItem is an int whose decoding, in a process that set stuck, hands
// the item to stuck and never returns: the process holds the item
// delivered and not acknowledged, as one killed in the middle of Get does.
type stuckItem int

var stuck chan int

func (s *stuckItem) UnmarshalCBOR(data []byte) error {
	var n int
	if err := cbor.Unmarshal(data, &n); err != nil {
		return err
	}
	*s = stuckItem(n)
	if stuck != nil {
		stuck <- n
		select {}
	}
	return nil
}

// queueStuck gets one item from the queue and is stuck in the middle of
// Get; it reports the item on the queue "held".
var queueStuck = mp.Register("cluster.test.queueStuck", func(ctx context.Context, j queueJob) (int, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	q, err := cluster.NewQueue[stuckItem](ctx, c, j.Name, nil)
	if err != nil {
		return 0, err
	}
	held, err := cluster.NewQueue[int](ctx, c, "held", nil)
	if err != nil {
		return 0, err
	}
	stuck = make(chan int)
	go q.Get(ctx)
	if err := held.Put(ctx, <-stuck); err != nil {
		return 0, err
	}
	<-ctx.Done()
	return 0, ctx.Err()
})

// TestQueueGetterKilled kills a process that has an item delivered and
// not acknowledged: the item comes to another getter, and none is lost.
func TestQueueGetterKilled(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	q, err := cluster.NewQueue[stuckItem](ctx, c, "victim", &cluster.QueueOptions{AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	held, err := cluster.NewQueue[int](ctx, c, "held", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := range n {
		if err := q.Put(ctx, stuckItem(i)); err != nil {
			t.Fatal(err)
		}
	}
	p := startChild(t, mp.Command(queueStuck, queueJob{URL: c.URL(), Name: "victim"}))
	lost, err := held.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	p.Wait(ctx)
	got := map[int]int{}
	for range n {
		v, err := q.Get(ctx)
		if err != nil {
			t.Fatalf("after the kill: %v (got %v, item %d held by the killed process)", err, got, lost)
		}
		got[int(v)]++
	}
	for i := range n {
		if got[i] != 1 {
			t.Errorf("item %d got %d times, want once (item %d was held by the killed process)", i, got[i], lost)
		}
	}
	if _, err := q.TryGet(ctx); !errors.Is(err, mp.ErrEmpty) {
		t.Errorf("TryGet after all = %v, want ErrEmpty", err)
	}
}

func ExampleQueue() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	c, err := cluster.Start(ctx, &cluster.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	// Any process connected to the engine that opens "jobs" shares it.
	q, err := cluster.NewQueue[string](ctx, c, "jobs", &cluster.QueueOptions{MaxSize: 100})
	if err != nil {
		panic(err)
	}
	for _, job := range []string{"build", "test", "ship"} {
		if err := q.Put(ctx, job); err != nil {
			panic(err)
		}
	}
	for range 3 {
		job, err := q.Get(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Println(job)
	}
	// Output:
	// build
	// test
	// ship
}
