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
// mp's own diagnostics (a worker replaced, a task killed at its deadline, a
// lock recovered from a dead owner) go to the logger given to SetLogger, and
// nowhere by default.

// SetLogger sets where child processes' log records and mp's own
// diagnostics go. Nil restores the default: child records to slog.Default(),
// diagnostics nowhere. Children started before the call keep the level they
// were started with.
func SetLogger(l *slog.Logger) { diag.Set(l) }
