package proc

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/funcs"
	"golang.org/x/sys/unix"
)

// goroutineRunner runs a function in a goroutine of this process.
type goroutineRunner struct {
	cancel context.CancelFunc
	done   chan struct{}
	// mu guards the outcome, set when the function returns.
	mu  sync.Mutex
	out Outcome
}

// startGoroutine runs sm's function in a goroutine, on its own copies of the
// argument's descriptors, as a child process would.
func startGoroutine(sm *startMsg, fds []int) (Runner, error) {
	inv, ok := funcs.Lookup(sm.Func)
	if !ok {
		return nil, fmt.Errorf("%w: %q", errs.ErrUnknownFunction, sm.Func)
	}
	dups, err := dupFDs(fds)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &goroutineRunner{cancel: cancel, done: make(chan struct{})}
	go g.run(ctx, inv, sm, dups)
	return g, nil
}

func (g *goroutineRunner) run(ctx context.Context, inv funcs.Invoker, sm *startMsg, fds []int) {
	defer close(g.done)
	defer g.cancel()
	res, resFDs, err := inv(ctx, sm.Arg, fds)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.out.Hello = true
	if err != nil {
		g.out.Code, g.out.Result = 1, &Result{Err: errs.Describe(sm.Func, err)}
		return
	}
	g.out.Result = &Result{Value: res, FDs: resFDs}
}

// Pid returns this process's id.
func (g *goroutineRunner) Pid() int { return os.Getpid() }

// Signal cancels the function's context: a goroutine cannot be killed.
func (g *goroutineRunner) Signal(syscall.Signal) error {
	g.cancel()
	return nil
}

// Ended returns a channel closed once the function has returned.
func (g *goroutineRunner) Ended() <-chan struct{} { return g.done }

// Wait waits for the function to return, and reports it as a child's end.
func (g *goroutineRunner) Wait() Outcome {
	<-g.done
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.out
	if r := g.out.Result; r != nil {
		g.out.Result = &Result{Value: r.Value, Err: r.Err} // the descriptors go once
	}
	return out
}

func dupFDs(fds []int) ([]int, error) {
	out := make([]int, 0, len(fds))
	for _, fd := range fds {
		d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			descr.Close(out)
			return nil, fmt.Errorf("mp: duplicate descriptor: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// SetName does nothing: records of a goroutine go straight to the logger.
func (g *goroutineRunner) SetName(string) {}

// SyncOutput does nothing: a goroutine writes to this process's output.
func (g *goroutineRunner) SyncOutput() {}
