//go:build !linux || mpportable

package main

import (
	"errors"
	"time"

	"github.com/mpgo/mp/internal/procinfo"
)

// exitPollPeriod is how often exitTime looks at the process: the precision
// of the time it reports.
const exitPollPeriod = 100 * time.Microsecond

// exitTime returns a channel that receives the time when the process pid
// has exited, as the process table shows it (gone, a zombie, or its pid
// taken by a process with another start time), looked
// at every exitPollPeriod: without pidfds, nothing tells a process other
// than the one that reaps it of an exit. The holder is reaped by mp's own
// goroutine, which a wait here would race with.
func exitTime(pid int) (<-chan time.Time, error) {
	first, err := procinfo.Read(pid)
	if err != nil {
		return nil, err
	}
	c := make(chan time.Time, 1)
	go func() {
		for {
			info, err := procinfo.Read(pid)
			if errors.Is(err, procinfo.ErrNoProcess) || err == nil && (!info.Alive() || info.Start != first.Start) {
				break
			}
			time.Sleep(exitPollPeriod)
		}
		c <- time.Now()
	}()
	return c, nil
}
