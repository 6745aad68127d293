package pool

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
)

const (
	// maxAttempts bounds how often a task is given to a worker that then
	// died while the task waited behind another: a task that keeps being
	// there when workers die fails instead of running for ever.
	maxAttempts = 3
	// maxWindow bounds the tasks given to one worker at a time; the window
	// shrinks to one for slow tasks (see windowLocked).
	maxWindow = 128
	// windowWork is about how much work, in time, a worker is given ahead.
	windowWork = 200 * time.Microsecond
)

// KillGrace is how long a task past its deadline, or cancelled, may take
// to return before its worker is killed, in nanoseconds. Tests widen it.
var KillGrace atomic.Int64

func init() { KillGrace.Store(int64(100 * time.Millisecond)) }

// Run queues the tasks and hands them to workers. The engine owns their
// descriptors from then on. A task whose owner no longer wants it is
// dropped before it is sent; every other task is delivered exactly once.
func (e *Engine) Run(ts ...*Task) {
	e.mu.Lock()
	e.counts.open += len(ts)
	var ds []delivery
	if e.state != running || e.broken != nil {
		err := errs.ErrPoolClosed
		if e.broken != nil {
			err = e.broken
		}
		for _, t := range ts {
			ds = e.resolveLocked(ds, t, Result{Err: err})
		}
		e.mu.Unlock()
		e.finish(ds)
		return
	}
	for _, t := range ts {
		if len(t.FDs) > maxBatchFDs {
			ds = e.resolveLocked(ds, t, Result{Err: fmt.Errorf("mp: a task's argument holds %d descriptors (a handle carries one or more), at most %d", len(t.FDs), maxBatchFDs)})
			continue
		}
		e.queue.push(t)
	}
	e.ensureWorkersLocked()
	e.dispatchLocked()
	e.mu.Unlock()
	e.finish(ds)
}

// Cancel stops t, whose owner no longer wants it: a task not yet sent to
// a worker is dropped; a running one has its context cancelled in the
// worker, which is killed if it does not return within the grace period.
// Its owner hears nothing more of it. Cancel of a task the engine was not
// given, or has finished, does nothing.
func (e *Engine) Cancel(t *Task) {
	e.mu.Lock()
	if t.resolved {
		e.mu.Unlock()
		return
	}
	e.dropLocked(t, cancelled, nil)
	if w := t.w; w != nil && t.sent {
		t.cancelAt = time.Now()
		w.cancels = append(w.cancels, t.ID)
		w.signalLocked()
		e.armLocked(w)
	}
	e.stopIdleLocked() // t may have been a closed engine's last work
	e.mu.Unlock()
	e.finish(nil)
}

// resolveLocked records t's outcome, unless it has one already (the first
// wins), and queues the delivery to its owner, unless the owner no longer
// wants it.
func (e *Engine) resolveLocked(ds []delivery, t *Task, r Result) []delivery {
	if t.resolved || !t.Owner.Wanted() {
		descr.Close(r.FDs)
		if !t.resolved {
			e.dropLocked(t, r.how, r.Err)
		}
		return ds
	}
	e.dropLocked(t, r.how, r.Err)
	return append(ds, delivery{t, r})
}

// dropLocked marks t resolved without telling its owner, counts how it
// ended (how, or by err), and releases its descriptors unless a sender is
// using them (the sender does then).
func (e *Engine) dropLocked(t *Task, how ending, err error) {
	t.resolved = true
	e.countLocked(t, how, err)
	if t.sending == 0 {
		descr.Close(t.FDs)
		t.FDs = nil
	}
}

// windowLocked is how many tasks a worker is given at a time: enough to
// keep it busy for about windowWork, judging by how long recent tasks ran.
// Fast tasks then travel in batches, while a slow task never has others
// waiting behind it in a worker when another worker could take them.
func (e *Engine) windowLocked() int {
	if e.avgNanos <= 0 {
		return 1
	}
	return max(1, min(maxWindow, int(float64(windowWork)/e.avgNanos)))
}

// dispatchLocked gives queued tasks to workers that have room.
func (e *Engine) dispatchLocked() {
	win := e.windowLocked()
	for e.queue.len() > 0 {
		w := e.pickLocked(win)
		if w == nil {
			break
		}
		t := e.queue.pop()
		if t.resolved {
			continue
		}
		if !t.Owner.Wanted() {
			e.dropLocked(t, cancelled, nil)
			continue
		}
		t.w, t.sent = w, false
		w.inflight = append(w.inflight, t)
		w.assigned++
		if e.cfg.MaxTasks > 0 && w.assigned >= e.cfg.MaxTasks {
			w.retiring = true
			w.stopLocked()
			e.ensureWorkersLocked()
		}
		w.signalLocked()
	}
}

// pickLocked returns the worker with the fewest tasks among those with
// room in their window, or nil.
func (e *Engine) pickLocked(win int) *worker {
	var best *worker
	for _, w := range e.workers {
		if w.retiring || w.stopping || w.dying || len(w.inflight) >= win {
			continue
		}
		if best == nil || len(w.inflight) < len(best.inflight) {
			best = w
		}
	}
	return best
}

// ensureWorkersLocked starts workers until the engine has its number of
// them, counting those being started.
func (e *Engine) ensureWorkersLocked() {
	if e.state == terminated || e.broken != nil || (e.state == closed && e.queue.len() == 0) {
		return
	}
	active := e.starting
	for _, w := range e.workers {
		if !w.retiring && !w.stopping && !w.dying {
			active++
		}
	}
	for ; active < e.cfg.Workers; active++ {
		e.starting++
		e.goroutine(e.spawnWorker)
	}
}

// spawnWorker starts a worker to replace one that died or retired.
func (e *Engine) spawnWorker() {
	w, err := e.newWorker()
	e.mu.Lock()
	e.starting--
	var ds []delivery
	if err != nil {
		e.noteLocked(slog.LevelWarn, "mp: pool could not start a worker", "err", err)
		if len(e.workers) == 0 && e.starting == 0 {
			// No worker left to run the queue: fail it rather than hang.
			err = fmt.Errorf("mp: start a pool worker: %w", err)
			for t := e.queue.pop(); t != nil; t = e.queue.pop() {
				ds = e.resolveLocked(ds, t, Result{Err: err})
			}
		}
		e.checkExitedLocked()
		e.mu.Unlock()
		e.finish(ds)
		return
	}
	e.addWorkerLocked(w)
	w.startGoroutines()
	if e.state == terminated || e.broken != nil {
		w.killLocked()
	}
	e.dispatchLocked()
	e.stopIdleLocked()
	e.mu.Unlock()
	e.finish(ds)
}
