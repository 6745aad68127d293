package pool

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

func TestEngineRunsTasks(t *testing.T) {
	e := newEngine(t, Config{})
	var owners []*owner
	for i := range 50 {
		o := newOwner()
		owners = append(owners, o)
		e.Run(newTask(t, "pool_test.square", i, o))
	}
	for i, o := range owners {
		if got := decode[int](t, await(t, o)); got != i*i {
			t.Fatalf("square(%d) = %d", i, got)
		}
	}
	o := newOwner()
	e.Run(newTask(t, "pool_test.fail", 3, o))
	var re *errs.Remote
	if r := await(t, o); !errors.As(r.Err, &re) || re.Message != "fail 3: mp: queue full" {
		t.Fatalf("failing task: %v", r.Err)
	}
	e.Close()
	if err := e.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	o = newOwner()
	e.Run(newTask(t, "pool_test.square", 1, o))
	if r := await(t, o); !errors.Is(r.Err, errs.ErrPoolClosed) {
		t.Fatalf("task after Close: %v, want PoolClosed", r.Err)
	}
}

// A worker killed while it runs a task fails that task with the death the
// engine reports; the engine replaces it and goes on.
func TestEngineWorkerDeath(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	o := newOwner()
	e.Run(newTask(t, "pool_test.pid", 0, o))
	pid := decode[int](t, await(t, o))
	slow := newOwner()
	e.Run(newTask(t, "pool_test.sleep", 60_000, slow))
	waitRunning(t, e)
	syscall.Kill(pid, syscall.SIGKILL)
	var de *deathError
	if r := await(t, slow); !errors.As(r.Err, &de) || de.Pid != pid || de.Exit.Signal != syscall.SIGKILL {
		t.Fatalf("task of the killed worker: %v", r.Err)
	}
	o = newOwner()
	e.Run(newTask(t, "pool_test.pid", 0, o))
	if got := decode[int](t, await(t, o)); got == pid {
		t.Fatal("the dead worker ran a task")
	}
}

// waitRunning waits until the engine's worker has started a task.
func waitRunning(t *testing.T, e *Engine) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
		e.mu.Lock()
		running := len(e.workers) > 0 && e.workers[0].prog.read().Task != 0
		e.mu.Unlock()
		if running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no task started after 20 s")
		}
	}
}

// Cancel of a running task kills its worker after the grace period when
// the task ignores its context; its owner hears nothing more.
func TestEngineCancelRunning(t *testing.T) {
	defer func(old int64) { KillGrace.Store(old) }(KillGrace.Swap(int64(50 * time.Millisecond)))
	e := newEngine(t, Config{Workers: 1})
	o := newOwner()
	tk := newTask(t, "pool_test.sleep", 60_000, o)
	e.Run(tk)
	waitRunning(t, e)
	o.drop()
	e.Cancel(tk)
	next := newOwner()
	e.Run(newTask(t, "pool_test.square", 4, next))
	if got := decode[int](t, await(t, next)); got != 16 {
		t.Fatalf("square(4) = %d", got)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.results) != 0 {
		t.Fatalf("the cancelled task's owner heard %v", o.results)
	}
}

// A task its owner no longer wants before it is sent is dropped without a
// report; Terminate fails what is left.
func TestEngineDropsUnwantedAndTerminates(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	busy := newOwner()
	e.Run(newTask(t, "pool_test.sleep", 60_000, busy))
	waitRunning(t, e)
	dropped, queued := newOwner(), newOwner()
	dropped.drop()
	e.Run(newTask(t, "pool_test.square", 2, dropped), newTask(t, "pool_test.square", 3, queued))
	e.Terminate()
	for _, o := range []*owner{busy, queued} {
		if r := await(t, o); !errors.Is(r.Err, errs.ErrPoolClosed) {
			t.Errorf("after Terminate: %v, want PoolClosed", r.Err)
		}
	}
	if len(dropped.results) != 0 {
		t.Errorf("the unwanted task was reported: %v", dropped.results)
	}
}

// A task past its deadline gets its worker killed, and fails with an error
// matching errs.ErrTimeout and context.DeadlineExceeded.
func TestEngineDeadlineKills(t *testing.T) {
	defer func(old int64) { KillGrace.Store(old) }(KillGrace.Swap(int64(50 * time.Millisecond)))
	e := newEngine(t, Config{Workers: 1})
	o := newOwner()
	tk := newTask(t, "pool_test.sleep", 60_000, o)
	tk.Deadline = time.Now().Add(100 * time.Millisecond)
	e.Run(tk)
	if r := await(t, o); !errors.Is(r.Err, errs.ErrTimeout) || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Fatalf("task past its deadline: %v", r.Err)
	}
}

// A task with more descriptors than a message to a worker carries fails at
// once; the worker is not blamed for it.
func TestEngineRefusesTooManyDescriptors(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	o := newOwner()
	e.Run(newTask(t, "pool_test.pid", 0, o))
	pid := decode[int](t, await(t, o))
	o = newOwner()
	tk := newTask(t, "pool_test.square", 2, o)
	for range maxBatchFDs + 1 {
		fd, err := syscall.Dup(0)
		if err != nil {
			t.Fatal(err)
		}
		tk.FDs = append(tk.FDs, fd)
	}
	e.Run(tk)
	if r := await(t, o); r.Err == nil || !strings.Contains(r.Err.Error(), "descriptors (a handle carries one or more), at most") {
		t.Fatalf("task with %d descriptors: %v", len(tk.FDs), r.Err)
	}
	o = newOwner()
	e.Run(newTask(t, "pool_test.pid", 0, o))
	if got := decode[int](t, await(t, o)); got != pid {
		t.Fatalf("the worker was replaced (pid %d, then %d)", pid, got)
	}
}
