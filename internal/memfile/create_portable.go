//go:build !linux || mpportable

package memfile

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Create returns the descriptor of a new anonymous shared file of size
// zeroed bytes, close-on-exec: a file created under a new name in
// ScratchDir and unlinked at once, so that it has no name (see the package
// comment for the window in between). name is a label only.
func Create(name string, size int64) (int, error) {
	var fd int
	for try := 0; ; try++ {
		path := ScratchPath(name)
		var err error
		// O_EXCL|O_NOFOLLOW: the file is ours, never one someone else put
		// at this name.
		fd, err = unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == unix.EEXIST && try < 8 {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("mp: create shared memory: %w", err)
		}
		// ENOENT: another process's sweep took the name first.
		if err := unix.Unlink(path); err != nil && err != unix.ENOENT {
			unix.Close(fd)
			return -1, fmt.Errorf("mp: unlink shared memory: %w", err)
		}
		break
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("mp: size shared memory: %w", err)
	}
	return fd, nil
}
