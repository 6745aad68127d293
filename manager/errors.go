package manager

import (
	"errors"
	"fmt"

	"github.com/mpgo/mp"
)

// Sentinel errors of package manager. Errors returned by the server cross
// the wire by name and still match them (and mp's sentinels) with errors.Is.
var (
	// ErrAuthentication is returned when the handshake fails: the two sides
	// do not share the authentication key (Python: AuthenticationError).
	// It is mp.ErrAuthentication, which mp.Listen and mp.Dial return too.
	ErrAuthentication = mp.ErrAuthentication
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
	// ErrWrongType is returned by Lookup, and by the decoding of a proxy
	// received from another process, when the object's item types are not
	// the proxy's (a Queue[string] for a queue of ints); the error names
	// both. A value taken out of an object (a queue's Get, a Pop) that does
	// not decode as the proxy's type gives it too, and is put back.
	ErrWrongType = errors.New("manager: wrong item type")
	// ErrNilClient is returned by every call made through a nil *Client
	// (a Start or Dial whose error was not checked), instead of a panic.
	ErrNilClient = errors.New("manager: nil *Client: use the Client that Start or Dial returned")
	// ErrMissing is returned by List.Index and List.Remove for a value the
	// list does not hold (Python: ValueError).
	ErrMissing = errors.New("manager: no such value")
	// ErrUnordered is returned by List.Sort for elements that are not all
	// numbers or all strings (Python: TypeError); SortFunc orders any type.
	ErrUnordered = errors.New("manager: values without an order the server knows")
	// ErrNotNumber is returned by Add on a value that is not a number.
	ErrNotNumber = errors.New("manager: value is not a number")
	// ErrBusy is returned when a connection has too many blocking calls in
	// flight (see ServerOptions.MaxPending).
	ErrBusy = errors.New("manager: too many calls in flight on this connection")
	// ErrInsecure is returned by Serve and Start for a server that would
	// listen on a non-loopback address without an explicit authentication
	// key: the default key is meant for a program and its children only.
	// It is mp.ErrInsecure.
	ErrInsecure = mp.ErrInsecure
)

func init() {
	// Errors cross a manager's connections by the names mp's registry gives
	// them, the same that mp.RegisterError adds to: a custom object's method
	// can return any registered error and the caller's errors.Is matches it.
	for name, err := range map[string]error{
		"manager.ErrNotFound": ErrNotFound, "manager.ErrIndex": ErrIndex, "manager.ErrKind": ErrKind,
		"manager.ErrNotNumber": ErrNotNumber, "manager.ErrWrongType": ErrWrongType,
		"manager.ErrMissing": ErrMissing, "manager.ErrUnordered": ErrUnordered, "manager.ErrBusy": ErrBusy,
		"manager.ErrConnection": ErrConnection,
	} {
		mp.RegisterError(name, err)
	}
}

// connError reports a lost connection, matching ErrConnection and cause.
func connError(cause error) error {
	if cause == nil || errors.Is(cause, ErrConnection) {
		return ErrConnection
	}
	return fmt.Errorf("%w: %w", ErrConnection, cause)
}
