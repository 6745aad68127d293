package transport

import (
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/memfile"
	"golang.org/x/sys/unix"
)

// writeMemfd returns an anonymous shared file (a memfd on Linux) holding p.
func writeMemfd(p []byte) (int, error) {
	fd, err := memfile.Create("mp-message", int64(len(p)))
	if err != nil {
		return -1, fmt.Errorf("mp: shared memory for a large message: %w", err)
	}
	if err := memfile.WriteAt(fd, p); err != nil {
		unix.Close(fd)
		return -1, err
	}
	// Sealed, the receiver can trust the size it is told, and the bytes
	// stay put while it reads them.
	if err := memfile.Seal(fd, memfile.FixedSize|memfile.FixedBytes); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// readMemfd reads size bytes from the start of fd, and closes fd.
func readMemfd(fd int, size int) ([]byte, error) {
	defer unix.Close(fd)
	// Only shared memory made by writeMemfd is read: any other descriptor
	// (a file on a slow or hostile mount, a pipe) could block the receive
	// or change under it. The bytes are read with pread into private
	// memory, never mapped: on the portable set, which has no seals, a
	// sender that shrinks the file only makes the read come short.
	n, err := memfile.Check(fd, memfile.FixedSize|memfile.FixedBytes)
	if errors.Is(err, errs.ErrNotSealed) {
		return nil, protoErr("large message not in sealed shared memory")
	}
	if err != nil {
		return nil, fmt.Errorf("mp: large message: %w", err)
	}
	if n < int64(size) {
		return nil, protoErr("large message shorter than announced")
	}
	buf := make([]byte, size)
	if err := memfile.ReadAt(fd, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
