package pool

import "time"

// Stats is a snapshot of an engine: its workers and tasks now, and what
// it has counted since it started. See mp.PoolStats for each field.
type Stats struct {
	Workers  int
	Started  int64
	Died     int64
	Killed   int64
	Recycled int64

	Queued    int
	Running   int
	Done      int64
	Failed    int64
	TimedOut  int64
	Cancelled int64
}

// counts is what the engine counts as it goes, guarded by its mutex.
type counts struct {
	started, died, killed, recycled   int64
	done, failed, timedOut, cancelled int64
	open                              int // tasks given and not yet resolved
}

// ending says how a task ended, for the counts: by the error of its
// Result (ended), or stopped by the engine.
type ending uint8

const (
	ended     ending = iota // a result, or an error: Done or Failed
	timedOut                // its deadline or the task timeout passed
	cancelled               // its owner no longer wanted it
)

// Stats returns a snapshot of the engine. It takes the engine's lock once
// and reads each worker's progress page.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := &e.counts
	s := Stats{Workers: len(e.workers), Started: c.started, Died: c.died, Killed: c.killed, Recycled: c.recycled,
		Done: c.done, Failed: c.failed, TimedOut: c.timedOut, Cancelled: c.cancelled}
	now := time.Now()
	for _, w := range e.workers {
		if t, _, running := w.runningLocked(now); running && !t.resolved {
			s.Running++
		}
	}
	s.Queued = c.open - s.Running
	return s
}

// countLocked counts a task that has just been resolved, as how says, or
// by its result's error. The engine's mutex is held.
func (e *Engine) countLocked(t *Task, how ending, err error) {
	c := &e.counts
	c.open--
	switch {
	case how == cancelled && !t.Deadline.IsZero() && !time.Now().Before(t.Deadline):
		// Its caller gave up on it because its deadline passed.
		c.timedOut++
	case how == cancelled:
		c.cancelled++
	case how == timedOut:
		c.timedOut++
	case err == nil:
		c.done++
	default:
		c.failed++
	}
}
