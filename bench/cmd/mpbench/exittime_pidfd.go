//go:build linux && !mpportable

package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// exitTime returns a channel that receives the time when the process pid
// has exited (as its pidfd says, with a blocking poll of its own).
func exitTime(pid int) (<-chan time.Time, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, err
	}
	c := make(chan time.Time, 1)
	go func() {
		defer unix.Close(fd)
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(p, -1); err != unix.EINTR {
				break
			}
		}
		c <- time.Now()
	}()
	return c, nil
}
