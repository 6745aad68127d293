package pool

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
)

// onMessage handles one message from a worker. An error means the worker
// broke the protocol.
func (e *Engine) onMessage(w *worker, m transport.Msg) error {
	switch m.Kind {
	case poolResults:
		return e.onResults(w, m)
	case poolReady:
		e.mu.Lock()
		w.ready = true
		e.mu.Unlock()
		return nil
	case poolInitFailed:
		m.Close()
		var re errs.Remote
		if err := wire.Unmarshal(m.Data, nil, &re); err != nil {
			return err
		}
		e.onInitFailed(e.cfg.RemoteError(&re))
		return nil
	}
	m.Close()
	return fmt.Errorf("%w: pool worker sent message kind %d", errs.ErrProtocol, m.Kind)
}

// onResults resolves the tasks whose results arrived and gives the worker
// more work.
func (e *Engine) onResults(w *worker, m transport.Msg) error {
	recs, err := decodeResults(m.Data, len(m.FDs))
	if err != nil {
		m.Close()
		return err
	}
	if e.cfg.SyncOutput {
		// What the worker printed before sending these results reaches
		// the pool's writers before the results reach their callers.
		w.proc.SyncOutput()
	}
	var ds []delivery
	e.mu.Lock()
	off := 0
	for i := range recs {
		rec := &recs[i]
		fds := m.FDs[off : off+rec.NFDs]
		off += rec.NFDs
		t := w.takeLocked(rec.ID)
		if t == nil {
			descr.Close(fds)
			continue
		}
		e.observeLocked(rec.Nanos)
		ds = e.resolveLocked(ds, t, e.resultOf(t, rec, fds))
	}
	if w.stopping && len(w.inflight) == 0 {
		w.signalLocked()
	}
	e.dispatchLocked()
	e.stopIdleLocked()
	e.armLocked(w)
	e.mu.Unlock()
	e.finish(ds)
	return nil
}

// observeLocked feeds a task's running time into the average that sizes
// the windows.
func (e *Engine) observeLocked(nanos uint64) {
	if e.avgNanos == 0 {
		e.avgNanos = float64(nanos)
		return
	}
	e.avgNanos = 0.8*e.avgNanos + 0.2*float64(nanos)
}

// takeLocked removes the task id from the worker's tasks and returns it,
// or nil if the worker was not given it.
func (w *worker) takeLocked(id uint64) *Task {
	for i, t := range w.inflight {
		if t.ID != id {
			continue
		}
		if !t.sent {
			return nil
		}
		if i == 0 {
			w.inflight[0] = nil
			w.inflight = w.inflight[1:]
		} else {
			w.inflight = append(w.inflight[:i], w.inflight[i+1:]...)
		}
		return t
	}
	return nil
}

// resultOf turns a result record into the task's result.
func (e *Engine) resultOf(t *Task, rec *resultRec, fds []int) Result {
	switch rec.Status {
	case resultOK:
		return Result{Value: rec.Data, FDs: fds}
	case resultErr:
		descr.Close(fds)
		var re errs.Remote
		if err := wire.Unmarshal(rec.Data, nil, &re); err != nil {
			return Result{Err: fmt.Errorf("mp: decode the error of %s: %w", t.Func, err)}
		}
		return Result{Err: e.cfg.RemoteError(&re)}
	case resultCancelled:
		descr.Close(fds)
		return Result{Err: errCancelled, how: cancelled}
	}
	descr.Close(fds)
	return Result{Err: timeoutErr(t.Func), how: timedOut}
}

// onInitFailed breaks the engine: its initializer cannot run, so no task
// can.
func (e *Engine) onInitFailed(err error) {
	e.mu.Lock()
	var ds []delivery
	if e.broken == nil {
		e.broken = fmt.Errorf("mp: pool initializer failed: %w", err)
	}
	for t := e.queue.pop(); t != nil; t = e.queue.pop() {
		ds = e.resolveLocked(ds, t, Result{Err: e.broken})
	}
	for _, w := range e.workers {
		for _, t := range w.inflight {
			ds = e.resolveLocked(ds, t, Result{Err: e.broken})
		}
		w.killLocked()
	}
	e.mu.Unlock()
	e.finish(ds)
}

