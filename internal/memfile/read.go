package memfile

import (
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// Read returns a copy, in memory of its own, of the first size bytes of
// fd, read with pread (see ReadMessage).
func Read(fd int, size int) ([]byte, error) {
	buf := make([]byte, size)
	if err := ReadAt(fd, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// ReadAt fills p from the start of fd with pread. A file shorter than p is
// a protocol error: its size was announced, and checked, before.
func ReadAt(fd int, p []byte) error {
	for off := 0; off < len(p); {
		n, err := unix.Pread(fd, p[off:], int64(off))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("mp: read shared memory: %w", err)
		}
		if n == 0 {
			return errs.ProtocolError("shared memory shorter than announced")
		}
		off += n
	}
	return nil
}

// WriteAt writes p at the start of fd with pwrite.
func WriteAt(fd int, p []byte) error {
	for off := 0; off < len(p); {
		n, err := unix.Pwrite(fd, p[off:], int64(off))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("mp: write shared memory: %w", err)
		}
		off += n
	}
	return nil
}
