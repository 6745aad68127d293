package transport

import (
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/memfile"
)

// writeMemfd returns shared memory (a sealed memfd on Linux) holding p.
func writeMemfd(p []byte) (int, error) {
	fd, err := memfile.WriteMessage("mp-message", p)
	if err != nil {
		return -1, fmt.Errorf("mp: shared memory for a large message: %w", err)
	}
	return fd, nil
}

// readMemfd reads size bytes from the start of fd, made by writeMemfd in
// another process, into dst if it is large enough (else into memory of
// their own), and closes fd.
func readMemfd(fd int, size int, dst []byte) ([]byte, error) {
	b, err := memfile.ReadMessageInto(fd, size, dst)
	switch {
	case errors.Is(err, errs.ErrNotSealed):
		return nil, protoErr("large message not in sealed shared memory")
	case errors.Is(err, errs.ErrProtocol):
		return nil, protoErr("large message shorter than announced")
	case err != nil:
		return nil, fmt.Errorf("mp: large message: %w", err)
	}
	return b, nil
}
