package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/background"
	"github.com/mpgo/mp/internal/descr"
)

// warmPool keeps spare children of this program waiting for work, for the
// Forkserver start method. A spare has run the Go runtime's start-up and
// every init, and waits in Main for its start message; starting a function
// in it costs one message. Spares are this process's own children, so they
// are reaped by it and die with it like any other child.
type warmPool struct {
	// mu guards the fields below; ready is signalled when spares change.
	mu       sync.Mutex
	ready    *sync.Cond
	spares   []*child
	spawning int
	target   int
	lastErr  error
}

var warm = func() *warmPool {
	w := &warmPool{target: 1}
	w.ready = sync.NewCond(&w.mu)
	return w
}()

// prewarm starts spawning spares up to the target.
func (w *warmPool) prewarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.refillLocked()
}

// refillLocked starts spawning spares until spares and spawns in flight
// reach the target.
func (w *warmPool) refillLocked() {
	for len(w.spares)+w.spawning < w.target {
		w.spawning++
		background.Go(w.spawnOne)
	}
}

// spawnOne spawns a spare. The spare joins the pool at once — taking it
// while it boots still beats spawning another — and WarmUp's waiters are
// woken again once it has booted: its runtime and inits done, it waits for
// work.
func (w *warmPool) spawnOne() {
	c, err := spawnSpare(background.Go)
	w.mu.Lock()
	w.spawning--
	w.lastErr = err
	if err == nil {
		background.Track(c.pid, c.heldFDs()...)
		w.spares = append(w.spares, c)
	}
	w.ready.Broadcast()
	w.mu.Unlock()
	if err != nil {
		return
	}
	booted := false
	select {
	case <-c.ready:
		booted = true
	case <-c.done:
	}
	w.mu.Lock()
	w.ready.Broadcast()
	w.mu.Unlock()
	<-c.done
	w.dropDead(c, booted)
}

// dropDead takes out of the pool a spare that died before it was taken
// (killed from outside, say) and starts a replacement, so that WarmUp and
// later starts do not count on it. A spare that died before it booted is
// not replaced: its death is reported to WarmUp instead, rather than
// respawned for ever.
func (w *warmPool) dropDead(c *child, booted bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := slices.Index(w.spares, c)
	if i < 0 {
		return // taken: it ended running its function
	}
	w.spares = slices.Delete(w.spares, i, i+1)
	background.Untrack(c.pid)
	if booted {
		w.refillLocked()
	} else {
		w.lastErr = errors.New("mp: a warm process died before it was ready")
	}
	w.ready.Broadcast()
}

// pickLocked removes and returns a spare, preferring one that has booted.
func (w *warmPool) pickLocked() *child {
	i := slices.IndexFunc(w.spares, func(c *child) bool { return isClosed(c.ready) })
	if i < 0 {
		i = 0
	}
	c := w.spares[i]
	w.spares = slices.Delete(w.spares, i, i+1)
	background.Untrack(c.pid)
	return c
}

// bootedLocked counts the spares that have booted.
func (w *warmPool) bootedLocked() int {
	n := 0
	for _, c := range w.spares {
		if isClosed(c.ready) && !c.exited() {
			n++
		}
	}
	return n
}

// refillDelay is how long a replacement spare waits before it is spawned,
// unless the process that took the last one ends first: spawning costs a few
// milliseconds of CPU, which would otherwise compete with the process just
// started.
const refillDelay = 20 * time.Millisecond

// take returns a spare, waiting for one being spawned if none is ready, or
// spawning one itself if none is on its way. It replaces the spare once
// ended is closed or after refillDelay.
func (w *warmPool) take(ended <-chan struct{}) (*child, error) {
	c, err := w.takeSpare()
	if err == nil {
		background.Go(func() {
			t := time.NewTimer(refillDelay)
			defer t.Stop()
			select {
			case <-ended:
			case <-t.C:
			}
			w.prewarm()
		})
	}
	return c, err
}

// takeSpare returns a spare, or waits for one being spawned, or spawns one
// if none is on its way.
func (w *warmPool) takeSpare() (*child, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for len(w.spares) > 0 {
			if c := w.pickLocked(); !c.exited() {
				return c, nil
			}
		}
		if w.spawning == 0 {
			w.mu.Unlock()
			c, err := spawnSpare(func(fn func()) { go fn() })
			w.mu.Lock()
			return c, err
		}
		w.ready.Wait()
	}
}

// spawnSpare spawns a warm spare in this process's environment and working
// directory, and records both, so that a start that wants the same sends
// neither: the spare has them already.
func spawnSpare(goFn func(func())) (*child, error) {
	env := os.Environ()
	dir, err := os.Getwd()
	if err != nil {
		dir = "" // the spare inherits it; every start names its directory
	}
	c, err := spawnWith(warmTitle, env, dir, childStdio{}, goFn)
	if err != nil {
		return nil, err
	}
	c.spareEnv, c.spareDir = env, dir
	return c, nil
}

