//go:build !linux || mpportable

package bellfd

import (
	"fmt"

	"github.com/mpgo/mp/internal/memfile"
	"golang.org/x/sys/unix"
)

// Kind says what a bell is, for messages.
const Kind = "an unnamed FIFO open for reading and writing"

// New returns a new bell, silent, close-on-exec and non-blocking.
func New() (int, error) {
	for try := 0; ; try++ {
		path := memfile.ScratchPath("bell")
		err := unix.Mkfifo(path, 0o600)
		if err == unix.EEXIST && try < 8 {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("mp: FIFO for a bell: %w", err)
		}
		// The name is in a sticky directory (or one of this user's), so
		// nobody else can put another file at it between the two calls;
		// Check makes sure anyway.
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		// ENOENT: another process's sweep of leftovers took the name.
		if uerr := unix.Unlink(path); uerr != nil && uerr != unix.ENOENT && err == nil {
			unix.Close(fd)
			return -1, fmt.Errorf("mp: unlink a bell's FIFO: %w", uerr)
		}
		if err != nil {
			return -1, fmt.Errorf("mp: open a bell's FIFO: %w", err)
		}
		if !Check(fd) {
			unix.Close(fd)
			return -1, fmt.Errorf("mp: a bell's FIFO was replaced")
		}
		return fd, nil
	}
}

// Check reports whether fd, received from another process, is a bell: a
// FIFO without a name (so that no other program can drain or fill it), open
// for reading and writing (a pipe's end is a FIFO too, but open one way).
func Check(fd int) bool {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || uint32(st.Mode)&unix.S_IFMT != unix.S_IFIFO || st.Nlink != 0 {
		return false
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_ACCMODE == unix.O_RDWR
}

// Ring makes the bell readable, waking every sleeper in every process.
func Ring(fd int) {
	one := []byte{1}
	for range 4 {
		_, err := unix.Write(fd, one)
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			// Full, so readable already; but only a write wakes the
			// sleepers. Taking some bytes out leaves it readable.
			var buf [512]byte
			unix.Read(fd, buf[:])
			continue
		}
		return
	}
}

// Silence makes the bell unreadable.
func Silence(fd int) {
	var buf [512]byte
	for {
		n, err := unix.Read(fd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(buf) {
			return
		}
	}
}
