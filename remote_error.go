package mp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/proc"
)

// RemoteError is an error returned or a panic raised by a function that ran
// in another process. It matches, through errors.Is, every registered
// sentinel error (see RegisterError) that the original error matched there.
type RemoteError struct {
	// Func is the registered name of the function.
	Func string
	// Pid is the process the function ran in.
	Pid int
	// Message is the original error's text, or the panic value printed.
	Message string
	// Type is the Go type of the original error or panic value.
	Type string
	// Panic is true when the function panicked; Stack then holds the stack
	// of the panicking goroutine.
	Panic bool
	Stack string
	// Sentinels names the registered sentinels the original error matched.
	Sentinels []string
}

func (e *RemoteError) Error() string {
	var b strings.Builder
	b.WriteString("mp: ")
	if e.Func != "" {
		fmt.Fprintf(&b, "%s ", e.Func)
	}
	if e.Pid != 0 {
		fmt.Fprintf(&b, "in process %d ", e.Pid)
	}
	if e.Panic {
		b.WriteString("panicked: ")
	} else {
		b.WriteString("failed: ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Is reports whether the original error matched target, a registered
// sentinel.
func (e *RemoteError) Is(target error) bool {
	name, ok := errs.Name(target)
	return ok && slices.Contains(e.Sentinels, name)
}

// RegisterError lets err cross process boundaries as itself: when a function
// running in a child, a pool worker or a manager's server returns an error
// that matches err (errors.Is), the *RemoteError the caller gets matches err
// too. mp's sentinels, the context errors, io.EOF and the fs errors are
// registered already. The name must be the same in every program that
// exchanges the error; a package-qualified name ("mypkg.ErrNotFound") keeps
// it unique. Call it at package level; it panics after Main, or on a name
// already taken.
func RegisterError(name string, err error) {
	if proc.MainCalled() {
		panic(fmt.Sprintf("mp: RegisterError(%q) after mp.Main: call it at package level", name))
	}
	errs.Register(name, err)
}

// remoteError turns the description of an error from another process into
// the error the caller gets.
func remoteError(r *errs.Remote) *RemoteError {
	if r == nil {
		return nil
	}
	return &RemoteError{Func: r.Func, Pid: r.Pid, Message: r.Message, Type: r.Type, Panic: r.Panic, Stack: r.Stack, Sentinels: r.Sentinels}
}
