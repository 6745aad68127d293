// Package wire is mp's data format between processes.
//
// Values are encoded with CBOR under explicit decode limits, and a budget
// for the memory a message's decoding takes, in proportion to its size
// (see Unmarshal). Handles — values
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

// Errors: malformed bytes give errors that match errs.ErrProtocol (errs.ErrTooLarge
// for a frame or message over its cap); a closed object gives errs.ErrClosed.
