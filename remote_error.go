package mp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
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
	name, ok := sentinelName(target)
	if !ok {
		return false
	}
	for _, s := range e.Sentinels {
		if s == name {
			return true
		}
	}
	return false
}

// sentinels maps names to the errors that cross the wire by name.
var sentinels = struct {
	sync.RWMutex
	byName map[string]error
	names  []string
}{byName: map[string]error{}}

func init() {
	for name, err := range map[string]error{
		"mp.ErrEmpty": ErrEmpty, "mp.ErrFull": ErrFull, "mp.ErrTimeout": ErrTimeout,
		"mp.ErrClosed": ErrClosed, "mp.ErrPoolClosed": ErrPoolClosed, "mp.ErrProtocol": ErrProtocol,
		"mp.ErrUnknownFunction": ErrUnknownFunction, "mp.ErrOwnerDead": ErrOwnerDead,
		"mp.ErrNotOwner": ErrNotOwner, "mp.ErrBrokenBarrier": ErrBrokenBarrier,
		"mp.ErrTooManyReleases": ErrTooManyReleases, "mp.ErrWorkerDied": ErrWorkerDied,
		"mp.ErrDaemonChildren": ErrDaemonChildren, "mp.ErrBufferTooShort": ErrBufferTooShort,
		"mp.ErrReadOnly": ErrReadOnly, "mp.ErrWriteOnly": ErrWriteOnly,
		"context.Canceled": context.Canceled, "context.DeadlineExceeded": context.DeadlineExceeded,
		"io.EOF": io.EOF, "io.ErrUnexpectedEOF": io.ErrUnexpectedEOF,
		"fs.ErrNotExist": fs.ErrNotExist, "fs.ErrExist": fs.ErrExist, "fs.ErrPermission": fs.ErrPermission,
		"os.ErrDeadlineExceeded": os.ErrDeadlineExceeded,
	} {
		registerError(name, err)
	}
}

// RegisterError lets err cross process boundaries as itself: when a function
// running in a child returns an error that matches err (errors.Is), the
// *RemoteError the parent gets matches err too. mp's sentinels, the context
// errors, io.EOF and the fs errors are registered already. Call it at
// package level; it panics after Main, or on a name already taken.
func RegisterError(name string, err error) {
	if mainCalled.Load() {
		panic(fmt.Sprintf("mp: RegisterError(%q) after mp.Main: call it at package level", name))
	}
	registerError(name, err)
}

func registerError(name string, err error) {
	sentinels.Lock()
	defer sentinels.Unlock()
	if _, dup := sentinels.byName[name]; dup {
		panic(fmt.Sprintf("mp: error %q registered twice", name))
	}
	sentinels.byName[name] = err
	sentinels.names = append(sentinels.names, name)
}

func sentinelName(target error) (string, bool) {
	sentinels.RLock()
	defer sentinels.RUnlock()
	for _, name := range sentinels.names {
		if sentinels.byName[name] == target {
			return name, true
		}
	}
	return "", false
}

// toRemote describes err for the parent.
func toRemote(funcName string, err error) *RemoteError {
	var re *RemoteError
	if errors.As(err, &re) && re.Panic && re.Func == "" {
		re.Func, re.Pid = funcName, os.Getpid()
		re.Sentinels = matchedSentinels(err)
		return re
	}
	return &RemoteError{
		Func:      funcName,
		Pid:       os.Getpid(),
		Message:   err.Error(),
		Type:      fmt.Sprintf("%T", err),
		Sentinels: matchedSentinels(err),
	}
}

func matchedSentinels(err error) []string {
	sentinels.RLock()
	defer sentinels.RUnlock()
	var out []string
	for _, name := range sentinels.names {
		if errors.Is(err, sentinels.byName[name]) {
			out = append(out, name)
		}
	}
	return out
}
