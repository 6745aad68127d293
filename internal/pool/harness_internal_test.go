package pool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/funcs"
	"github.com/mpgo/mp/internal/proc"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
)

// The engine's tests run it without package mp: workers are this test
// binary (or goroutines of it), started through package proc with the
// worker loop registered below, and tasks call functions registered
// directly in package funcs.

func TestMain(m *testing.M) {
	proc.Main(nil)
	os.Exit(m.Run())
}

// The worker loop, as package mp registers it: its two sockets travel as
// the argument's descriptors.
func init() {
	funcs.Add("pool_test.worker", func(ctx context.Context, _ []byte, fds []int) ([]byte, []int, error) {
		if len(fds) != 2 {
			descr.Close(fds)
			return nil, nil, errors.New("want two sockets")
		}
		tasks, err1 := transport.NewConn(fds[0])
		cancels, err2 := transport.NewConn(fds[1])
		if err := errors.Join(err1, err2); err != nil {
			return nil, nil, err
		}
		return nil, nil, Work(ctx, tasks, cancels, false)
	}, nil)
	addFunc("pool_test.square", func(_ context.Context, x int) (int, error) { return x * x, nil })
	addFunc("pool_test.sleep", func(ctx context.Context, ms int) (int, error) {
		time.Sleep(time.Duration(ms) * time.Millisecond) // ignores ctx on purpose
		return ms, nil
	})
	addFunc("pool_test.pid", func(context.Context, int) (int, error) { return os.Getpid(), nil })
	addFunc("pool_test.fail", func(_ context.Context, x int) (int, error) { return 0, fmt.Errorf("fail %d: %w", x, errs.ErrFull) })
}

// addFunc registers fn in package funcs, as mp.Register does (single
// calls only).
func addFunc[In, Out any](name string, fn func(context.Context, In) (Out, error)) {
	funcs.Add(name, func(ctx context.Context, arg []byte, fds []int) ([]byte, []int, error) {
		var in In
		if err := wire.Unmarshal(arg, fds, &in); err != nil {
			return nil, nil, err
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		return wire.Marshal(out)
	}, nil)
}

// worker process: a proc.Runner as the engine's Proc.
type testProc struct {
	r    proc.Runner
	done chan struct{}
	out  proc.Outcome
}

func startTestProc(name string, tasks, cancels *transport.Conn) (Proc, error) {
	var fds []int
	tasks.Control(func(fd int) { fds = append(fds, fd) })
	cancels.Control(func(fd int) { fds = append(fds, fd) })
	r, err := proc.Start(&proc.Spec{Func: "pool_test.worker", ArgFDs: fds, Name: name, Method: proc.Spawned})
	if err != nil {
		return nil, err
	}
	p := &testProc{r: r, done: make(chan struct{})}
	go func() {
		p.out = p.r.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *testProc) Pid() int              { return p.r.Pid() }
func (p *testProc) Done() <-chan struct{} { return p.done }
func (p *testProc) Kill() error           { return p.r.Signal(syscall.SIGKILL) }
func (p *testProc) SyncOutput()           {}
func (p *testProc) Close() error          { return nil }
func (p *testProc) Exit() Exit {
	<-p.done
	return Exit{Code: p.out.Code, Signal: p.out.Signal, Stderr: p.out.Stderr}
}

// deathError is what the tests' WorkerDied makes of a death.
type deathError struct{ Death }

func (e *deathError) Error() string {
	return "worker " + strconv.Itoa(e.Pid) + " died: code " + strconv.Itoa(e.Exit.Code)
}

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	cfg.Start = startTestProc
	cfg.RemoteError = func(r *errs.Remote) error { return r }
	cfg.WorkerDied = func(d Death) error { return &deathError{d} }
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Terminate)
	return e
}

// owner collects the outcome of a task.
type owner struct {
	mu      sync.Mutex
	unwant  bool
	results []Result
	got     chan Result
}

func newOwner() *owner { return &owner{got: make(chan Result, 4)} }

func (o *owner) Wanted() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.unwant && len(o.results) == 0
}

func (o *owner) Deliver(r Result) {
	o.mu.Lock()
	o.results = append(o.results, r)
	o.mu.Unlock()
	o.got <- r
}

func (o *owner) drop() {
	o.mu.Lock()
	o.unwant = true
	o.mu.Unlock()
}

var nextID struct {
	sync.Mutex
	n uint64
}

func newTask(t *testing.T, fn string, arg any, o Owner) *Task {
	t.Helper()
	data, fds, err := wire.Marshal(arg)
	if err != nil {
		t.Fatal(err)
	}
	nextID.Lock()
	nextID.n++
	id := nextID.n
	nextID.Unlock()
	return &Task{ID: id, Func: fn, Arg: data, FDs: fds, Owner: o}
}

func await(t *testing.T, o *owner) Result {
	t.Helper()
	select {
	case r := <-o.got:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("no outcome after 20 s")
		return Result{}
	}
}

func decode[T any](t *testing.T, r Result) T {
	t.Helper()
	var v T
	if r.Err != nil {
		t.Fatalf("task failed: %v", r.Err)
	}
	if err := wire.Unmarshal(r.Value, r.FDs, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
