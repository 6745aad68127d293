package memfile

import (
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// A message is one-shot bytes that cross to another process as the
// descriptor of a file made for them: a large Conn message, a large queue
// item. The file is sealed against changes where the system has seals, and
// the receiver copies the bytes with pread into memory of its own, never
// maps them: on the portable set, which has no seals, a sender that
// shrinks or rewrites the file can make the read come short or the bytes
// differ, but cannot make the receiver fault.

// WriteMessage returns the descriptor of a new file, labelled label,
// holding p, sealed FixedSize|FixedBytes where the system can.
func WriteMessage(label string, p []byte) (int, error) {
	fd, err := Create(label, int64(len(p)))
	if err != nil {
		return -1, err
	}
	if err := WriteAt(fd, p); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := Seal(fd, FixedSize|FixedBytes); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// ReadMessage returns a copy of the first size bytes of fd, a file made by
// WriteMessage in another process, and closes fd. Any other descriptor (a
// pipe, a file on a slow or hostile mount) is refused with an error
// matching errs.ErrNotSealed, before anything is read from it; a file
// shorter than size gives one matching errs.ErrProtocol.
func ReadMessage(fd int, size int) ([]byte, error) { return ReadMessageInto(fd, size, nil) }

// ReadMessageInto is ReadMessage, with dst as the place for the copy if it
// is large enough (the copy is then a prefix of dst).
func ReadMessageInto(fd int, size int, dst []byte) ([]byte, error) {
	defer unix.Close(fd)
	n, err := Check(fd, FixedSize|FixedBytes)
	if err != nil {
		return nil, err
	}
	if n < int64(size) {
		return nil, fmt.Errorf("%w: a message of %d bytes in shared memory of %d", errs.ErrProtocol, size, n)
	}
	if size > len(dst) {
		return Read(fd, size)
	}
	dst = dst[:size:size]
	if err := ReadAt(fd, dst); err != nil {
		return nil, err
	}
	return dst, nil
}
