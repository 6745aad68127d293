package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/manager"
)

func init() {
	examples.Add(examples.Example{Seed: 68, Topic: "manager", Name: "task-master", Title: "a manager publishes two queues on TCP; two worker processes connect by address and key", Run: taskMaster})
	examples.Add(examples.Example{Seed: 69, Topic: "manager", Name: "task-worker", Title: "a worker connects to a program that serves its own queues; a wrong key is refused", Run: taskWorkerDemo})
}

// authKey is the key master and workers share, as in the seeds.
const authKey = "abc"

// queues is what the master publishes (Python: QueueManager.register).
var queues = map[string]manager.Spec{
	"get_task_queue":   {Kind: manager.KindQueue},
	"get_result_queue": {Kind: manager.KindQueue},
}

// workerArg is what a worker is told, as a worker program on another
// machine would be told on its command line: where the master is, and the
// key.
type workerArg struct {
	Addr string
	Key  string
	Work time.Duration // how long one task takes
}

// taskWorker is the program of seed 69 (Python's task_worker.py; the seed
// programs are described in package examples), run as a child process. It knows nothing
// of the master but its address and key: it dials like a separate machine
// would.
var taskWorker = mp.Register("examples.manager.taskWorker", func(ctx context.Context, a workerArg) (struct{}, error) {
	return struct{}{}, Worker(ctx, os.Stdout, a.Addr, a.Key, a.Work)
})

// Worker is the task worker of Python's task_worker.py, the tour's seed
// program 69 (the seed programs are described in package examples): it
// connects to the master at addr with key, squares the numbers it takes
// from the task queue, taking work for each, and puts the results into the
// result queue, until the task queue stays empty for one second. The
// taskworker command runs it as a program of its own.
func Worker(ctx context.Context, w io.Writer, addr, key string, work time.Duration) error {
	fmt.Fprintf(w, "Connect to server %s...\n", addr)
	m, err := manager.Dial(ctx, addr, &manager.DialOptions{AuthKey: []byte(key)})
	if err != nil {
		fmt.Fprintln(w, "worker cannot connect:", err)
		return err
	}
	defer m.Close()
	task, err := manager.Lookup[manager.Queue[int]](ctx, m, "get_task_queue")
	if err != nil {
		return err
	}
	result, err := manager.Lookup[manager.Queue[string]](ctx, m, "get_result_queue")
	if err != nil {
		return err
	}
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
		time.Sleep(work)
		if err := result.Put(ctx, fmt.Sprintf("%d * %d = %d", n, n, n*n)); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "worker exit.")
	return nil
}

// putTasks puts ten random numbers into the task queue.
func putTasks(ctx context.Context, w io.Writer, task *manager.Queue[int]) error {
	for range 10 {
		n := rand.IntN(10001)
		fmt.Fprintf(w, "Put task %d...\n", n)
		if err := task.Put(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// getResults reads ten results, waiting at most ten seconds for each.
func getResults(ctx context.Context, w io.Writer, result *manager.Queue[string]) error {
	fmt.Fprintln(w, "Try get results...")
	for range 10 {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second) // result.get(timeout=10)
		r, err := result.Get(rctx)
		cancel()
		if err != nil {
			return err // after ten seconds without a worker: mp.ErrEmpty, as Python's queue.Empty
		}
		fmt.Fprintf(w, "Result: %s\n", r)
	}
	return nil
}

// taskMaster is seed 68, Python's task_master.py: the queues live in a manager's server process on
// TCP, and two workers, started as separate processes that are only told
// the address and the key, square the numbers.
func taskMaster(ctx context.Context, w io.Writer) error {
	m, err := manager.Start(ctx, &manager.Options{Address: "127.0.0.1:0", AuthKey: []byte(authKey), Shared: queues})
	if err != nil {
		return err
	}
	defer m.Close()
	task, err := manager.Lookup[manager.Queue[int]](ctx, m, "get_task_queue")
	if err != nil {
		return err
	}
	result, err := manager.Lookup[manager.Queue[string]](ctx, m, "get_result_queue")
	if err != nil {
		return err
	}
	if err := putTasks(ctx, w, task); err != nil {
		return err
	}
	workers := make([]*mp.Process, 2)
	for i := range workers {
		workers[i] = mp.Command(taskWorker, workerArg{Addr: m.Addr(), Key: authKey, Work: 100 * time.Millisecond})
		workers[i].Stdout = w
		if err := workers[i].Start(); err != nil {
			return err
		}
		defer workers[i].Close()
	}
	err = getResults(ctx, w, result)
	for _, p := range workers {
		if werr := p.Wait(ctx); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	if err := m.Shutdown(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, "master exit.")
	return nil
}

// taskWorkerDemo is seed 69 from the worker's side. This program is itself
// the server (Python: get_server().serve_forever()) on a TCP port; one
// worker process with the right key takes the tasks, one with a wrong key
// is refused with manager.ErrAuthentication.
func taskWorkerDemo(ctx context.Context, w io.Writer) error {
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: []byte(authKey)})
	for name, spec := range queues {
		srv.Register(name, manager.NewShared(spec))
	}
	ln, err := manager.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	defer func() { stop(); <-served }()
	addr := ln.Addr().String()

	m, err := manager.Dial(ctx, addr, &manager.DialOptions{AuthKey: []byte(authKey)})
	if err != nil {
		return err
	}
	defer m.Close()
	task, err := manager.Lookup[manager.Queue[int]](ctx, m, "get_task_queue")
	if err != nil {
		return err
	}
	if err := putTasks(ctx, io.Discard, task); err != nil {
		return err
	}
	worker := mp.Command(taskWorker, workerArg{Addr: addr, Key: authKey})
	worker.Stdout = w
	if err := worker.Run(ctx); err != nil {
		return err
	}
	worker.Close()

	intruder := mp.Command(taskWorker, workerArg{Addr: addr, Key: "not abc"})
	intruder.Stdout = io.Discard
	err = intruder.Run(ctx)
	intruder.Close()
	fmt.Fprintln(w, "a worker with a wrong key gets manager.ErrAuthentication:", errors.Is(err, manager.ErrAuthentication))
	return nil
}
