package mp_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

type effArg struct {
	Path  string
	N     int
	Crash bool
}

// sideEffect records that it ran (a line in a file), then, if asked, makes
// its worker exit at once.
var sideEffect = mp.Register("test.pool.sideEffect", func(_ context.Context, a effArg) (int, error) {
	if a.Crash {
		os.Exit(3)
	}
	f, err := os.OpenFile(a.Path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	_, err = f.WriteString(strings.Repeat("x", a.N+1) + "\n")
	return a.N, err
})

// A callback may terminate its pool (Python allows it: terminate does not
// join the result handler from the result handler), and so may a
// goroutine the callback hands Terminate to and waits for: Terminate does
// not wait for the callbacks.
func TestPoolCallbackTerminates(t *testing.T) {
	for _, c := range []struct {
		name      string
		terminate func(p *mp.Pool)
	}{
		{"directly", func(p *mp.Pool) { p.Terminate() }},
		{"handed off", func(p *mp.Pool) {
			terminated := make(chan struct{})
			go func() {
				p.Terminate()
				close(terminated)
			}()
			<-terminated
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mptest.CheckLeaks(t)
			p, err := mp.NewPool(mp.PoolOptions{Processes: 1})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			mp.Submit(context.Background(), p, square, 3, mp.Callback[int]{Result: func(int) {
				c.terminate(p)
				close(done)
			}})
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Terminate called from a callback has not returned after 10 s")
			}
			if err := p.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A worker that crashes right after finishing tasks whose results were still
// batched: those tasks are not run a second time, and their results are
// delivered.
func TestPoolCrashDoesNotRerunFinishedTasks(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	// Fast tasks: the window grows beyond one.
	if _, err := mp.Map(ctx, p, square, make([]int, 300), 1); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "runs")
	os.WriteFile(path, nil, 0o600)
	in := []effArg{{Path: path, N: 0}, {Path: path, N: 1}, {Path: path, Crash: true}}
	var errs []error
	for _, r := range mp.ImapUnordered(ctx, p, sideEffect, func(yield func(effArg) bool) {
		for _, a := range in {
			if !yield(a) {
				return
			}
		}
	}, mp.ImapOptions{Chunk: 1}) {
		errs = append(errs, r.Err)
	}
	data, _ := os.ReadFile(path)
	runs := strings.Fields(string(data))
	if len(runs) != 2 {
		t.Errorf("2 tasks ran %d times: %v", len(runs), runs)
	}
	lost, died := 0, 0
	for _, err := range errs {
		var wd *mp.WorkerDiedError
		switch {
		case err == nil:
		case errors.As(err, &wd) && wd.ResultLost:
			lost++
		case errors.Is(err, mp.ErrWorkerDied):
			died++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	// The finished tasks' results were held for a batch when the worker
	// died: the pool recovers them from the worker's progress page.
	if died != 1 || lost != 0 {
		t.Errorf("errors %v: want only the crashing task to fail", errs)
	}
}

// The pool's reader meets a receive error that is not the end of the stream
// (here MSG_CTRUNC: no descriptor left for the result's handles): the worker
// is killed, so that its task resolves instead of waiting for ever.
func TestPoolReceiveErrorKillsWorker(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	if _, err := mp.Apply(ctx, p, square, 2); err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old)
	var fill []int
	func() {
		lim := old
		lim.Cur = 1024
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		for {
			fd, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				break
			}
			fill = append(fill, fd)
		}
	}()
	f := mp.Submit(ctx, p, manyConns, 2)
	// The task resolves while this process still has no descriptor left:
	// the worker's result cannot be received whole, and the pool kills the
	// worker rather than wait for it.
	select {
	case <-f.Done():
	case <-time.After(20 * time.Second):
	}
	for _, fd := range fill {
		syscall.Close(fd)
	}
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conns, err := f.Get(wctx)
	for _, c := range conns {
		c.Close()
	}
	if errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("the task never resolved: %v", err)
	}
}

// A callback may close its pool, and a Wait from outside returns once the
// callbacks due have run: here the callback of the last task, which closes
// the pool, and the callbacks of the tasks before it.
func TestPoolCallbackCloses(t *testing.T) {
	mptest.CheckLeaks(t)
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ran []int // written by the callbacks, one at a time; read after Wait
	for i := range 20 {
		mp.Submit(context.Background(), p, square, i, mp.Callback[int]{Result: func(v int) { ran = append(ran, v) }})
	}
	closed := make(chan struct{})
	mp.Submit(context.Background(), p, square, 100, mp.Callback[int]{Result: func(v int) {
		ran = append(ran, v)
		p.Close()
		close(closed)
	}})
	<-closed
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("Wait after a callback closed the pool: %v", err)
	}
	if len(ran) != 21 {
		t.Fatalf("Wait returned after %d callbacks, want 21", len(ran))
	}
}

// Wait called from a callback waits for that callback too: it returns the
// context's error when the context ends, as its documentation says.
func TestPoolWaitFromCallbackEndsWithContext(t *testing.T) {
	mptest.CheckLeaks(t)
	p, err := mp.NewPool(mp.PoolOptions{Processes: 1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	mp.Submit(context.Background(), p, square, 3, mp.Callback[int]{Result: func(int) {
		p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		done <- p.Wait(ctx)
	}})
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait from a callback = %v, want the context's deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait(ctx with a 100 ms timeout) from a callback has not returned after 10 s")
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A callback that terminates its pool runs in the pool's callback
// goroutine even when its task is the last thing the pool finishes: here
// the last worker's death, delivered after the pool has closed. (Run in
// the goroutine that delivered it, it would wait for itself.)
func TestPoolCallbackTerminatesAfterLastWorkerDied(t *testing.T) {
	mptest.CheckLeaks(t)
	for range 10 {
		p, err := mp.NewPool(mp.PoolOptions{Processes: 1})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		mp.Submit(context.Background(), p, exit, 3, mp.Callback[int]{Error: func(error) {
			p.Terminate()
			close(done)
		}})
		p.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Terminate from the callback of the last task has not returned after 10 s")
		}
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
