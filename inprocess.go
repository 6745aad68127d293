package mp

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// goroutineRunner runs a function in a goroutine of this process.
type goroutineRunner struct {
	cancel context.CancelFunc
	done   chan struct{}
	// mu guards the outcome, set when the function returns.
	mu     sync.Mutex
	code   int
	result *resultMsg
	resFDs []int
	err    error
}

// startGoroutine runs sm's function in a goroutine, on its own copies of the
// argument's descriptors, as a child process would.
func startGoroutine(sm *startMsg, fds []int) (runner, int, error) {
	inv, ok := lookup(sm.Func)
	if !ok {
		return nil, 0, fmt.Errorf("%w: %q", ErrUnknownFunction, sm.Func)
	}
	dups, err := dupFDs(fds)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &goroutineRunner{cancel: cancel, done: make(chan struct{})}
	go g.run(ctx, inv, sm, dups)
	return g, os.Getpid(), nil
}

func (g *goroutineRunner) run(ctx context.Context, inv invoker, sm *startMsg, fds []int) {
	defer close(g.done)
	defer g.cancel()
	res, resFDs, err := inv(ctx, sm.Arg, fds)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.code, g.err = 1, toRemote(sm.Func, err)
		g.result = &resultMsg{Err: g.err.(*RemoteError)}
		return
	}
	g.result, g.resFDs = &resultMsg{Value: res}, resFDs
}

// signal cancels the function's context: a goroutine cannot be killed.
func (g *goroutineRunner) signal(syscall.Signal) error {
	g.cancel()
	return nil
}

func (g *goroutineRunner) finished(string) (int, *resultMsg, []int, error) {
	<-g.done
	g.mu.Lock()
	defer g.mu.Unlock()
	fds := g.resFDs
	g.resFDs = nil
	return g.code, g.result, fds, g.err
}

func dupFDs(fds []int) ([]int, error) {
	out := make([]int, 0, len(fds))
	for _, fd := range fds {
		d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			closeFDs(out)
			return nil, fmt.Errorf("mp: duplicate descriptor: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

func (g *goroutineRunner) setName(string) {}

func (g *goroutineRunner) syncOutput() {}
