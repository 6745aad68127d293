package mp

import (
	"fmt"
	"syscall"

	"github.com/mpgo/mp/internal/errs"
)

// Sentinel errors. Callers branch on them with errors.Is; they also match
// errors that crossed a process boundary (see RemoteError.Is).
var (
	// ErrEmpty is returned by a Get on an empty queue that could not wait
	// (TryGet) or whose context ended first (then the error matches the
	// context's error too). Python: queue.Empty.
	ErrEmpty = errs.ErrEmpty
	// ErrFull is returned by a Put on a full queue that could not wait.
	// Python: queue.Full.
	ErrFull = errs.ErrFull
	// ErrTimeout is returned when a context deadline ends a wait on a result.
	// The error matches context.DeadlineExceeded too. Python: TimeoutError.
	ErrTimeout = errs.ErrTimeout
	// ErrClosed is returned by any operation on an object after its Close.
	ErrClosed = errs.ErrClosed
	// ErrPoolClosed is returned when work is given to a pool after Close or
	// Terminate.
	ErrPoolClosed = errs.ErrPoolClosed
	// ErrPoolRunning is returned by Pool.Wait on a pool that has been
	// neither closed nor terminated. Python: ValueError("Pool is still
	// running").
	ErrPoolRunning = errs.ErrPoolRunning
	// ErrNotStarted is returned when a process is waited on, signalled or
	// asked for its pid before Start.
	ErrNotStarted = errs.ErrNotStarted
	// ErrAlreadyStarted is returned by a second Start.
	ErrAlreadyStarted = errs.ErrAlreadyStarted
	// ErrStillRunning is returned by Close on a process that has not exited.
	ErrStillRunning = errs.ErrStillRunning
	// ErrDaemonChildren is returned when a daemonic process tries to start a
	// child. Python: "daemonic processes are not allowed to have children".
	ErrDaemonChildren = errs.ErrDaemonChildren
	// ErrUnknownFunction is returned when the child binary has no function
	// registered under the name the parent asked for.
	ErrUnknownFunction = errs.ErrUnknownFunction
	// ErrProtocol is returned when a peer sends bytes mp cannot accept: a bad
	// frame, an oversized message, a version mismatch, a malformed value.
	ErrProtocol = errs.ErrProtocol
	// ErrTooLarge is returned when a peer sends a message larger than the
	// receiver's cap (Conn.SetMaxMessageSize), or one whose decoding would
	// take more memory than mp allows for a message of its size. It matches
	// ErrProtocol too.
	ErrTooLarge = errs.ErrTooLarge
	// ErrBufferTooShort is matched by *BufferTooShortError. Python:
	// multiprocessing.BufferTooShort.
	ErrBufferTooShort = errs.ErrBufferTooShort
	// ErrTooLong is returned by Conn.RecvBytes for a message longer than
	// the maximum length asked for; the message is discarded.
	ErrTooLong = errs.ErrTooLong
	// ErrReadOnly is returned by a send on the receiving end of a one-way
	// pipe; ErrWriteOnly by a receive on its sending end.
	ErrReadOnly  = errs.ErrReadOnly
	ErrWriteOnly = errs.ErrWriteOnly
	// ErrForkUnsupported is returned when the fork start method is asked
	// for; see StartMethod.
	ErrForkUnsupported = errs.ErrForkUnsupported
	// ErrWorkerDied is matched by *WorkerDiedError: a pool worker died while
	// it ran a task.
	ErrWorkerDied = errs.ErrWorkerDied
	// ErrOwnerDead is returned together with a lock, semaphore unit or
	// similar when its previous holder died holding it (like EOWNERDEAD):
	// the caller holds it now and should repair the state it protects.
	ErrOwnerDead = errs.ErrOwnerDead
	// ErrNotOwner is returned when a lock is released by a goroutine or
	// process that does not hold it, or a lock that is not held is released.
	// Python: RuntimeError / ValueError.
	ErrNotOwner = errs.ErrNotOwner
	// ErrBrokenBarrier is returned by Barrier.Wait when the barrier is or
	// becomes broken. Python: threading.BrokenBarrierError.
	ErrBrokenBarrier = errs.ErrBrokenBarrier
	// ErrTooManyReleases is returned when a bounded semaphore is released
	// more often than it was acquired, or a task marked done more often than
	// items were put. Python: ValueError.
	ErrTooManyReleases = errs.ErrTooManyReleases
	// ErrTooManyHolders is returned by a semaphore's Acquire when more than
	// SemaphoreHolders processes would hold units of it at once.
	ErrTooManyHolders = errs.ErrTooManyHolders
	// ErrHandles is returned when a value holding handles (descriptors) is
	// given to something that cannot carry them: a LIFO or priority queue,
	// or an Executor that runs tasks on other machines.
	ErrHandles = errs.ErrHandles
	// ErrUnencodable is matched by the error of a value that would lose
	// data between processes: a struct with an unexported field, which
	// mp's codec (like encoding/json) leaves out. The error names the type
	// and the field. Such argument and result types make Register panic,
	// and item types make the queue constructors panic; the error comes
	// from sending a value whose type is only known then (inside an
	// interface), and from Conn.Recv into such a type.
	ErrUnencodable = errs.ErrUnencodable
	// ErrWouldDeadlock is returned, in builds with the race detector, by a
	// ReentrantLock's Lock given the context of an earlier Lock instead of
	// the one that Lock returned, by the goroutine that holds the lock:
	// that Lock would wait for itself forever (see ReentrantLock).
	ErrWouldDeadlock = errs.ErrWouldDeadlock
	// ErrNotReady is returned when a result is asked whether it succeeded
	// before it is ready. Python: ValueError.
	ErrNotReady = errs.ErrNotReady
	// ErrAuthentication is returned when the two sides of a Listener's
	// or a manager's handshake do not share the key. Python:
	// multiprocessing.AuthenticationError.
	ErrAuthentication = errs.ErrAuthentication
	// ErrInsecure is returned by Listen, and a manager's Start and Serve,
	// for a TCP address that other machines reach when no key was given:
	// the default key is meant for a program and its children.
	ErrInsecure = errs.ErrInsecure
	// ErrShutDown is returned by a Put on a queue that was shut down, and
	// by a Get once no item is left in it (see Queue.Shutdown). Python
	// 3.13: queue.ShutDown.
	ErrShutDown = errs.ErrShutDown
	// ErrConsumerDied is matched by *ConsumerDiedError: a process died
	// holding items it got from a JoinableQueue and had not marked done.
	ErrConsumerDied = errs.ErrConsumerDied
)

