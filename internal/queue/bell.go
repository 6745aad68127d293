package queue

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/mpgo/mp/internal/bellfd"
	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// bell is a bell descriptor (package bellfd: an eventfd on Linux, a FIFO
// on the portable set) shared by every process holding the queue: a waker
// writes to it, and sleepers wait for it in Go's network poller, so that a
// blocked Get costs no thread and ends when its context does.
//
// Each write wakes every sleeper (the poller is edge-triggered), but epoll
// (kqueue likewise) looks at the file again when it hands the event over:
// had one process read the bell back to silence in between, the others
// would not wake. So a bell is only silenced under the queue's lock, and
// only the not-empty bell, whose readiness is kept equal to "the queue holds items" (see
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

func newBellFD() (int, error) { return bellfd.New() }

// openBell makes a bell of fd, which it then owns.
func openBell(fd int) (*bell, error) {
	if !bellfd.Check(fd) {
		return nil, protoErr("queue bell is not " + bellfd.Kind)
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

// ring makes the bell readable, waking every sleeper in every process.
func (b *bell) ring() { bellfd.Ring(b.fd) }

// silence makes the bell unreadable.
func (b *bell) silence() { bellfd.Silence(b.fd) }

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
