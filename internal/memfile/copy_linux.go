//go:build linux && !mpportable

package memfile

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Read returns a private copy of the first size bytes of fd, checked with
// Check for FixedSize|FixedBytes and at least size bytes long. The seals
// make mapping it safe: the pages are mapped populated and copied at once.
func Read(fd int, size int) ([]byte, error) {
	buf := make([]byte, size)
	if size == 0 {
		return buf, nil
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mp: map shared memory: %w", err)
	}
	copy(buf, mem)
	unix.Munmap(mem)
	return buf, nil
}
