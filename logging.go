package mp

import (
	"log/slog"

	"github.com/mpgo/mp/internal/diag"
)

// Logging, the Go form of Python's multiprocessing.log_to_stderr and
// get_logger.
//
// In a child, slog.Default() (and so the log package) forwards every record
// to the parent over the child's control socket. The parent hands each record
// to its logger — the one given to SetLogger, or else its own slog.Default()
// — with the attributes pid and process added, in the order the child
// emitted them. Records below the parent logger's level are not sent.
//
// mp's own diagnostics go to the logger given to SetLogger, and nowhere by
// default, as Python's multiprocessing logger is silent until
// log_to_stderr. They are, at level Warn (abnormal, but handled):
//
//   - "mp: pool worker died", with attributes worker (its name,
//     "PoolWorker-3"), worker_pid, code (Python's exitcode), signal, func
//     (the task it was running, if any), task_failed and replaced;
//   - "mp: pool worker killed: …", a task that ran past its deadline (with
//     deadline), the pool's task timeout (timeout) or was cancelled, and
//     did not return within the grace period (grace), with worker,
//     worker_pid and func;
//   - "mp: pool worker killed: its socket failed" or "…: it broke the
//     protocol", with worker, worker_pid and err;
//   - "mp: pool could not start a worker", with err;
//   - "mp: the owner of a … died holding it; this process took it over",
//     with lock (Mutex, ReentrantLock, …), pid and process;
//   - a manager server's security events, unless its options name another
//     logger: "manager: handshake failed; connection closed", "manager: too
//     many connections; closing a new one", "manager: accept failed; the
//     server stops", with remote (the peer's address, or for a Unix socket
//     its pid and uid) and err;
//
// and at level Debug, the ordinary life of pool workers: "mp: pool worker
// started", "mp: pool worker exited: …". Diagnostics of a child (a lock
// taken over in a pool worker, a pool inside a child) reach the same
// logger through the parent, which adds the child's pid and process, as
// for its other records. A pool logs once its own lock is released, so a
// record may reach the logger just after the outcome it explains reached
// the caller.

// SetLogger sets where child processes' log records and mp's own
// diagnostics go. Nil restores the default: child records to slog.Default(),
// diagnostics nowhere. Children started before the call keep the level they
// were started with, and send their diagnostics only if a logger was set
// when they started.
func SetLogger(l *slog.Logger) { diag.Set(l) }
