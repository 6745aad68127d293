// Package stacks reads the stacks of this process's goroutines, for tests
// that must wait until another goroutine sleeps in a given place (in a
// system call, in the network poller) rather than guess with a sleep.
package stacks

import (
	"runtime"
	"strings"
)

// Dump returns the stacks of every goroutine.
func Dump() string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Count returns how many goroutines are in state (as the first line of
// their stack says it: "syscall", "IO wait", …) with a frame of the
// function fn, named as stacks print it ("futex.Wait",
// "transport.(*Conn).recvmsg").
func Count(state, fn string) int {
	n := 0
	for _, g := range strings.Split(Dump(), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "["+state) && strings.Contains(g, fn+"(") {
			n++
		}
	}
	return n
}