// ExitError reports a child process that ended without returning normally
// from its function: it called os.Exit with a non-zero code, or was killed by
// a signal.
type ExitError struct {
	// Code is Python's exitcode: the code given to os.Exit, or -N when the
	// process was killed by signal N.
	Code int
	// Signal is the signal that killed the process, or zero.
	Signal syscall.Signal
	// Stderr is the tail of what the process wrote to its standard error, if
	// mp captured it (see Process.Stderr).
	Stderr []byte
}

func (e *ExitError) Error() string {
	var msg string
	if e.Signal != 0 {
		msg = fmt.Sprintf("mp: process killed by signal %d (%v)", int(e.Signal), e.Signal)
	} else {
		msg = fmt.Sprintf("mp: process exited with code %d", e.Code)
	}
	if len(e.Stderr) > 0 {
		msg += "; stderr tail: " + string(e.Stderr)
	}
	return msg
}

// BufferTooShortError is returned by Conn.RecvBytesInto when the message does
// not fit the buffer. The whole message is in Message; nothing is lost.
type BufferTooShortError struct {
	Message []byte
}

func (e *BufferTooShortError) Error() string {
	return fmt.Sprintf("mp: buffer too short for a %d-byte message", len(e.Message))
}

// Is reports whether target is ErrBufferTooShort.
func (e *BufferTooShortError) Is(target error) bool { return target == ErrBufferTooShort }

// WorkerDiedError reports a pool worker that died while it ran a task.
type WorkerDiedError struct {
	// Pid is the worker's process id.
	Pid int
	// Exit says how it ended.
	Exit *ExitError
	// ResultLost is set when the task had run to its end but the worker
	// died before its result was sent: what the task did, it did. Such a
	// task is not run again, so that its effects do not happen twice.
	ResultLost bool
}

func (e *WorkerDiedError) Error() string {
	if e.ResultLost {
		return fmt.Sprintf("mp: worker %d died after running the task, before sending its result: %v", e.Pid, e.Exit)
	}
	return fmt.Sprintf("mp: worker %d died running the task: %v", e.Pid, e.Exit)
}

// Is reports whether target is ErrWorkerDied.
func (e *WorkerDiedError) Is(target error) bool { return target == ErrWorkerDied }

// Unwrap returns the exit error.
func (e *WorkerDiedError) Unwrap() error { return e.Exit }
