package mp_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// joinWork is what a qJoinWorker gets: the queue, and a semaphore it
// releases for each item just before marking it done.
type joinWork struct {
	Q    *mp.JoinableQueue[int]
	Done *mp.Semaphore
}

// qJoinWorker sums the items it gets until a negative one. It marks an item
// done only while someone sleeps in Join, so that Join must be woken by
// the TaskDones of other processes; a Join that returned early would leave
// the workers stopped there, with items not done.
var qJoinWorker = mp.Register("test.qJoinWorker", func(ctx context.Context, w joinWork) (int, error) {
	defer w.Done.Close()
	n := 0
	for {
		v, err := w.Q.Get(ctx)
		if err != nil || v < 0 {
			return n, err
		}
		n += v
		for {
			if _, _, joiners := mp.QueueSleepers(w.Q); joiners > 0 {
				break
			}
			select {
			case <-ctx.Done():
				return n, ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
		w.Done.Release()
		if err := w.Q.TaskDone(); err != nil {
			return n, err
		}
	}
})

func TestJoinableQueue(t *testing.T) {
	mptest.CheckLeaks(t)
	q, err := mp.NewJoinableQueue[int](0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.TaskDone(); !errors.Is(err, mp.ErrTooManyReleases) {
		t.Errorf("TaskDone() with nothing put = %v, want ErrTooManyReleases", err)
	}
	ctx := timeout(t)
	for i := range 20 {
		q.Put(ctx, i)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if err := q.Join(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Join() with pending work = %v", err)
	}
	done, err := mp.NewSemaphore(0)
	if err != nil {
		t.Fatal(err)
	}
	defer done.Close()
	var workers []*mp.Process
	for range 2 {
		workers = append(workers, start(t, mp.Command(qJoinWorker, joinWork{Q: q, Done: done})))
	}
	if err := q.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if n := done.Value(); n != 20 {
		t.Fatalf("Join returned after %d of 20 items were done", n)
	}
	if !q.Empty() {
		t.Error("queue not empty after Join")
	}
	total := 0
	for _, w := range workers {
		q.Put(ctx, -1)
		_ = w
	}
	for _, w := range workers {
		n, err := result[int](ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != 190 {
		t.Errorf("workers summed %d, want 190", total)
	}
}

func TestSimpleQueue(t *testing.T) {
	mptest.CheckLeaks(t)
	q, err := mp.NewSimpleQueue[string]()
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := timeout(t)
	if !q.Empty() {
		t.Error("new SimpleQueue not empty")
	}
	q.Put(ctx, "a")
	q.Put(ctx, "b")
	if a, _ := q.Get(ctx); a != "a" {
		t.Errorf("Get() = %q", a)
	}
	if b, _ := q.Get(ctx); b != "b" {
		t.Errorf("Get() = %q", b)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := q.Get(short); !errors.Is(err, mp.ErrEmpty) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get() on empty past deadline = %v", err)
	}
}

type stackArgs struct {
	Lifo *mp.LifoQueue[string]
	Prio *mp.PriorityQueue[int]
	Task *mp.PriorityQueue[task]
}

type task struct {
	Priority int
	Name     string
}

var byPriority = mp.RegisterOrder("test.byPriority", func(a, b task) bool { return a.Priority < b.Priority })

var qStackPut = mp.Register("test.qStackPut", func(ctx context.Context, a stackArgs) (struct{}, error) {
	for _, s := range []string{"hello1", "hello2", "hello3"} {
		a.Lifo.Put(ctx, s)
	}
	for _, v := range []int{7, 5, 3, 9, 1} {
		a.Prio.Put(ctx, v)
	}
	for _, tk := range []task{{2, "b"}, {1, "a"}, {2, "c"}, {0, "z"}} {
		a.Task.Put(ctx, tk)
	}
	return struct{}{}, nil
})

func TestLifoAndPriorityAcrossProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	lifo, err := mp.NewLifoQueue[string](0)
	if err != nil {
		t.Fatal(err)
	}
	defer lifo.Close()
	prio, err := mp.NewPriorityQueue[int](0)
	if err != nil {
		t.Fatal(err)
	}
	defer prio.Close()
	tasks, err := mp.NewPriorityQueueFunc(0, byPriority)
	if err != nil {
		t.Fatal(err)
	}
	defer tasks.Close()
	ctx := timeout(t)
	prio.Put(ctx, 4)
	if err := mp.Command(qStackPut, stackArgs{lifo, prio, tasks}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if lifo.Len() != 3 {
		t.Errorf("Len() = %d", lifo.Len())
	}
	var got []string
	for range 3 {
		v, _ := lifo.Get(ctx)
		got = append(got, v)
	}
	if !slices.Equal(got, []string{"hello3", "hello2", "hello1"}) {
		t.Errorf("LIFO order %v", got)
	}
	var nums []int
	for !prio.Empty() {
		v, _ := prio.TryGet()
		nums = append(nums, v)
	}
	if !slices.Equal(nums, []int{1, 3, 4, 5, 7, 9}) {
		t.Errorf("priority order %v", nums)
	}
	var names string
	for range 4 {
		tk, _ := tasks.Get(ctx)
		names += tk.Name
	}
	if names != "zabc" {
		t.Errorf("task order %q, want zabc", names)
	}
	type withConn struct{ C *mp.Conn }
	hq, _ := mp.NewLifoQueue[withConn](0)
	defer hq.Close()
	a, b, _ := mp.Pipe(true)
	defer a.Close()
	defer b.Close()
	if err := hq.TryPut(withConn{a}); err == nil {
		t.Error("LifoQueue accepted an item holding a handle")
	}
}
