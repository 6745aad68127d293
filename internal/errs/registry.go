package errs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

// registry maps names to the errors that cross process boundaries by name:
// an error from another process carries the names of the registered errors
// it matched there, and matches the same errors here. The same names serve
// every channel between processes: results of functions run in children
// and pool workers, and replies of a manager.
var registry = struct {
	sync.RWMutex
	byName map[string]error
	names  []string // in registration order
}{byName: map[string]error{}}

func init() {
	for _, s := range []struct {
		name string
		err  error
	}{
		{"mp.ErrEmpty", ErrEmpty}, {"mp.ErrFull", ErrFull}, {"mp.ErrTimeout", ErrTimeout},
		{"mp.ErrClosed", ErrClosed}, {"mp.ErrPoolClosed", ErrPoolClosed}, {"mp.ErrProtocol", ErrProtocol},
		{"mp.ErrUnknownFunction", ErrUnknownFunction}, {"mp.ErrOwnerDead", ErrOwnerDead},
		{"mp.ErrNotOwner", ErrNotOwner}, {"mp.ErrBrokenBarrier", ErrBrokenBarrier},
		{"mp.ErrTooManyReleases", ErrTooManyReleases}, {"mp.ErrTooManyHolders", ErrTooManyHolders},
		{"mp.ErrWorkerDied", ErrWorkerDied}, {"mp.ErrDaemonChildren", ErrDaemonChildren},
		{"mp.ErrBufferTooShort", ErrBufferTooShort}, {"mp.ErrReadOnly", ErrReadOnly}, {"mp.ErrWriteOnly", ErrWriteOnly},
		{"mp.ErrHandles", ErrHandles}, {"mp.ErrUnencodable", ErrUnencodable},
		{"mp.ErrWouldDeadlock", ErrWouldDeadlock},
		{"mp.ErrAuthentication", ErrAuthentication}, {"mp.ErrInsecure", ErrInsecure},
		{"context.Canceled", context.Canceled}, {"context.DeadlineExceeded", context.DeadlineExceeded},
		{"io.EOF", io.EOF}, {"io.ErrUnexpectedEOF", io.ErrUnexpectedEOF},
		{"fs.ErrNotExist", fs.ErrNotExist}, {"fs.ErrExist", fs.ErrExist}, {"fs.ErrPermission", fs.ErrPermission},
		{"os.ErrDeadlineExceeded", os.ErrDeadlineExceeded},
	} {
		Register(s.name, s.err)
	}
}

// Register lets err cross process boundaries under name. It panics if the
// name is taken.
func Register(name string, err error) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[name]; dup {
		panic(fmt.Sprintf("mp: error %q registered twice", name))
	}
	registry.byName[name] = err
	registry.names = append(registry.names, name)
}

// Name returns the name target is registered under.
func Name(target error) (string, bool) {
	registry.RLock()
	defer registry.RUnlock()
	for _, name := range registry.names {
		if registry.byName[name] == target {
			return name, true
		}
	}
	return "", false
}

// Matched names the registered errors that err matches (errors.Is).
func Matched(err error) []string {
	registry.RLock()
	defer registry.RUnlock()
	var out []string
	for _, name := range registry.names {
		if errors.Is(err, registry.byName[name]) {
			out = append(out, name)
		}
	}
	return out
}
