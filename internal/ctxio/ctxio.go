// Package ctxio makes blocking I/O on descriptors in Go's poller end when a
// context ends: a mutex whose Lock can be abandoned, and the arming of a
// file's deadline for one operation.
package ctxio

import (
	"context"
	"errors"
	"os"
	"time"
)

// Lock is a mutex whose Lock can be abandoned when a context ends. Make it
// with NewLock.
type Lock chan struct{}

// NewLock returns an unlocked Lock.
func NewLock() Lock { return make(Lock, 1) }

// Lock locks l, or returns ctx's error if ctx ends first.
func (l Lock) Lock(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	default:
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Unlock unlocks l.
func (l Lock) Unlock() { <-l }

// aLongTimeAgo is a deadline in the past: setting it wakes a blocked
// operation at once.
var aLongTimeAgo = time.Unix(1, 0)

// ArmDeadline makes the blocking operations that set guards (reads or
// writes of one file) end when ctx ends. It returns a function to call when
// the operation is over, which disarms the deadline again. Only one
// operation of that kind may be in flight (the caller holds its lock).
func ArmDeadline(ctx context.Context, set func(time.Time) error) (disarm func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	if d, ok := ctx.Deadline(); ok {
		set(d)
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		set(aLongTimeAgo)
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired // the wake-up ran or is running: let it finish first
		}
		set(time.Time{})
	}
}

// Err maps a poller deadline error to the context's error.
func Err(ctx context.Context, err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	if e := ctx.Err(); e != nil {
		return e
	}
	return context.DeadlineExceeded
}
