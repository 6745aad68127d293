package waker_test

import (
	"testing"

	"github.com/mpgo/mp/internal/waker"
	"golang.org/x/sys/unix"
)

func readable(t *testing.T, fd int) bool {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestSetClear(t *testing.T) {
	k, err := waker.New()
	if err != nil {
		t.Fatal(err)
	}
	fd := k.FD()
	if readable(t, fd) {
		t.Fatal("a new waker is readable")
	}
	for range 3 {
		k.Set()
	}
	if !readable(t, fd) {
		t.Fatal("a set waker is not readable")
	}
	k.Clear()
	if readable(t, fd) {
		t.Fatal("a cleared waker is readable")
	}
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("descriptor flags %#x, %v: want close-on-exec", flags, err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if fd := k.FD(); fd != -1 {
		t.Fatalf("FD of a closed waker = %d", fd)
	}
	k.Set() // does nothing
	k.Clear()
}

// A poll that waits on the waker ends when another goroutine sets it.
func TestSetEndsPoll(t *testing.T) {
	k, err := waker.New()
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	go k.Set()
	pfd := []unix.PollFd{{Fd: int32(k.FD()), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, 20000)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n != 1 {
			t.Fatalf("poll = %d, %v; want the waker readable", n, err)
		}
		return
	}
}
