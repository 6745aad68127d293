package mp

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mpgo/mp/internal/waker"
	"golang.org/x/sys/unix"
)

// fdWaitable is an object Wait can poll: its descriptor becomes readable
// when the object is ready (a Conn or queue with a message waiting).
type fdWaitable interface {
	waitFD() int
}

// Wait waits until at least one of objects is ready and returns the ready
// ones, in the order given (Python: multiprocessing.connection.wait). A Conn
// or a queue is ready when a receive would not block (a message is waiting,
// or the other end is closed; over TCP, a message is waiting once all of it
// has arrived, as for Conn.Poll); a *Listener when a connection waits to be
// accepted; a *Process when it has ended. If ctx ends first, Wait returns
// no objects and ctx's error.
func Wait(ctx context.Context, objects ...any) ([]any, error) {
	for _, o := range objects {
		if _, ok := o.(*Process); !ok {
			if _, ok := o.(fdWaitable); !ok {
				panic(fmt.Sprintf("mp: Wait on a %T: want *Conn, *Listener, *Process or a queue", o))
			}
		}
	}
	for {
		if ready := readyNow(ctx, objects); len(ready) > 0 {
			return ready, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := block(ctx, objects); err != nil {
			return nil, err
		}
	}
}

// readyNow returns the objects that are ready, without blocking (a
// Pipe's end may wait briefly for its ring's lock, until ctx ends).
func readyNow(ctx context.Context, objects []any) []any {
	var ready []any
	for _, o := range objects {
		if isReady(ctx, o) {
			ready = append(ready, o)
		}
	}
	return ready
}

func isReady(ctx context.Context, o any) bool {
	if p, ok := o.(*Process); ok {
		return p.ended()
	}
	if c, ok := o.(*Conn); ok && c.r != nil {
		// From now on its descriptor is readable while a message waits;
		// one may wait already.
		if !c.readable {
			return false
		}
		// An error (a corrupt ring) is for a receive to report.
		ready, err := c.r.Armed(ctx)
		return ready || (err != nil && !errors.Is(err, ErrClosed))
	}
	if c, ok := o.(*Conn); ok && c.t.Framed() {
		// Its socket is readable from a message's first byte; Ready waits
		// for the last.
		return c.Ready()
	}
	fd := o.(fdWaitable).waitFD()
	if fd < 0 {
		return false
	}
	// Poll a duplicate: the object may be closed meanwhile, and its number
	// given to another file.
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(dup)
	pfd := []unix.PollFd{{Fd: int32(dup), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0
}

// block waits until some object may have become ready, or ctx ends. It
// polls duplicates of the objects' descriptors together with a waker (an
// eventfd, or a pipe on the portable set) that wakes it when ctx ends or a
// process ends.
func block(ctx context.Context, objects []any) error {
	wake, err := waker.New()
	if err != nil {
		return fmt.Errorf("mp: wait: %w", err)
	}
	defer wake.Close()
	poke := wake.Set
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	defer afterFunc(ctx, poke)()
	pfds := []unix.PollFd{{Fd: int32(wake.FD()), Events: unix.POLLIN}}
	for _, o := range objects {
		if p, ok := o.(*Process); ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-p.Done():
					poke()
				case <-stop:
				}
			}()
			continue
		}
		if fd := o.(fdWaitable).waitFD(); fd >= 0 {
			if dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0); err == nil {
				defer unix.Close(dup)
				pfds = append(pfds, unix.PollFd{Fd: int32(dup), Events: unix.POLLIN})
			}
		}
	}
	for {
		_, err := unix.Poll(pfds, -1)
		if err != unix.EINTR {
			return nil
		}
	}
}

// afterFunc is context.AfterFunc whose stop function also waits for fn if
// it has started, so that fn never runs after stop returns: block's poke
// must not find its waker closed.
func afterFunc(ctx context.Context, fn func()) (stop func()) {
	fired := make(chan struct{})
	stopFn := context.AfterFunc(ctx, func() {
		defer close(fired)
		fn()
	})
	return func() {
		if !stopFn() {
			<-fired
		}
	}
}
