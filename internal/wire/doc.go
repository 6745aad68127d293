// Package wire is mp's data format between processes.
//
// Values are encoded with CBOR under explicit decode limits. Handles — values
// that stand for an open file descriptor, such as a pipe end, a queue or a
// lock in shared memory — are encoded as CBOR tags whose content names slots
// in the message's list of file descriptors; the descriptors themselves travel
// beside the bytes (SCM_RIGHTS on a Unix socket). A handle can sit anywhere
// inside a value: in a struct field, a slice element, a map value.
//
// On byte streams (TCP, and Unix stream sockets), messages travel as frames:
// a 4-byte big-endian length, then that many bytes, never more than a cap the
// reader chooses.
package wire

import "errors"

// ErrProtocol is returned for bytes that are not a valid message: a bad
// frame, an oversized one, a malformed value or handle.
var ErrProtocol = errors.New("mp: protocol error")

// ErrClosed is returned by any operation on an object after its Close.
var ErrClosed = errors.New("mp: use of closed object")

// ErrTooLarge is returned for a frame or message over the size cap. It
// matches ErrProtocol too.
var ErrTooLarge = &protoError{"message larger than the size cap"}

type protoError struct{ msg string }

func (e *protoError) Error() string        { return "mp: protocol error: " + e.msg }
func (e *protoError) Is(target error) bool { return target == ErrProtocol }

// protocolErr returns an error that matches ErrProtocol.
func protocolErr(msg string) error { return &protoError{msg} }

// ProtocolError returns an error with message msg that matches ErrProtocol.
func ProtocolError(msg string) error { return &protoError{msg} }
