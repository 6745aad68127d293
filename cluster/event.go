package cluster

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpgo/mp/internal/errs"
)

// Event is a flag shared by every process that opens its name on the same
// engine (Python: a manager's Event): Set raises it, Clear lowers it, and
// Wait waits until it is raised. It is a key of the engine's MP_STATE
// bucket; Wait watches the key, so it wakes on the engine's push, without
// polling. A Wait under way when Set happens returns, even if Clear
// follows at once. The flag outlives every process: it lives on the
// engine.
//
// An *Event is safe for concurrent use. It holds nothing to close.
type Event struct {
	cl cell
}

// NewEvent opens the event named name on c; a new event is clear.
func NewEvent(ctx context.Context, c *Cluster, name string) (*Event, error) {
	cl, err := openCell(ctx, c, "event", name)
	if err != nil {
		return nil, err
	}
	return &Event{cl: cl}, nil
}

// Name returns the event's name.
func (e *Event) Name() string { return e.cl.name }

// Set raises the flag.
func (e *Event) Set(ctx context.Context) error { return e.put(ctx, true) }

// Clear lowers the flag.
func (e *Event) Clear(ctx context.Context) error { return e.put(ctx, false) }

func (e *Event) put(ctx context.Context, set bool) error {
	data, err := encode(set)
	if err != nil {
		return err
	}
	if _, err := e.cl.kv.Put(ctx, e.cl.key, data); err != nil {
		return e.cl.error("set", err)
	}
	return nil
}

// IsSet reports whether the flag is raised.
func (e *Event) IsSet(ctx context.Context) (bool, error) {
	ent, err := e.cl.get(ctx)
	if err != nil || ent == nil {
		return false, err
	}
	return isSet(ent)
}

func isSet(ent jetstream.KeyValueEntry) (bool, error) {
	if ent.Operation() != jetstream.KeyValuePut {
		return false, nil
	}
	var set bool
	err := decode(ent.Value(), &set)
	return set, err
}

// Wait waits until the flag is raised (at once if it is). If ctx ends
// first, the error matches ctx's error (and mp.ErrTimeout for a
// deadline); Python's wait(timeout) returning False is a Wait whose
// context has that timeout returning an error.
func (e *Event) Wait(ctx context.Context) error {
	w, err := e.cl.kv.Watch(ctx, e.cl.key)
	if err != nil {
		return e.cl.error("wait", err)
	}
	defer w.Stop()
	for {
		select {
		case ent, ok := <-w.Updates():
			if !ok {
				return e.cl.error("wait", ErrClosed)
			}
			if ent == nil {
				continue
			}
			if set, err := isSet(ent); set || err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("cluster: event %q: %w", e.cl.name, errs.Deadline(ctx.Err()))
		}
	}
}
