package queue

import (
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/memfile"
	"golang.org/x/sys/unix"
)

// writeBlob returns anonymous shared memory (a sealed memfd on Linux)
// holding p: a large item crosses to the consumer as a descriptor, and its
// bytes are copied once on each side.
func writeBlob(p []byte) (int, error) {
	fd, err := memfile.Create("mp-queue-item", int64(len(p)))
	if err != nil {
		return -1, fmt.Errorf("mp: shared memory for a large queue item: %w", err)
	}
	if err := memfile.WriteAt(fd, p); err != nil {
		unix.Close(fd)
		return -1, err
	}
	// Sealed, the receiver can trust the size and that the bytes stay put.
	if err := memfile.Seal(fd, memfile.FixedSize|memfile.FixedBytes); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// readBlob reads size bytes from the shared memory fd made by writeBlob and
// closes it. memfile.Read copies them into private memory without a
// mapping the sender could fault where there are no seals.
func readBlob(fd int, size uint64) ([]byte, error) {
	defer unix.Close(fd)
	if size > maxBlobBytes {
		return nil, protoErr(fmt.Sprintf("large queue item of %d bytes", size))
	}
	n, err := memfile.Check(fd, memfile.FixedSize|memfile.FixedBytes)
	if errors.Is(err, errs.ErrNotSealed) || (err == nil && uint64(n) < size) {
		return nil, protoErr("large queue item is not sealed shared memory of its size")
	}
	if err != nil {
		return nil, err
	}
	return memfile.Read(fd, int(size))
}
