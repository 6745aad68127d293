package mp

import (
	"context"
	"unsafe"

	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/race"
	"github.com/mpgo/mp/internal/shmem"
)

// Event is a flag shared between processes that others can wait for
// (Python: multiprocessing.Event). It starts clear; Set sets it and wakes
// every waiter; Clear clears it.
//
// A waiter that was waiting when Set was called returns even if Clear
// follows at once (as in Python). Set and Clear are atomic operations in
// shared memory; Set makes a system call only when someone waits.
//
// An Event is a handle: it travels to other processes in a Process's
// argument or in a message.
//
// Memory order: what a process wrote before Set is visible to a waiter whose
// Wait returns because of that Set.
type Event struct {
	r    *shmem.Region
	st   *lockcore.Event
	race race.Sync
}

// NewEvent returns a new, clear Event in its own shared memory.
func NewEvent() (*Event, error) {
	r, p, err := newRegion(shmem.KindEvent, int(unsafe.Sizeof(lockcore.Event{})))
	if err != nil {
		return nil, err
	}
	return &Event{r: r, st: (*lockcore.Event)(p)}, nil
}

// Set sets the flag and wakes every waiter, in every process.
func (e *Event) Set() error {
	if e.st == nil {
		return ErrClosed
	}
	e.race.Releasing()
	e.st.Set()
	return nil
}

// Clear clears the flag: later Waits wait for the next Set.
func (e *Event) Clear() error {
	if e.st == nil {
		return ErrClosed
	}
	e.st.Clear()
	return nil
}

// IsSet reports whether the flag is set (false after Close).
func (e *Event) IsSet() bool { return e.st != nil && e.st.IsSet() }

// Wait waits until the flag is set and returns nil (at once if it is set).
// If ctx ends first, Wait returns an error that matches ctx's error (and
// ErrTimeout for a deadline). Python's wait(timeout) returning False is a
// Wait whose context has that timeout returning an error.
func (e *Event) Wait(ctx context.Context) error {
	if e.st == nil {
		return ErrClosed
	}
	if err := e.st.Wait(ctx); err != nil {
		return lockError(err)
	}
	e.race.Acquired()
	return nil
}

// Close releases this process's mapping of the event and its descriptor.
// Close must not be called while other goroutines use the event; it is safe
// to call twice.
func (e *Event) Close() error {
	e.st = nil
	return closeRegion(&e.r)
}

// MarshalCBOR is plumbing: part of how an Event travels to another
// process (see Handles in the package doc); not for direct use.
func (e *Event) MarshalCBOR() ([]byte, error) { return marshalRegion(eventTag, e.r, nil) }

// UnmarshalCBOR is plumbing: part of how an Event travels to another
// process (see Handles in the package doc); not for direct use.
func (e *Event) UnmarshalCBOR(data []byte) error {
	r, p, err := unmarshalRegion(data, eventTag, shmem.KindEvent, int(unsafe.Sizeof(lockcore.Event{})), nil)
	if err != nil {
		return err
	}
	*e = Event{r: r, st: (*lockcore.Event)(p)}
	return nil
}
