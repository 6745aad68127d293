package mp

import "time"

// recheckFloor spaces the checks of a task that is due to be stopped but
// not yet seen running, so that waiting for it is not a busy loop.
const recheckFloor = 10 * time.Millisecond

// armLocked sets the worker's watchdog timer to the moment its running
// task, if any, must be stopped: its deadline, the pool's task timeout or
// its cancellation, plus the grace period. Only the running task can be
// stopped by killing the worker; a task waiting behind it is skipped by
// the worker when its turn comes.
func (p *Pool) armLocked(w *worker) {
	if w.dying || w.proc == nil {
		return
	}
	now := time.Now()
	var next time.Time
	if t, start, running := p.runningLocked(w, now); t != nil {
		_, next = p.killReason(t, start)
		if !running && !next.IsZero() && next.Before(now.Add(recheckFloor)) {
			next = now.Add(recheckFloor)
		}
	}
	if next.IsZero() {
		if !w.timerAt.IsZero() {
			w.timer.Stop()
			w.timerAt = time.Time{}
		}
		return
	}
	if next.Equal(w.timerAt) {
		return
	}
	w.timerAt = next
	if w.timer == nil {
		w.timer = time.AfterFunc(next.Sub(now), func() { p.check(w) })
		return
	}
	w.timer.Reset(next.Sub(now))
}

// runningLocked returns the task the worker runs and when it started it,
// with running true; or, when the worker is between tasks, the next task
// it will run, taken to start now.
func (p *Pool) runningLocked(w *worker, now time.Time) (*task, time.Time, bool) {
	snap := w.prog.read()
	if snap.Task != 0 {
		for _, t := range w.inflight {
			if t.id == snap.Task && t.sent {
				return t, now.Add(-(monotonicNow() - snap.Start)), true
			}
		}
	}
	for _, t := range w.inflight {
		if t.sent && !(t.resolved && t.cancelAt.IsZero()) {
			return t, now, false
		}
	}
	return nil, time.Time{}, false
}

// killReason returns when a task that started at start must be stopped,
// and the error it then fails with; a zero time if never.
func (p *Pool) killReason(t *task, start time.Time) (error, time.Time) {
	var at time.Time
	var reason error
	consider := func(when time.Time, err func() error) {
		if when.IsZero() {
			return
		}
		if when = when.Add(time.Duration(killGrace.Load())); at.IsZero() || when.Before(at) {
			at, reason = when, err()
		}
	}
	consider(t.cancelAt, func() error { return ctxTaskErr(t.fn, t.ctx) })
	consider(t.deadline, func() error { return timeoutTaskErr(t.fn) })
	if p.timeout > 0 {
		consider(start.Add(p.timeout), func() error { return timeoutTaskErr(t.fn) })
	}
	return reason, at
}

// check runs when the watchdog timer fires: it kills the worker if its
// running task is past its time, and re-arms the timer otherwise.
func (p *Pool) check(w *worker) {
	p.mu.Lock()
	var ds []delivery
	defer func() {
		p.mu.Unlock()
		p.finish(ds)
	}()
	w.timerAt = time.Time{}
	if w.dying {
		return
	}
	now := time.Now()
	t, start, running := p.runningLocked(w, now)
	if t != nil && running {
		if reason, at := p.killReason(t, start); !at.IsZero() && !now.Before(at) {
			w.killed[t.id] = reason
			ds = p.resolveLocked(ds, t, taskResult{err: reason})
			w.kill()
			return
		}
	}
	p.armLocked(w)
}
