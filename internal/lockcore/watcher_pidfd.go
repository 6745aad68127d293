//go:build linux && !mpportable

package lockcore

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// On Linux the watcher holds a pidfd for each process followed. Each
// pidfd sits in Go's poller, watched by a goroutine of its own, from the
// first registration of its process to the last forget. Following an
// owner costs a pidfd_open, a read of /proc and a goroutine, some
// microseconds; its exit is noticed at once.

type vigil struct {
	id      uint64
	watches []*watch
	exited  bool
	f       *os.File // the pidfd, nil if there is none to poll
}

// followLocked opens a pidfd for v's owner and starts its goroutine. The
// pidfd is opened before the owner is checked: if it is alive after, the
// pidfd names it, not a later process that reused its pid.
func (ws *watchers) followLocked(v *vigil) {
	fd, err := unix.PidfdOpen(Pid(v.id), unix.PIDFD_NONBLOCK)
	switch {
	case err == unix.ESRCH:
		v.exited = true
		return
	case err != nil:
		return
	case !Alive(v.id):
		unix.Close(fd)
		v.exited = true
		return
	}
	v.f = os.NewFile(uintptr(fd), "pidfd")
	ws.running.Add(1)
	go ws.run(v)
}

// run waits until v's process exits, then rings its followers; or until
// unfollowLocked sets a past deadline, when nobody follows it any more. It
// closes the pidfd.
func (ws *watchers) run(v *vigil) {
	defer ws.running.Done()
	defer v.f.Close()
	rc, err := v.f.SyscallConn()
	if err != nil {
		return
	}
	// The poller says when the pidfd may be readable; poll says whether
	// it is (the process has exited).
	err = rc.Read(func(fd uintptr) bool {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		return err == nil && n > 0
	})
	if err == nil {
		ws.fire(v)
	}
}

// unfollowLocked ends the goroutine of v, which nobody follows any more;
// the goroutine closes the pidfd.
func (ws *watchers) unfollowLocked(v *vigil) {
	if v.f != nil {
		// A deadline in the past ends the goroutine's Read at once,
		// without the wait that a Close under its feet would have.
		v.f.SetReadDeadline(time.Unix(1, 0))
	}
}

// fire rings the alarms of v's followers, from v's goroutine.
func (ws *watchers) fire(v *vigil) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.fireLocked(v)
}
