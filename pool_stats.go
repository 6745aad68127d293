package mp

// PoolStats is a snapshot of a Pool: its workers and tasks at the moment
// of the call, and counts of what happened since the pool started.
// Python's Pool has nothing like it.
//
// Every task given to the pool is counted once, when it ends, in exactly
// one of Done, Failed, TimedOut and Cancelled; until then it is Queued or
// Running. Each worker that ends is counted in at most one of Died,
// Killed and Recycled (one that the pool stops because it is closed or
// terminated, in none).
type PoolStats struct {
	// Workers is the number of worker processes alive now: started, and
	// not yet ended (those stopping or being killed included). Those not
	// Running are idle, starting or ending.
	Workers int
	// Started counts the worker processes started: the first ones and
	// every replacement.
	Started int64
	// Died counts workers that ended without the pool's asking: a crash,
	// os.Exit, a signal from another process, the OOM killer. The task a
	// worker was running then fails with a *WorkerDiedError; while the
	// pool runs, each is replaced.
	Died int64
	// Killed counts workers the pool killed, with their process groups,
	// to stop a task that ran past its deadline (the context's, or
	// TaskTimeout) or was cancelled, and did not return within the grace
	// period. While the pool runs, each is replaced.
	Killed int64
	// Recycled counts workers that exited after MaxTasksPerChild tasks and
	// were replaced.
	Recycled int64

	// Queued is the number of tasks given and not yet started: waiting
	// for a worker, or sent to one and waiting behind its running task. A
	// chunk of Map counts as one task.
	Queued int
	// Running is the number of tasks running now, one per busy worker.
	Running int
	// Done counts the tasks that returned a result.
	Done int64
	// Failed counts the tasks that ended with any other error than the
	// two below: the function's error or panic, the death of its worker,
	// or a pool that could not run it (closed, terminated, its
	// initializer failed).
	Failed int64
	// TimedOut counts the tasks whose deadline (their context's, or
	// TaskTimeout) passed before they returned, whether they were running
	// or still queued.
	TimedOut int64
	// Cancelled counts the tasks dropped or stopped because their caller
	// no longer wanted them: a cancelled context, Pool.Cancel, a Map that
	// failed on another item, an Imap loop left early.
	Cancelled int64
}

// Stats returns a snapshot of the pool's workers and tasks. It is safe to
// call at any time, also after Close or Terminate; it takes the pool's
// lock once, and reads the page in shared memory where each worker says
// what it runs.
func (p *Pool) Stats() PoolStats {
	// The engine's Stats has PoolStats' fields, which keeps this a
	// conversion: a field added to one and not the other fails to build.
	return PoolStats(p.e.Stats())
}
