package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpgo/mp"
)

// Sentinel errors of package manager. Errors returned by the server cross
// the wire by name and still match them (and mp's sentinels) with errors.Is.
var (
	// ErrAuthentication is returned when the handshake fails: the two sides
	// do not share the authentication key (Python: AuthenticationError).
	ErrAuthentication = errors.New("manager: authentication failed")
	// ErrConnection is returned by every call, blocked or later, once the
	// connection to the server is lost: the server died, shut down, or the
	// network failed. The error wraps the cause.
	ErrConnection = errors.New("manager: connection to the server lost")
	// ErrNotFound is returned for a name the server does not expose, an
	// object that no longer exists, or a missing Namespace field.
	ErrNotFound = errors.New("manager: no such object")
	// ErrIndex is returned for a List or Array index out of range (Python:
	// IndexError).
	ErrIndex = errors.New("manager: index out of range")
	// ErrKind is returned when a proxy of one kind is asked for an object of
	// another (a Dict proxy for a queue), or a method the object lacks.
	ErrKind = errors.New("manager: wrong kind of object or unknown method")
	// ErrNotNumber is returned by Add on a value that is not a number.
	ErrNotNumber = errors.New("manager: value is not a number")
	// ErrBusy is returned when a connection has too many blocking calls in
	// flight (see ServerOptions.MaxPending).
	ErrBusy = errors.New("manager: too many calls in flight on this connection")
	// ErrInsecure is returned by Serve and Start for a server that would
	// listen on a non-loopback address without an explicit authentication
	// key: the default key is meant for a program and its children only.
	ErrInsecure = errors.New("manager: refusing to listen on a non-loopback address without an explicit AuthKey")
)

// sentinelNames lists the errors that cross the wire by name, with the names
// mp.RemoteError matches them by.
var sentinelNames = []struct {
	name string
	err  error
}{
	{"mp.ErrEmpty", mp.ErrEmpty}, {"mp.ErrFull", mp.ErrFull}, {"mp.ErrTimeout", mp.ErrTimeout},
	{"mp.ErrClosed", mp.ErrClosed}, {"mp.ErrProtocol", mp.ErrProtocol}, {"mp.ErrOwnerDead", mp.ErrOwnerDead},
	{"mp.ErrNotOwner", mp.ErrNotOwner}, {"mp.ErrBrokenBarrier", mp.ErrBrokenBarrier},
	{"mp.ErrTooManyReleases", mp.ErrTooManyReleases},
	{"context.Canceled", context.Canceled}, {"context.DeadlineExceeded", context.DeadlineExceeded},
	{"manager.ErrNotFound", ErrNotFound}, {"manager.ErrIndex", ErrIndex}, {"manager.ErrKind", ErrKind},
	{"manager.ErrNotNumber", ErrNotNumber}, {"manager.ErrBusy", ErrBusy},
	{"manager.ErrAuthentication", ErrAuthentication}, {"manager.ErrConnection", ErrConnection},
}

func init() {
	for _, s := range sentinelNames {
		if len(s.name) > 8 && s.name[:8] == "manager." {
			mp.RegisterError(s.name, s.err)
		}
	}
}

// matchedSentinels names the sentinels err matches.
func matchedSentinels(err error) []string {
	var out []string
	for _, s := range sentinelNames {
		if errors.Is(err, s.err) {
			out = append(out, s.name)
		}
	}
	return out
}

// timeoutError matches both a sentinel (mp.ErrEmpty, mp.ErrTimeout, …) and
// the error of the context that ended the wait, as mp's local types do.
type timeoutError struct {
	sentinel error
	ctxErr   error
}

func (e *timeoutError) Error() string   { return e.sentinel.Error() + ": " + e.ctxErr.Error() }
func (e *timeoutError) Unwrap() []error { return []error{e.sentinel, e.ctxErr} }

// ctxError returns an error that matches sentinel and ctxErr.
func ctxError(sentinel, ctxErr error) error {
	if sentinel == nil {
		return ctxErr
	}
	return &timeoutError{sentinel: sentinel, ctxErr: ctxErr}
}

// connError reports a lost connection, matching ErrConnection and cause.
func connError(cause error) error {
	if cause == nil || errors.Is(cause, ErrConnection) {
		return ErrConnection
	}
	return fmt.Errorf("%w: %w", ErrConnection, cause)
}
