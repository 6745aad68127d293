package queue

import (
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"

	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// bell is an eventfd shared by every process holding the queue: a waker
// writes to it, and sleepers wait for it in Go's network poller, so that a
// blocked Get costs no thread and ends when its context does.
//
// Each write wakes every sleeper (the poller is edge-triggered), but epoll
// looks at the file again when it hands the event over: had one process
// read the counter back to zero in between, the others would not wake. So
// a bell is only silenced under the queue's lock, and only the not-empty
// bell, whose readiness is kept equal to "the queue holds items" (see
// maintainLocked): a sleeper it fails to wake has nothing to get. The
// space and join bells are never silenced; their sleepers look at a
// counter to tell a new ring from an old one.
type bell struct {
	fd int // owned by f; valid while the Core is open
	f  *os.File
	rc syscall.RawConn
	// mu admits one sleeper per bell per Core at a time: a read deadline
	// belongs to the file, so each sleeper needs it to itself.
	mu ctxio.Lock
}

func newBellFD() (int, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return -1, errors.Join(errors.New("mp: eventfd for a queue"), err)
	}
	return fd, nil
}

// openBell makes a bell of fd, which it then owns.
func openBell(fd int) (*bell, error) {
	if target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err != nil || target != "anon_inode:[eventfd]" {
		return nil, protoErr("queue bell is not an eventfd")
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "mp-queue-bell")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &bell{fd: fd, f: f, rc: rc, mu: ctxio.NewLock()}, nil
}

var one = []byte{1, 0, 0, 0, 0, 0, 0, 0}

// ring makes the bell readable, waking every sleeper in every process.
func (b *bell) ring() { unix.Write(b.fd, one) }

// silence makes the bell unreadable.
func (b *bell) silence() {
	var buf [8]byte
	unix.Read(b.fd, buf[:])
}

// wait sleeps until ready reports true, which it asks first and then each
// time the bell rings, or until ctx ends (returning ctx's error).
func (b *bell) wait(ctx context.Context, ready func() bool) error {
	if err := b.mu.Lock(ctx); err != nil {
		return err
	}
	defer b.mu.Unlock()
	disarm := ctxio.ArmDeadline(ctx, b.f.SetReadDeadline)
	defer disarm()
	err := b.rc.Read(func(uintptr) bool { return ready() })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		if e := ctx.Err(); e != nil {
			return e
		}
		return context.DeadlineExceeded
	case errors.Is(err, os.ErrClosed):
		return errs.ErrClosed
	}
	return err
}

func (b *bell) close() { b.f.Close() }
