// Package errs is the one home of mp's errors: the sentinels that every
// package of mp returns (package mp exports them under their Err… names),
// the error of a wait that a context ended, and the registry by which an
// error crosses a process boundary as itself.
//
// Every message starts with "mp: ". Internal packages return these
// sentinels directly, so that nothing between them and the caller has to
// translate one error into another.
package errs

import (
	"context"
	"errors"
)

// Sentinels. Package mp documents each under its exported name.
var (
	ErrEmpty           = errors.New("mp: queue empty")
	ErrFull            = errors.New("mp: queue full")
	ErrTimeout         = errors.New("mp: timed out")
	ErrClosed          = errors.New("mp: use of closed object")
	ErrProtocol        = errors.New("mp: protocol error")
	ErrPoolClosed      = errors.New("mp: pool closed")
	ErrPoolRunning     = errors.New("mp: pool still running: Close or Terminate it before Wait")
	ErrNotStarted      = errors.New("mp: process not started")
	ErrAlreadyStarted  = errors.New("mp: process already started")
	ErrStillRunning    = errors.New("mp: process still running")
	ErrDaemonChildren  = errors.New("mp: daemonic processes are not allowed to have children")
	ErrUnknownFunction = errors.New("mp: function not registered in the child binary")
	ErrBufferTooShort  = errors.New("mp: buffer too short")
	ErrTooLong         = errors.New("mp: message longer than the maximum length")
	ErrReadOnly        = errors.New("mp: connection is read-only")
	ErrWriteOnly       = errors.New("mp: connection is write-only")
	ErrForkUnsupported = errors.New("mp: the fork start method is impossible in Go: a Go program is multi-threaded, and a forked child without exec hangs (golang/go#14767); use Spawn or Forkserver")
	ErrWorkerDied      = errors.New("mp: worker died")
	ErrOwnerDead       = errors.New("mp: previous owner died holding the lock")
	ErrNotOwner        = errors.New("mp: lock not held by caller")
	ErrBrokenBarrier   = errors.New("mp: broken barrier")
	ErrTooManyReleases = errors.New("mp: released too many times")
	ErrTooManyHolders  = errors.New("mp: too many processes hold units of the semaphore")
	ErrNotReady        = errors.New("mp: result not ready")
	ErrItemTooLarge    = errors.New("mp: item too large for the queue")
	ErrHandles         = errors.New("mp: this object cannot carry handles (descriptors)")
	ErrUnencodable     = errors.New("mp: value would lose data between processes")
	ErrWouldDeadlock   = errors.New("mp: the lock would wait for its own holder")
	ErrAuthentication  = errors.New("mp: authentication failed")
	ErrInsecure        = errors.New("mp: refusing to listen on a non-loopback address without an explicit key")
	ErrShutDown        = errors.New("mp: queue shut down")
	ErrConsumerDied    = errors.New("mp: a consumer died holding unfinished tasks")
	ErrTooLarge        = &protocolError{"message larger than the size cap"}
	ErrBadHeader       = &protocolError{"shared memory header does not match"}
	ErrNotSealed       = &protocolError{"shared memory descriptor is not sealed against resizing"}
)

// protocolError is an error about bytes mp cannot accept; it matches
// ErrProtocol.
type protocolError struct{ msg string }

func (e *protocolError) Error() string        { return "mp: protocol error: " + e.msg }
func (e *protocolError) Is(target error) bool { return target == ErrProtocol }

// ProtocolError returns an error with message msg that matches ErrProtocol.
func ProtocolError(msg string) error { return &protocolError{msg} }

// ctxWait is the error of a wait that a context ended: it matches both
// the sentinel of what was waited for (ErrEmpty, ErrFull, ErrTimeout, …) and the
// context's error.
type ctxWait struct {
	sentinel error
	ctxErr   error
}

func (e *ctxWait) Error() string   { return e.sentinel.Error() + ": " + e.ctxErr.Error() }
func (e *ctxWait) Unwrap() []error { return []error{e.sentinel, e.ctxErr} }

// WithContext returns the error of a wait for sentinel that ended with
// ctxErr, the error of a context: it matches both. A nil sentinel gives
// ctxErr itself.
func WithContext(sentinel, ctxErr error) error {
	if sentinel == nil {
		return ctxErr
	}
	return &ctxWait{sentinel: sentinel, ctxErr: ctxErr}
}

// Deadline returns the error of a wait for a result that ctxErr ended:
// for a deadline it matches ErrTimeout too, as Python's TimeoutError.
func Deadline(ctxErr error) error {
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		return WithContext(ErrTimeout, ctxErr)
	}
	return ctxErr
}
