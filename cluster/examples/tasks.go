package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
	mpexamples "github.com/mpgo/mp/examples"
)

func init() {
	mpexamples.Add(mpexamples.Example{Topic: "cluster", Name: "cluster-task-master", Also: []int{68, 69},
		Title: "the task master and its two workers, on the engine's queues: workers connect by address and key", Run: taskMaster})
}

// authKey is the key master and workers share, as in the seeds.
const authKey = "abc"

// workerArg is what a task worker is told, as a worker program on another
// machine would be told on its command line: where the engine is, and the
// key.
type workerArg struct {
	URL  string
	Key  string
	Work time.Duration // how long one task takes
}

// taskWorker is the program of seed 69 (Python's task_worker.py), run as a
// child process. It knows nothing of the master but the engine's address
// and the key: it connects as a program on another machine would.
var taskWorker = mp.Register("cluster.examples.taskWorker", func(ctx context.Context, a workerArg) (struct{}, error) {
	return struct{}{}, worker(ctx, os.Stdout, a)
})

// openQueues opens the queues master and workers share (Python:
// QueueManager.register of get_task_queue and get_result_queue).
func openQueues(ctx context.Context, c *cluster.Cluster) (*cluster.JoinableQueue[int], *cluster.Queue[string], error) {
	task, err := cluster.NewJoinableQueue[int](ctx, c, "task_queue", nil)
	if err != nil {
		return nil, nil, err
	}
	result, err := cluster.NewQueue[string](ctx, c, "result_queue", nil)
	if err != nil {
		task.Close()
		return nil, nil, err
	}
	return task, result, nil
}

// worker squares the numbers it takes from the task queue, taking work
// for each, and puts the results into the result queue, until the task
// queue stays empty for one second.
func worker(ctx context.Context, w io.Writer, a workerArg) error {
	fmt.Fprintf(w, "Connect to server %s...\n", a.URL)
	c, err := cluster.Connect(ctx, a.URL, &cluster.ConnectOptions{Key: []byte(a.Key)})
	if err != nil {
		return err
	}
	defer c.Close()
	task, result, err := openQueues(ctx, c)
	if err != nil {
		return err
	}
	defer task.Close()
	for {
		gctx, cancel := context.WithTimeout(ctx, time.Second) // task.get(timeout=1)
		n, err := task.Get(gctx)
		cancel()
		if errors.Is(err, mp.ErrEmpty) {
			fmt.Fprintln(w, "task queue is empty.")
			break
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "run task %d * %d...\n", n, n)
		if err := mpexamples.Sleep(ctx, a.Work); err != nil {
			return err
		}
		if err := result.Put(ctx, fmt.Sprintf("%d * %d = %d", n, n, n*n)); err != nil {
			return err
		}
		if err := task.TaskDone(ctx); err != nil { // only now may the engine forget the task
			return err
		}
	}
	fmt.Fprintln(w, "worker exit.")
	return nil
}

// taskMaster is seeds 68 and 69 on the engine: the master starts an
// engine, puts ten numbers into its task queue, starts two workers as
// separate processes that are told only the address and the key, and
// reads ten results.
func taskMaster(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "mp-tour-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c, err := cluster.Start(ctx, &cluster.Options{Dir: dir, Key: []byte(authKey)})
	if err != nil {
		return err
	}
	defer c.Close()
	task, result, err := openQueues(ctx, c)
	if err != nil {
		return err
	}
	defer task.Close()
	for range 10 {
		n := rand.IntN(10001)
		fmt.Fprintf(w, "Put task %d...\n", n)
		if err := task.Put(ctx, n); err != nil {
			return err
		}
	}
	workers, err := mpexamples.StartN(2, w, taskWorker, func(int) workerArg {
		return workerArg{URL: c.URL(), Key: authKey, Work: 100 * time.Millisecond}
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Try get results...")
	for range 10 {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second) // result.get(timeout=10)
		r, err := result.Get(rctx)
		cancel()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Result: %s\n", r)
	}
	if err := task.Wait(ctx); err != nil { // every task marked done
		return err
	}
	if err := mpexamples.WaitAll(ctx, workers...); err != nil {
		return err
	}
	fmt.Fprintln(w, "master exit.")
	mpexamples.Note(w, "the seeds' queues lived in the master's memory, so a worker that died took its task with it; here they are streams on the engine's disk, the task queue is joinable, and a worker marks a task done only after putting its result: a worker killed before that has its task delivered to another worker, and a master started again on the same store finds what was left")
	return nil
}
