//go:build linux && !mpportable

package memfile

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Create returns the descriptor of a new anonymous shared file of size
// zeroed bytes, close-on-exec, that can be sealed. name labels it in
// /proc/<pid>/fd listings.
func Create(name string, size int64) (int, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, fmt.Errorf("mp: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("mp: size shared memory: %w", err)
	}
	return fd, nil
}
