package errs

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
)

// Remote describes, for another process, an error returned or a panic
// raised by a function that ran in this one. It is the wire form of
// mp.RemoteError, which has the same fields.
type Remote struct {
	Func      string
	Pid       int
	Message   string
	Type      string
	Panic     bool
	Stack     string
	Sentinels []string
}

func (e *Remote) Error() string {
	what := "function"
	if e.Func != "" {
		what = e.Func
	}
	if e.Panic {
		return fmt.Sprintf("mp: %s panicked: %s", what, e.Message)
	}
	return fmt.Sprintf("mp: %s failed: %s", what, e.Message)
}

// Panicked returns the error of a function that panicked with value r,
// with the stack of the panicking goroutine. Call it from the deferred
// function that recovered.
func Panicked(r any) *Remote {
	return &Remote{Message: fmt.Sprint(r), Type: fmt.Sprintf("%T", r), Panic: true, Stack: string(debug.Stack())}
}

// Describe describes err, returned by the function registered as fn, for
// the process that asked for it to run.
func Describe(fn string, err error) *Remote {
	var p *Remote
	if errors.As(err, &p) && p.Panic && p.Func == "" {
		d := *p
		d.Func, d.Pid, d.Sentinels = fn, os.Getpid(), Matched(err)
		return &d
	}
	return &Remote{
		Func:      fn,
		Pid:       os.Getpid(),
		Message:   err.Error(),
		Type:      fmt.Sprintf("%T", err),
		Sentinels: Matched(err),
	}
}
