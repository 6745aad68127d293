//go:build linux && !mpportable

package waker

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// New returns a new waker, not set.
func New() (*Waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("mp: eventfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "mp-waker")
	k, err := newWaker(f, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return k, nil
}

func setFD(fd int) {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	unix.Write(fd, b[:])
}

func clearFD(fd int) {
	var b [8]byte
	unix.Read(fd, b[:]) // back to zero
}
