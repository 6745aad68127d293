package mp

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
)

// onMessage handles one message from a worker. An error means the worker
// broke the protocol.
func (p *Pool) onMessage(w *worker, m transport.Msg) error {
	switch m.Kind {
	case poolResults:
		return p.onResults(w, m)
	case poolReady:
		p.mu.Lock()
		w.ready = true
		p.mu.Unlock()
		return nil
	case poolInitFailed:
		m.Close()
		var re RemoteError
		if err := wire.Unmarshal(m.Data, nil, &re); err != nil {
			return err
		}
		p.onInitFailed(&re)
		return nil
	}
	m.Close()
	return fmt.Errorf("%w: pool worker sent message kind %d", ErrProtocol, m.Kind)
}

// onResults resolves the tasks whose results arrived and gives the worker
// more work.
func (p *Pool) onResults(w *worker, m transport.Msg) error {
	recs, err := decodeResults(m.Data, len(m.FDs))
	if err != nil {
		m.Close()
		return err
	}
	if p.copiesOutput {
		// What the worker printed before sending these results reaches
		// the pool's writers before the results reach their callers.
		w.proc.SyncOutput()
	}
	var ds []delivery
	p.mu.Lock()
	off := 0
	for i := range recs {
		rec := &recs[i]
		fds := m.FDs[off : off+rec.NFDs]
		off += rec.NFDs
		t := w.takeLocked(rec.ID)
		if t == nil {
			closeFDs(fds)
			continue
		}
		p.observeLocked(rec.Nanos)
		ds = p.resolveLocked(ds, t, resultOf(t, rec, fds))
	}
	if w.stopping && len(w.inflight) == 0 {
		w.signal()
	}
	ds = p.dispatchLocked(ds)
	p.stopIdleLocked()
	p.armLocked(w)
	p.mu.Unlock()
	p.finish(ds)
	return nil
}

// observeLocked feeds a task's running time into the average that sizes
// the windows.
func (p *Pool) observeLocked(nanos uint64) {
	if p.avgNanos == 0 {
		p.avgNanos = float64(nanos)
		return
	}
	p.avgNanos = 0.8*p.avgNanos + 0.2*float64(nanos)
}

// takeLocked removes the task id from the worker's tasks and returns it,
// or nil if the worker was not given it.
func (w *worker) takeLocked(id uint64) *task {
	for i, t := range w.inflight {
		if t.id != id {
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
func resultOf(t *task, rec *resultRec, fds []int) taskResult {
	switch rec.Status {
	case resultOK:
		return taskResult{value: rec.Data, fds: fds}
	case resultErr:
		closeFDs(fds)
		re := new(RemoteError)
		if err := wire.Unmarshal(rec.Data, nil, re); err != nil {
			return taskResult{err: fmt.Errorf("mp: decode the error of %s: %w", t.fn, err)}
		}
		return taskResult{err: re}
	case resultCancelled:
		closeFDs(fds)
		if t.ctx.Err() != nil {
			return taskResult{err: ctxTaskErr(t.fn, t.ctx)}
		}
		return taskResult{err: fmt.Errorf("mp: task %s: %w", t.fn, errPoolCancel)}
	}
	closeFDs(fds)
	return taskResult{err: timeoutTaskErr(t.fn)}
}

// onInitFailed breaks the pool: its initializer cannot run, so no task
// can.
func (p *Pool) onInitFailed(re *RemoteError) {
	p.mu.Lock()
	var ds []delivery
	if p.broken == nil {
		p.broken = fmt.Errorf("mp: pool initializer failed: %w", re)
	}
	for t := p.queue.pop(); t != nil; t = p.queue.pop() {
		ds = p.resolveLocked(ds, t, taskResult{err: p.broken})
	}
	for _, w := range p.workers {
		for _, t := range w.inflight {
			ds = p.resolveLocked(ds, t, taskResult{err: p.broken})
		}
		w.kill()
	}
	p.mu.Unlock()
	p.finish(ds)
}

// onWorkerExit accounts for a worker that has exited: the task it was
// running fails, the others go back to the queue, and a replacement
// starts if the pool still has work for it.
func (p *Pool) onWorkerExit(w *worker) {
	exit := w.exitError()
	p.mu.Lock()
	for i, o := range p.workers {
		if o == w {
			p.workers = append(p.workers[:i], p.workers[i+1:]...)
			break
		}
	}
	snap := w.prog.read()
	var ds []delivery
	var again []*task
	// Results the worker held for its next batch are in its progress page:
	// their tasks ran and are done.
	if held, ok := w.prog.heldResults(); ok && len(held) > 0 {
		if recs, err := decodeResults(held, 0); err == nil {
			for i := range recs {
				if t := w.takeLocked(recs[i].ID); t != nil {
					ds = p.resolveLocked(ds, t, resultOf(t, &recs[i], nil))
				}
			}
		}
	}
	// Tasks run in the order of inflight: those before the last one started
	// have run, and lost only their results (results with descriptors, or
	// too many to copy). Running them again would repeat their side
	// effects.
	ran := slices.IndexFunc(w.inflight, func(t *task) bool { return t.sent && t.id == snap.Last })
	for i, t := range w.inflight {
		switch {
		case t.resolved:
		case !t.sent:
			again = append(again, t)
		case t.id == snap.Task:
			ds = p.resolveLocked(ds, t, taskResult{err: w.deathErr(t, exit)})
		case i <= ran: // ran == -1: none
			ds = p.resolveLocked(ds, t, taskResult{err: &WorkerDiedError{Pid: w.pid, Exit: exit, ResultLost: true}})
		default:
			// It waited behind the running task: run it again.
			if t.attempt++; t.attempt >= maxAttempts {
				ds = p.resolveLocked(ds, t, taskResult{err: w.deathErr(t, exit)})
			} else {
				again = append(again, t)
			}
		}
		t.w, t.sent = nil, false
	}
	w.inflight = nil
	w.dying = true
	if w.timer != nil {
		w.timer.Stop()
	}
	p.queue.pushFront(again)
	p.ensureWorkersLocked()
	ds = p.dispatchLocked(ds)
	p.stopIdleLocked()
	p.checkExitedLocked()
	p.mu.Unlock()
	w.prog.close()
	w.proc.Close()
	p.finish(ds)
}

// exitError describes how the worker's process ended.
func (w *worker) exitError() *ExitError {
	err := w.proc.Wait(context.Background())
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee
	}
	code, _ := w.proc.ExitCode()
	return &ExitError{Code: code}
}

// deathErr is the error of task t, which the worker was running when it
// died: the reason the pool killed it, or a *WorkerDiedError.
func (w *worker) deathErr(t *task, exit *ExitError) error {
	if err, ok := w.killed[t.id]; ok {
		return err
	}
	return &WorkerDiedError{Pid: w.pid, Exit: exit}
}
