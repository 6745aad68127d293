package mp_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/mpgo/mp"
)

// putWords runs in a child process: it puts words on the queue it was given.
var putWords = mp.Register("example.putWords", func(ctx context.Context, q *mp.Queue[string]) (int, error) {
	for _, w := range []string{"hello", "from", "the child"} {
		if err := q.Put(ctx, w); err != nil {
			return 0, err
		}
	}
	return 3, nil
})

// A producer in a child process, the consumer in this one (Python:
// p = Process(target=f, args=(q,)); p.start(); print(q.get())).
func ExampleQueue() {
	ctx := context.Background()
	q, err := mp.NewQueue[string](0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer q.Close()
	p := mp.Command(putWords, q) // the queue travels to the child as a handle
	if err := p.Start(); err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		w, err := q.Get(ctx)
		fmt.Println(w, err)
	}
	fmt.Println(p.Wait(ctx))
	// Output:
	// hello <nil>
	// from <nil>
	// the child <nil>
	// <nil>
}

// jobs are what the workers of ExampleJoinableQueue get: tasks, and where
// to put the results.
type jobs struct {
	Tasks   *mp.JoinableQueue[string]
	Results *mp.Queue[string]
}

// shout is a worker: it processes tasks and marks each done, until the
// task queue is shut down.
var shout = mp.Register("example.shout", func(ctx context.Context, j jobs) (int, error) {
	n := 0
	for task, err := range j.Tasks.All(ctx) {
		if err != nil {
			return n, err
		}
		if err := j.Results.Put(ctx, strings.ToUpper(task)); err != nil {
			return n, err
		}
		n++
		if err := j.Tasks.TaskDone(); err != nil {
			return n, err
		}
	}
	return n, nil
})

// Workers mark each task done; Join returns once all are, and Shutdown
// then lets the workers' loops end, with no sentinel value.
func ExampleJoinableQueue() {
	ctx := context.Background()
	tasks, err := mp.NewJoinableQueue[string](0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tasks.Close()
	results, err := mp.NewQueue[string](0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer results.Close()
	var workers []*mp.Process
	for range 2 {
		p := mp.Command(shout, jobs{tasks, results})
		if err := p.Start(); err != nil {
			fmt.Println(err)
			return
		}
		workers = append(workers, p)
	}
	for _, t := range []string{"a", "b", "c", "d"} {
		tasks.Put(ctx, t)
	}
	fmt.Println("join:", tasks.Join(ctx), "unfinished:", tasks.Unfinished(), "results:", results.Len())
	tasks.Shutdown()
	done := 0
	for _, p := range workers {
		if err := p.Wait(ctx); err != nil {
			fmt.Println(err)
			return
		}
		n, _ := mp.Result[int](p)
		done += n
	}
	fmt.Println("workers done:", done)
	// Output:
	// join: <nil> unfinished: 0 results: 4
	// workers done: 4
}

// countdown runs in a child: it puts its items and shuts the queue down
// for every process, instead of putting a sentinel value.
var countdown = mp.Register("example.countdown", func(ctx context.Context, q *mp.Queue[int]) (int, error) {
	for i := 3; i > 0; i-- {
		if err := q.Put(ctx, i); err != nil {
			return 0, err
		}
	}
	return 3, q.Shutdown()
})

// A producer shuts the queue down when it is done; the consumer's range
// gets what is left and then ends, like a range over a closed channel
// (Python 3.13: q.shutdown() and queue.ShutDown).
func ExampleQueue_Shutdown() {
	ctx := context.Background()
	q, err := mp.NewQueue[int](0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer q.Close()
	p := mp.Command(countdown, q)
	if err := p.Start(); err != nil {
		fmt.Println(err)
		return
	}
	for v, err := range q.All(ctx) {
		fmt.Println(v, err)
	}
	_, err = q.Get(ctx)
	fmt.Println("then:", err)
	fmt.Println(p.Wait(ctx))
	// Output:
	// 3 <nil>
	// 2 <nil>
	// 1 <nil>
	// then: mp: queue shut down
	// <nil>
}