// onWorkerExit accounts for a worker that has exited: the task it was
// running fails, the others go back to the queue, and a replacement
// starts if the engine still has work for it.
func (e *Engine) onWorkerExit(w *worker) {
	exit := w.proc.Exit()
	e.mu.Lock()
	for i, o := range e.workers {
		if o == w {
			e.workers = append(e.workers[:i], e.workers[i+1:]...)
			break
		}
	}
	ds, again, lost := e.accountLocked(w, exit)
	w.inflight = nil
	killed := w.dying && !w.socketGone
	w.dying = true
	if w.timer != nil {
		w.timer.Stop()
	}
	e.queue.pushFront(again)
	starting := e.starting
	e.ensureWorkersLocked()
	e.noteExitLocked(w, exit, killed, lost, e.starting > starting)
	e.dispatchLocked()
	e.stopIdleLocked()
	e.checkExitedLocked()
	e.mu.Unlock()
	w.prog.close()
	w.proc.Close()
	e.finish(ds)
}

// accountLocked settles the tasks of a worker that has exited: those it
// finished are delivered from the copy of its held results, the one it
// ran fails, and those that waited behind it are returned to run again.
// lost is the task it was running when it died, if any.
func (e *Engine) accountLocked(w *worker, exit Exit) (ds []delivery, again []*Task, lost *Task) {
	snap := w.prog.read()
	// Results the worker held for its next batch are in its progress page:
	// their tasks ran and are done.
	if held, ok := w.prog.heldResults(); ok && len(held) > 0 {
		if recs, err := decodeResults(held, 0); err == nil {
			for i := range recs {
				if t := w.takeLocked(recs[i].ID); t != nil {
					ds = e.resolveLocked(ds, t, e.resultOf(t, &recs[i], nil))
				}
			}
		}
	}
	// Tasks run in the order of inflight: those before the last one started
	// have run, and lost only their results (results with descriptors, or
	// too many to copy). Running them again would repeat their side
	// effects.
	ran := slices.IndexFunc(w.inflight, func(t *Task) bool { return t.sent && t.ID == snap.Last })
	for i, t := range w.inflight {
		switch {
		case t.resolved:
		case !t.sent:
			again = append(again, t)
		case t.ID == snap.Task:
			lost = t
			ds = e.resolveLocked(ds, t, Result{Err: w.deathErrLocked(t, exit)})
		case i <= ran: // ran == -1: none
			ds = e.resolveLocked(ds, t, Result{Err: e.cfg.WorkerDied(Death{Pid: w.pid, Exit: exit, ResultLost: true})})
		default:
			// It waited behind the running task: run it again.
			if t.Attempt++; t.Attempt >= maxAttempts {
				ds = e.resolveLocked(ds, t, Result{Err: w.deathErrLocked(t, exit)})
			} else {
				again = append(again, t)
			}
		}
		t.w, t.sent = nil, false
	}
	return ds, again, lost
}

// noteExitLocked counts the end of a worker and keeps its diagnostic: a
// warning for a worker that died (it ended without being told to, while
// running lost or between tasks), a debug record for the others. killed
// says the engine killed it; replaced, that a new worker is starting in
// its place.
func (e *Engine) noteExitLocked(w *worker, exit Exit, killed bool, lost *Task, replaced bool) {
	args := []any{"worker", w.name, "worker_pid", w.pid, "code", exit.Code}
	if exit.Signal != 0 {
		args = append(args, "signal", exit.Signal.String())
	}
	switch {
	case !killed && (lost != nil || exit.Code != 0 || !w.stopSent):
		e.counts.died++
		if lost != nil {
			args = append(args, "func", lost.Func)
		}
		e.noteLocked(slog.LevelWarn, "mp: pool worker died", append(args, "task_failed", lost != nil, "replaced", replaced)...)
	case killed:
		e.noteLocked(slog.LevelDebug, "mp: pool worker exited: killed by the pool", args...)
	case w.retiring:
		e.counts.recycled++
		e.noteLocked(slog.LevelDebug, "mp: pool worker exited: it ran its most tasks", append(args, "tasks", w.assigned)...)
	default:
		e.noteLocked(slog.LevelDebug, "mp: pool worker exited: the pool is closed", args...)
	}
}

// deathErrLocked is the error of task t, which the worker was running when
// it died: the reason the engine killed it, or the report of its death. The
// engine's mutex is held.
func (w *worker) deathErrLocked(t *Task, exit Exit) error {
	if err, ok := w.killed[t.ID]; ok {
		return err
	}
	return w.e.cfg.WorkerDied(Death{Pid: w.pid, Exit: exit})
}
