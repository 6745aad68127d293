package mp

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
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

// killGrace is how long a task past its deadline, or cancelled, may take
// to return before its worker is killed, in nanoseconds. Tests widen it.
var killGrace atomic.Int64

func init() { killGrace.Store(int64(100 * time.Millisecond)) }

// run implements executor: it queues the tasks and hands them to workers.
func (p *Pool) run(ts ...*task) {
	p.mu.Lock()
	var ds []delivery
	if p.state != poolRunning || p.broken != nil {
		err := ErrPoolClosed
		if p.broken != nil {
			err = p.broken
		}
		for _, t := range ts {
			ds = p.resolveLocked(ds, t, taskResult{err: err})
		}
		p.mu.Unlock()
		p.finish(ds)
		return
	}
	for _, t := range ts {
		p.nextID++
		t.id = p.nextID
		if t.ctx.Done() != nil {
			t.stopWatch = context.AfterFunc(t.ctx, func() { p.onCtxDone(t) })
		}
		p.queue.push(t)
	}
	p.ensureWorkersLocked()
	ds = p.dispatchLocked(ds)
	p.mu.Unlock()
	p.finish(ds)
}

// resolveLocked records t's outcome, unless it has one already (the first
// wins), and queues the call of its done function.
func (p *Pool) resolveLocked(ds []delivery, t *task, r taskResult) []delivery {
	if t.resolved {
		closeFDs(r.fds)
		return ds
	}
	t.resolved = true
	if t.stopWatch != nil {
		t.stopWatch()
		t.stopWatch = nil
	}
	if t.sending == 0 {
		closeFDs(t.fds)
		t.fds = nil
	}
	return append(ds, delivery{t, r})
}

// windowLocked is how many tasks a worker is given at a time: enough to
// keep it busy for about windowWork, judging by how long recent tasks ran.
// Fast tasks then travel in batches, while a slow task never has others
// waiting behind it in a worker when another worker could take them.
func (p *Pool) windowLocked() int {
	if p.avgNanos <= 0 {
		return 1
	}
	return max(1, min(maxWindow, int(float64(windowWork)/p.avgNanos)))
}

// dispatchLocked gives queued tasks to workers that have room.
func (p *Pool) dispatchLocked(ds []delivery) []delivery {
	win := p.windowLocked()
	for p.queue.len() > 0 {
		w := p.pickLocked(win)
		if w == nil {
			break
		}
		t := p.queue.pop()
		if t.resolved {
			continue
		}
		if t.group != nil && t.group.abandoned.Load() {
			ds = p.resolveLocked(ds, t, taskResult{err: errAbandoned})
			continue
		}
		t.w, t.sent = w, false
		w.inflight = append(w.inflight, t)
		w.assigned++
		if p.maxTasks > 0 && w.assigned >= p.maxTasks {
			w.retiring = true
			w.stopLocked()
			p.ensureWorkersLocked()
		}
		w.signal()
	}
	return ds
}

// pickLocked returns the worker with the fewest tasks among those with
// room in their window, or nil.
func (p *Pool) pickLocked(win int) *worker {
	var best *worker
	for _, w := range p.workers {
		if w.retiring || w.stopping || w.dying || len(w.inflight) >= win {
			continue
		}
		if best == nil || len(w.inflight) < len(best.inflight) {
			best = w
		}
	}
	return best
}

// ensureWorkersLocked starts workers until the pool has its number of
// them, counting those being started.
func (p *Pool) ensureWorkersLocked() {
	if p.state == poolTerminated || p.broken != nil || (p.state == poolClosed && p.queue.len() == 0) {
		return
	}
	active := p.starting
	for _, w := range p.workers {
		if !w.retiring && !w.stopping && !w.dying {
			active++
		}
	}
	for ; active < p.n; active++ {
		p.starting++
		p.goroutine(p.spawnWorker)
	}
}

// spawnWorker starts a worker to replace one that died or retired.
func (p *Pool) spawnWorker() {
	w, err := p.newWorker()
	p.mu.Lock()
	p.starting--
	var ds []delivery
	if err != nil {
		if len(p.workers) == 0 && p.starting == 0 {
			// No worker left to run the queue: fail it rather than hang.
			err = fmt.Errorf("mp: start a pool worker: %w", err)
			for t := p.queue.pop(); t != nil; t = p.queue.pop() {
				ds = p.resolveLocked(ds, t, taskResult{err: err})
			}
		}
		p.checkExitedLocked()
		p.mu.Unlock()
		p.finish(ds)
		return
	}
	p.workers = append(p.workers, w)
	w.startGoroutines()
	if p.state == poolTerminated || p.broken != nil {
		w.kill()
	}
	ds = p.dispatchLocked(ds)
	p.stopIdleLocked()
	p.mu.Unlock()
	p.finish(ds)
}

// onCtxDone fails a task whose context ended, and has its worker cancel it
// (or skip it) there; armLocked sees that the worker is killed if the task
// does not return within the grace period.
func (p *Pool) onCtxDone(t *task) {
	p.mu.Lock()
	if t.resolved {
		p.mu.Unlock()
		return
	}
	ds := p.resolveLocked(nil, t, taskResult{err: ctxTaskErr(t.fn, t.ctx)})
	if w := t.w; w != nil && t.sent {
		t.cancelAt = time.Now()
		w.cancels = append(w.cancels, t.id)
		w.signal()
		p.armLocked(w)
	}
	p.mu.Unlock()
	p.finish(ds)
}
