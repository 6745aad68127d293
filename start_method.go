package mp

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/mpgo/mp/internal/proc"
)

// StartMethod says how a process is started. The zero value means the
// program's default (see SetStartMethod), which is Spawn unless changed.
type StartMethod string

const (
	// Spawn starts a fresh run of the program's own binary (re-exec of
	// /proc/self/exe), which then runs the function. Starting costs one exec
	// and the Go runtime's start-up: a few milliseconds.
	Spawn StartMethod = "spawn"
	// Forkserver starts the function in a warm process: mp keeps spare,
	// fully initialized children of the program waiting, so a start costs
	// one message. The spare is replaced in the background. Env, Dir, Stdout
	// and Stderr are applied in the child before the function runs; an Env
	// that changes a variable the Go runtime reads only at start (GOGC,
	// GOMAXPROCS, GODEBUG, GOMEMLIMIT, GOTRACEBACK) falls back to Spawn.
	Forkserver StartMethod = "forkserver"
	// Goroutine runs the function in a goroutine of this process, with the
	// same API (Python's multiprocessing.dummy): for tests and I/O-bound
	// work. The argument is still encoded and decoded, so the function
	// gets its own copy; Terminate and Kill only cancel its context.
	Goroutine StartMethod = "goroutine"
	// Fork is Python's default on Linux. It cannot work in Go: every Go
	// program is multi-threaded, and a child forked without exec keeps only
	// the forking thread, so its runtime hangs (golang/go#14767). Asking for
	// it returns ErrForkUnsupported.
	Fork StartMethod = "fork"
)

var defaultMethod atomic.Value // StartMethod

// StartMethods returns the start methods that work in this program, the
// default first (Python: get_all_start_methods).
func StartMethods() []StartMethod {
	def := DefaultStartMethod()
	out := []StartMethod{def}
	for _, m := range []StartMethod{Spawn, Forkserver, Goroutine} {
		if m != def {
			out = append(out, m)
		}
	}
	return out
}

// DefaultStartMethod returns the method used when a Process or Pool names
// none (Python: get_start_method).
func DefaultStartMethod() StartMethod {
	if m, ok := defaultMethod.Load().(StartMethod); ok {
		return m
	}
	return Spawn
}

// SetStartMethod sets the default start method. Fork gives
// ErrForkUnsupported; an unknown name gives an error. Choosing Forkserver
// starts warming a spare process at once.
func SetStartMethod(m StartMethod) error {
	if err := m.check(); err != nil {
		return err
	}
	defaultMethod.Store(m)
	if m == Forkserver {
		proc.Prewarm()
	}
	return nil
}

// WarmUp makes sure at least n warm processes are kept ready for the
// Forkserver start method, and waits until they are — booted and waiting
// for work — or ctx ends.
func WarmUp(ctx context.Context, n int) error { return proc.WarmUp(ctx, n) }

func (m StartMethod) check() error {
	switch m {
	case Spawn, Forkserver, Goroutine:
		return nil
	case Fork:
		return ErrForkUnsupported
	}
	return fmt.Errorf("mp: unknown start method %q (have spawn, forkserver, goroutine)", string(m))
}

// resolve returns the method to use for m, the zero value meaning the default.
func (m StartMethod) resolve() (StartMethod, error) {
	if m == "" {
		return DefaultStartMethod(), nil
	}
	return m, m.check()
}

// proc returns how package proc starts a child of method m.
func (m StartMethod) proc() proc.Method {
	switch m {
	case Forkserver:
		return proc.Warm
	case Goroutine:
		return proc.InProcess
	}
	return proc.Spawned
}
