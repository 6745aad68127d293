//go:build darwin || freebsd

package chaos

import (
	"context"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpgo/mp/internal/procinfo"
)

// watch registers each process with a kqueue for EVFILT_PROC NOTE_EXIT
// (kqueue(2)): the registration names the process itself, not its pid's
// future owners, and the event comes once it has ended. Killing goes by
// pid, checked first against the start time read when the watch began.
type watch struct {
	kq      int
	started map[int]uint64 // pid → start time, of those still running
}

func watchProcesses(pids []int) *watch {
	w := &watch{kq: -1, started: map[int]uint64{}}
	kq, err := unix.Kqueue()
	if err != nil {
		return w
	}
	unix.CloseOnExec(kq)
	w.kq = kq
	for _, pid := range pids {
		info, err := procinfo.Read(pid)
		if err != nil || !info.Alive() {
			continue
		}
		ev := []unix.Kevent_t{{}}
		unix.SetKevent(&ev[0], pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
		ev[0].Fflags = unix.NOTE_EXIT
		if _, err := unix.Kevent(kq, ev, nil, nil); err == nil {
			w.started[pid] = info.Start
		}
	}
	return w
}

func (w *watch) count() int { return len(w.started) }

func (w *watch) waitGone(ctx context.Context) int {
	events := make([]unix.Kevent_t, 16)
	for len(w.started) > 0 && ctx.Err() == nil {
		wait := 100 * time.Millisecond
		if d, ok := ctx.Deadline(); ok {
			wait = max(0, min(wait, time.Until(d)))
		}
		ts := unix.NsecToTimespec(int64(wait))
		n, err := unix.Kevent(w.kq, nil, events, &ts)
		if err != nil && err != unix.EINTR {
			break
		}
		for _, ev := range events[:max(n, 0)] {
			if ev.Filter == unix.EVFILT_PROC && ev.Fflags&unix.NOTE_EXIT != 0 {
				delete(w.started, int(ev.Ident))
			}
		}
	}
	return len(w.started)
}

func (w *watch) kill() {
	for pid, start := range w.started {
		if info, err := procinfo.Read(pid); err == nil && info.Start == start {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
}

func (w *watch) close() {
	if w.kq >= 0 {
		unix.Close(w.kq)
		w.kq = -1
	}
	w.started = nil
}
