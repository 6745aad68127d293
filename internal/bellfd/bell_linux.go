//go:build linux && !mpportable

package bellfd

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Kind says what a bell is, for messages.
const Kind = "an eventfd"

// New returns a new bell, silent, close-on-exec and non-blocking.
func New() (int, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return -1, errors.Join(errors.New("mp: eventfd for a bell"), err)
	}
	return fd, nil
}

// Check reports whether fd, received from another process, is a bell.
func Check(fd int) bool {
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	return err == nil && target == "anon_inode:[eventfd]"
}

var one = []byte{1, 0, 0, 0, 0, 0, 0, 0}

// Ring makes the bell readable, waking every sleeper in every process.
func Ring(fd int) { unix.Write(fd, one) }

// Silence makes the bell unreadable.
func Silence(fd int) {
	var buf [8]byte
	unix.Read(fd, buf[:])
}
