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
		{"mp.ErrEmpty", Empty}, {"mp.ErrFull", Full}, {"mp.ErrTimeout", Timeout},
		{"mp.ErrClosed", Closed}, {"mp.ErrPoolClosed", PoolClosed}, {"mp.ErrProtocol", Protocol},
		{"mp.ErrUnknownFunction", UnknownFunction}, {"mp.ErrOwnerDead", OwnerDead},
		{"mp.ErrNotOwner", NotOwner}, {"mp.ErrBrokenBarrier", BrokenBarrier},
		{"mp.ErrTooManyReleases", TooManyReleases}, {"mp.ErrTooManyHolders", TooManyHolders},
		{"mp.ErrWorkerDied", WorkerDied}, {"mp.ErrDaemonChildren", DaemonChildren},
		{"mp.ErrBufferTooShort", BufferTooShort}, {"mp.ErrReadOnly", ReadOnly}, {"mp.ErrWriteOnly", WriteOnly},
		{"mp.ErrHandles", Handles},
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
