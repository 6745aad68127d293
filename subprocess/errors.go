package subprocess

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrNoCommand is returned when the argument list is empty.
	ErrNoCommand = errors.New("subprocess: empty command")
	// ErrBadOptions is wrapped by the errors of conflicting or invalid
	// Options, such as Input together with a Stdin other than Pipe. Python
	// raises ValueError for these.
	ErrBadOptions = errors.New("subprocess: invalid options")
	// ErrNonZeroExit is matched by *CalledProcessError: a checked command
	// exited with a non-zero status or was killed by a signal.
	ErrNonZeroExit = errors.New("subprocess: non-zero exit status")
	// ErrTimeout is matched by a *TimeoutExpired that a timeout or a context
	// deadline caused (not a cancellation). Such an error matches
	// context.DeadlineExceeded too.
	ErrTimeout = errors.New("subprocess: timed out")
	// ErrInputAfterStart is returned by Communicate when input is given
	// after communication has started (a retry after a timeout must pass
	// nil; the first input is still being written). Python: ValueError.
	ErrInputAfterStart = errors.New("subprocess: cannot send input after starting communication")
	// ErrNoStdinPipe is returned by Communicate when input is given but the
	// process's stdin is not a pipe.
	ErrNoStdinPipe = errors.New("subprocess: input given but stdin is not a pipe")
	// ErrPipeTaken is returned when StdoutOf names a process whose stdout
	// is not a pipe, was already handed to another process, or is read by
	// Communicate.
	ErrPipeTaken = errors.New("subprocess: stdout is not an available pipe")
	// ErrWaitDelay is returned by Wait, Communicate and Run when the child
	// exited normally but its pipes were still open when Options.WaitDelay
	// expired (a descendant held them), so they were cut: output written
	// after that is lost. As os/exec's ErrWaitDelay.
	ErrWaitDelay = errors.New("subprocess: pipes still open after WaitDelay")
	// ErrNoGroup is returned by KillGroup for a child that does not lead a
	// process group of its own.
	ErrNoGroup = errors.New("subprocess: process does not lead a process group")
	// ErrNoCgroup is matched by the error of Start or Run under
	// ContainCgroup where this process cannot make a cgroup v2 for the
	// child: no cgroup2 mount, its own cgroup not writable (not delegated),
	// or a kernel before 5.14. The error wraps the cause.
	ErrNoCgroup = errors.New("subprocess: no cgroup v2 to contain the process in")
)

// badOptions returns an error that matches ErrBadOptions and says why.
func badOptions(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadOptions, fmt.Sprintf(format, args...))
}

// CalledProcessError reports a command run with Check (or by CheckCall,
// CheckOutput) that exited with a non-zero status. It matches
// ErrNonZeroExit. Python: subprocess.CalledProcessError.
type CalledProcessError struct {
	// Args is the command as run.
	Args []string
	// ReturnCode is the exit status, or -N if signal N killed the process.
	ReturnCode int
	// Stdout and Stderr hold the output captured, if any was.
	Stdout, Stderr []byte
}

// Error says which command failed and how, followed by the last lines of
// its captured stderr.
func (e *CalledProcessError) Error() string {
	msg := fmt.Sprintf("subprocess: command %s %s", commandString(e.Args), describeCode(e.ReturnCode))
	if tail := stderrTail(e.Stderr); tail != "" {
		msg += "; stderr: " + tail
	}
	return msg
}

// Is reports whether target is ErrNonZeroExit.
func (e *CalledProcessError) Is(target error) bool { return target == ErrNonZeroExit }

// TimeoutExpired reports a process that a timeout, a context deadline or a
// context cancellation stopped, or a Wait or Communicate whose context ended
// before the process did (the process then keeps running). It carries the
// output read so far. Python: subprocess.TimeoutExpired. From RunPipeline,
// it reports the whole pipeline, every command of which was stopped.
//
// It matches ErrTimeout and context.DeadlineExceeded when a deadline caused
// it, and context.Canceled when a cancellation did.
type TimeoutExpired struct {
	// Args is the command as run; nil for a pipeline.
	Args []string
	// Pipeline holds, for an error of RunPipeline, every command of the
	// pipeline as run, in order; it is nil otherwise.
	Pipeline [][]string
	// Timeout is the Options.Timeout that expired, or zero when a context
	// ended the wait.
	Timeout time.Duration
	// Stdout and Stderr hold the output read before the timeout, when
	// Communicate or Run was reading it.
	Stdout, Stderr []byte
	// Err is context.DeadlineExceeded or context.Canceled.
	Err error
}

// Error says which command or pipeline timed out and after how long, when
// known.
func (e *TimeoutExpired) Error() string {
	what := "timed out"
	if errors.Is(e.Err, context.Canceled) {
		what = "canceled"
	} else if e.Timeout > 0 {
		what = "timed out after " + e.Timeout.String()
	}
	if e.Pipeline != nil {
		cmds := make([]string, len(e.Pipeline))
		for i, c := range e.Pipeline {
			cmds[i] = commandString(c)
		}
		return fmt.Sprintf("subprocess: pipeline %s %s", strings.Join(cmds, " | "), what)
	}
	return fmt.Sprintf("subprocess: command %s %s", commandString(e.Args), what)
}

// Is reports whether target is ErrTimeout and the error came from a
// deadline.
func (e *TimeoutExpired) Is(target error) bool {
	return target == ErrTimeout && errors.Is(e.Err, context.DeadlineExceeded)
}

// Unwrap returns the context error.
func (e *TimeoutExpired) Unwrap() error { return e.Err }

// describeCode turns a Python return code into words.
func describeCode(code int) string {
	if code < 0 {
		sig := syscall.Signal(-code)
		return fmt.Sprintf("died with signal %d (%v)", -code, sig)
	}
	return fmt.Sprintf("returned non-zero exit status %d", code)
}

// stderrTailMax bounds how much of a failed command's stderr an error
// message shows.
const stderrTailMax = 512

// stderrTail returns at most the last few lines of stderr, trimmed.
func stderrTail(stderr []byte) string {
	s := bytes.TrimSpace(stderr)
	if len(s) > stderrTailMax {
		s = s[len(s)-stderrTailMax:]
		if i := bytes.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
		return "…" + string(s)
	}
	return string(s)
}

// commandString renders args for a message, quoting the arguments a shell
// would split or expand.
func commandString(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`|&;<>()*?[]{}~#") {
			a = strconv.Quote(a)
		}
		q[i] = a
	}
	return "[" + strings.Join(q, " ") + "]"
}
