package proc

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// mainCalled is set once Main has run in this process.
var mainCalled atomic.Bool

// noMainDeadline is how long a child may run without reaching Main before
// it gives up, so that a program that forgot Main does not run its normal
// main as a child for long.
const noMainDeadline = 10 * time.Second

const noMainMsg = `mp: this process is a child started by mp, but the program never called mp.Main().
Call mp.Main() as the first statement of main() (and of TestMain, e.g. via mptest.Main), so that a child runs its function instead of the program.
`

func init() {
	if os.Getenv(envChild) == "" {
		return
	}
	go func() {
		time.Sleep(noMainDeadline)
		if !mainCalled.Load() {
			fmt.Fprint(os.Stderr, noMainMsg)
			os.Exit(3)
		}
	}()
}

// Main is mp.Main: in a child started by mp, it runs the function the
// parent asks for and exits, calling beforeReply once the function has
// returned and before its result is sent; in any other process it returns
// at once. Only its first call does anything.
func Main(beforeReply func()) {
	if mainCalled.Swap(true) {
		return
	}
	if marker := os.Getenv(envChild); marker != "" {
		os.Exit(runChild(marker, beforeReply))
	}
}

// MainCalled reports whether Main has run in this process.
func MainCalled() bool { return mainCalled.Load() }

// CheckNotStrayChild stops a child that is about to start processes of its
// own without ever having reached Main: it is running the program's normal
// main by mistake, and would start children recursively.
func CheckNotStrayChild() {
	if !mainCalled.Load() && os.Getenv(envChild) != "" {
		fmt.Fprint(os.Stderr, noMainMsg)
		os.Exit(3)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
