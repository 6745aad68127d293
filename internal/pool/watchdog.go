package pool

import (
	"log/slog"
	"time"
)

// recheckFloor spaces the checks of a task that is due to be stopped but
// not yet seen running, so that waiting for it is not a busy loop.
const recheckFloor = 10 * time.Millisecond

// armLocked sets the worker's watchdog timer to the moment its running
// task, if any, must be stopped: its deadline, the pool's task timeout or
// its cancellation, plus the grace period. Only the running task can be
// stopped by killing the worker; a task waiting behind it is skipped by
// the worker when its turn comes.
func (e *Engine) armLocked(w *worker) {
	if w.dying || w.proc == nil {
		return
	}
	now := time.Now()
	var next time.Time
	if t, start, running := w.runningLocked(now); t != nil {
		next, _ = e.killReasonLocked(t, start)
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
		w.timer = time.AfterFunc(next.Sub(now), func() { e.check(w) })
		return
	}
	w.timer.Reset(next.Sub(now))
}

// runningLocked returns the task the worker runs and when it started it,
// with running true; or, when the worker is between tasks, the next task
// it will run, taken to start now.
func (w *worker) runningLocked(now time.Time) (*Task, time.Time, bool) {
	snap := w.prog.read()
	if snap.Task != 0 {
		for _, t := range w.inflight {
			if t.ID == snap.Task && t.sent {
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

// kill says why a task must be stopped.
type kill struct {
	how      ending    // timedOut or cancelled
	deadline time.Time // for timedOut, the deadline that passed
	pool     bool      // the deadline is the pool's task timeout
}

// err is the error the task fails with.
func (k kill) err(t *Task) error {
	if k.how == cancelled {
		return errCancelled
	}
	return timeoutErr(t.Func)
}

// killReasonLocked returns when a task that started at start must be
// stopped, and why; a zero time if never. The engine's mutex is held.
func (e *Engine) killReasonLocked(t *Task, start time.Time) (time.Time, kill) {
	var at time.Time
	var why kill
	consider := func(when time.Time, k kill) {
		if when.IsZero() {
			return
		}
		if when = when.Add(time.Duration(KillGrace.Load())); at.IsZero() || when.Before(at) {
			at, why = when, k
		}
	}
	consider(t.cancelAt, kill{how: cancelled})
	consider(t.Deadline, kill{how: timedOut, deadline: t.Deadline})
	if e.cfg.TaskTimeout > 0 {
		end := start.Add(e.cfg.TaskTimeout)
		consider(end, kill{how: timedOut, deadline: end, pool: true})
	}
	return at, why
}

// check runs when the watchdog timer fires: it kills the worker if its
// running task is past its time, and re-arms the timer otherwise.
func (e *Engine) check(w *worker) {
	e.mu.Lock()
	var ds []delivery
	defer func() {
		e.mu.Unlock()
		e.finish(ds)
	}()
	w.timerAt = time.Time{}
	if w.dying {
		return
	}
	now := time.Now()
	t, start, running := w.runningLocked(now)
	if t != nil && running {
		if at, why := e.killReasonLocked(t, start); !at.IsZero() && !now.Before(at) {
			reason := why.err(t)
			w.killed[t.ID] = reason
			ds = e.resolveLocked(ds, t, Result{Err: reason, how: why.how})
			e.counts.killed++
			e.noteKillLocked(w, t, why)
			w.killLocked()
			return
		}
	}
	e.armLocked(w)
}

// noteKillLocked keeps the diagnostic of a worker killed to stop its task.
func (e *Engine) noteKillLocked(w *worker, t *Task, why kill) {
	grace := time.Duration(KillGrace.Load())
	args := []any{"worker", w.name, "worker_pid", w.pid, "func", t.Func}
	switch {
	case why.how == cancelled:
		e.noteLocked(slog.LevelWarn, "mp: pool worker killed: its task was cancelled and did not return", append(args, "grace", grace)...)
	case why.pool:
		e.noteLocked(slog.LevelWarn, "mp: pool worker killed: its task ran past the task timeout", append(args, "timeout", e.cfg.TaskTimeout, "grace", grace)...)
	default:
		e.noteLocked(slog.LevelWarn, "mp: pool worker killed: its task ran past its deadline", append(args, "deadline", why.deadline, "grace", grace)...)
	}
}