// Prewarm starts warming spare processes up to the number kept ready (at
// least one).
func Prewarm() { warm.prewarm() }

// WarmUp makes sure at least n warm processes are kept ready, and waits
// until they are — booted and waiting for work — or ctx ends.
func WarmUp(ctx context.Context, n int) error {
	w := warm
	w.mu.Lock()
	w.target = max(w.target, n)
	w.refillLocked()
	w.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.ready.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.bootedLocked() < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		if w.lastErr != nil && w.spawning == 0 {
			return w.lastErr
		}
		w.ready.Wait()
	}
	return nil
}

// runtimeVars are read by the Go runtime at start-up only.
var runtimeVars = []string{"GOGC", "GOMAXPROCS", "GODEBUG", "GOMEMLIMIT", "GOTRACEBACK"}

// warmable reports whether a warm process can run with env: whether env
// agrees with this process's environment on every variable the Go runtime
// reads at start-up.
func warmable(env []string) bool {
	if env == nil {
		return true
	}
	for _, k := range runtimeVars {
		if lookupEnv(env, k) != lookupEnv(os.Environ(), k) {
			return false
		}
	}
	return true
}

func lookupEnv(env []string, key string) string {
	for _, kv := range slices.Backward(env) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return "\x00unset"
}

// startWarm starts sm in a warm spare, telling it the environment,
// directory and output it must take on.
func startWarm(s *Spec, sm *startMsg) (Runner, error) {
	waited := make(chan struct{})
	c, err := warm.take(waited)
	if err != nil {
		return nil, err
	}
	sm.Warm = true
	sm.Env, sm.Dir = c.changes(s.Env, s.Dir)
	wr := &warmRunner{child: c, waited: waited}
	fds := slices.Clone(s.ArgFDs)
	extra, err := wr.redirect(sm, s, &fds)
	defer descr.Close(extra)
	if err == nil {
		err = c.start(sm, fds)
	}
	if err != nil {
		c.Signal(syscall.SIGKILL)
		wr.Wait().Result.Close()
		return nil, fmt.Errorf("mp: start a warm process: %w", err)
	}
	return wr, nil
}

// changes returns the environment and working directory a start in spare c
// must apply (env and dir as in Spec; nil and "" for this process's): those
// that differ from what c was spawned with, nil or "" for those that do
// not. A process's environment is usually what it was, and comparing it
// costs far less than sending it and setting every variable again.
func (c *child) changes(env []string, dir string) ([]string, string) {
	if env == nil {
		env = os.Environ()
	}
	if slices.Equal(env, c.spareEnv) {
		env = nil
	}
	if dir == "" {
		dir, _ = os.Getwd()
	}
	if dir == c.spareDir && dir != "" {
		dir = ""
	}
	return env, dir
}

// warmRunner is a spare running a function, with the output copies made
// for it.
type warmRunner struct {
	*child
	copies []*outputCopy
	tail   *outputCopy
	// waited is closed once a Wait has seen the process end: then its
	// spare is replaced. Replaced as soon as the process ended, the spawn
	// took the processor from the goroutines that report the end to the
	// waiter: a warm start and wait took about 15% longer here.
	waited   chan struct{}
	waitOnce sync.Once
}

// redirect adds to fds the descriptors the child must put in place of its
// standard output and error, and returns them for the caller to close once
// sent.
func (wr *warmRunner) redirect(sm *startMsg, s *Spec, fds *[]int) ([]int, error) {
	var extra []int
	for _, o := range []struct {
		w   io.Writer
		idx *int
	}{{s.Stdout, &sm.StdoutFD}, {s.Stderr, &sm.StderrFD}} {
		if o.w == nil {
			continue
		}
		fd, oc, err := outputFD(o.w)
		if err != nil {
			return extra, err
		}
		if oc != nil {
			wr.copies = append(wr.copies, oc)
			if o.idx == &sm.StderrFD {
				wr.tail = oc
			}
		}
		extra = append(extra, fd)
		*o.idx = len(*fds)
		*fds = append(*fds, fd)
	}
	return extra, nil
}

// SyncOutput copies at once what the process wrote to the pipes mp copies.
func (wr *warmRunner) SyncOutput() { syncCopies(wr.copies) }

// Wait waits for the process to end, and for its output copies.
func (wr *warmRunner) Wait() Outcome {
	<-wr.done
	deadline := time.Now().Add(drainTimeout)
	for _, oc := range wr.copies {
		oc.finish(deadline)
	}
	if wr.tail != nil {
		wr.child.mu.Lock()
		wr.child.stderrCopy = wr.tail
		wr.child.mu.Unlock()
	}
	defer wr.waitOnce.Do(func() { close(wr.waited) })
	return wr.child.outcome()
}
