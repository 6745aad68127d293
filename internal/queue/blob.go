package queue

import (
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/memfile"
	"golang.org/x/sys/unix"
)

// writeBlob returns shared memory (a sealed memfd on Linux) holding p: a
// large item crosses to the consumer as a descriptor, and its bytes are
// copied once on each side.
func writeBlob(p []byte) (int, error) {
	fd, err := memfile.WriteMessage("mp-queue-item", p)
	if err != nil {
		return -1, fmt.Errorf("mp: shared memory for a large queue item: %w", err)
	}
	return fd, nil
}

// readBlob reads size bytes from the shared memory fd made by writeBlob,
// and closes it.
func readBlob(fd int, size uint64) ([]byte, error) {
	if size > maxBlobBytes {
		unix.Close(fd)
		return nil, protoErr(fmt.Sprintf("large queue item of %d bytes", size))
	}
	b, err := memfile.ReadMessage(fd, int(size))
	if errors.Is(err, errs.ErrNotSealed) || errors.Is(err, errs.ErrProtocol) {
		return nil, protoErr("large queue item is not sealed shared memory of its size")
	}
	return b, err
}
