//go:build darwin || freebsd

package cluster_test

import (
	"syscall"
	"testing"
	"time"
)

// exitWatch is a kqueue with one process registered for EVFILT_PROC
// NOTE_EXIT (kqueue(2)): the registration names the process itself, not
// whatever process later takes its pid.
type exitWatch struct{ kq int }

// watchExit starts watching process pid for its end.
func watchExit(pid int) (*exitWatch, error) {
	kq, err := syscall.Kqueue()
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(kq)
	ev := []syscall.Kevent_t{{}}
	syscall.SetKevent(&ev[0], pid, syscall.EVFILT_PROC, syscall.EV_ADD|syscall.EV_ONESHOT)
	ev[0].Fflags = syscall.NOTE_EXIT
	if _, err := syscall.Kevent(kq, ev, nil, nil); err != nil {
		syscall.Close(kq)
		return nil, err
	}
	return &exitWatch{kq: kq}, nil
}

// wait waits up to d for the process to end, and reports whether it did.
func (w *exitWatch) wait(t *testing.T, d time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	events := make([]syscall.Kevent_t, 1)
	for {
		ts := syscall.NsecToTimespec(max(0, int64(time.Until(deadline))))
		n, err := syscall.Kevent(w.kq, nil, events, &ts)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
}

func (w *exitWatch) close() { syscall.Close(w.kq) }
