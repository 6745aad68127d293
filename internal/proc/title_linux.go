package proc

import (
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Naming a process through /proc/<pid>/comm is a fact of Linux, not one of
// the mechanisms that the mpportable tag swaps: it holds on both sets.

// setComm sets the comm of this process's main thread, which ps and top
// show, to name (cut to 15 bytes). In a warm spare waiting for work
// (waiting set), it keeps /proc/self/comm open, so that naming itself when
// work comes costs one write rather than the open, write and close (about
// 15 µs here) of a warm start's path. Otherwise, it also names the
// process's other threads, which ps -L and top -H show, once the process
// has run for threadNamesDelay: each is a write to /proc that a short
// function need not wait for, nor compete with for the processor, and that
// no one would see (threads made later inherit the comm of the thread that
// makes them). prctl(PR_SET_NAME) would name only the calling thread,
// which in Go is any thread. Failures are ignored: a name is a
// convenience.
func setComm(name string, waiting bool) {
	if name == "" {
		if !waiting && commFD >= 0 {
			unix.Close(commFD)
			commFD = -1
		}
		return
	}
	comm := []byte(cutComm(printable(name)))
	if commFD < 0 {
		commFD, _ = unix.Open("/proc/self/comm", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	}
	if commFD >= 0 {
		unix.Write(commFD, comm)
		if !waiting {
			unix.Close(commFD)
			commFD = -1
		}
	}
	if waiting {
		return
	}
	time.AfterFunc(threadNamesDelay, func() {
		self := strconv.Itoa(os.Getpid())
		tids, _ := os.ReadDir("/proc/self/task")
		for _, tid := range tids {
			if tid.Name() != self {
				os.WriteFile("/proc/self/task/"+tid.Name()+"/comm", comm, 0)
			}
		}
	})
}

// commFD is /proc/self/comm while a warm spare holds it open, else -1.
// Only the goroutine in Main uses it.
var commFD = -1

// threadNamesDelay is how long a child runs before its threads other than
// the main one take its name. Naming them at once, from a goroutine, made
// a warm start and wait of a function that does nothing about a third
// slower here, on two processors.
const threadNamesDelay = 5 * time.Millisecond
