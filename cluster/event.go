package cluster

import (
	"context"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Event is a flag shared by every process that opens its name on the same
// engine (Python: a manager's Event): Set raises it, Clear lowers it, and
// Wait waits until it is raised. It is a key of the engine's MP_STATE
// bucket, holding the flag and a count of Sets; Wait watches the key, so
// it wakes on the engine's push, without polling. A Wait under way when
// Set happens returns, even if Clear follows at once. The flag outlives every process: it lives on the
// engine.
//
// An *Event is safe for concurrent use. It holds nothing to close.
type Event struct {
	cl cell
	nc *nats.Conn
}

// NewEvent opens the event named name on c; a new event is clear.
func NewEvent(ctx context.Context, c *Cluster, name string) (*Event, error) {
	cl, err := openCell(ctx, c, "event", name)
	if err != nil {
		return nil, err
	}
	return &Event{cl: cl, nc: c.nc}, nil
}

// Name returns the event's name.
func (e *Event) Name() string { return e.cl.name }

// eventState is an event's value.
type eventState struct {
	// Set is the flag.
	Set bool
	// Sets counts the Sets, so that a waiter that misses a Set quickly
	// undone (the bucket keeps only a key's last value) still sees it
	// happened.
	Sets uint64
}

// Set raises the flag.
func (e *Event) Set(ctx context.Context) error {
	return e.cl.modify(ctx, func(cur []byte) ([]byte, error) {
		st, err := decodeEvent(cur)
		if err != nil {
			return nil, err
		}
		return encode(eventState{Set: true, Sets: st.Sets + 1})
	})
}

// Clear lowers the flag.
func (e *Event) Clear(ctx context.Context) error {
	return e.cl.modify(ctx, func(cur []byte) ([]byte, error) {
		st, err := decodeEvent(cur)
		if err != nil || !st.Set {
			return nil, err
		}
		return encode(eventState{Sets: st.Sets})
	})
}

// decodeEvent decodes an event's value; none is a clear event.
func decodeEvent(data []byte) (eventState, error) {
	var st eventState
	if len(data) == 0 {
		return st, nil
	}
	err := decode(data, &st)
	return st, err
}

// IsSet reports whether the flag is raised.
func (e *Event) IsSet(ctx context.Context) (bool, error) {
	st, err := e.state(ctx)
	return st.Set, err
}

func (e *Event) state(ctx context.Context) (eventState, error) {
	ent, err := e.cl.get(ctx)
	if err != nil || ent == nil {
		return eventState{}, err
	}
	return decodeEvent(ent.Value())
}

// Wait waits until the flag is raised (at once if it is). If ctx ends
// first, the error matches ctx's error (and mp.ErrTimeout for a
// deadline); Python's wait(timeout) returning False is a Wait whose
// context has that timeout returning an error. Wait reads the flag from
// its watch, which brings the flag as it is first, then its changes.
// When the connection to the engine comes back after an outage, Wait
// watches again, from the flag as it is then, so that a Set made while
// its watch was gone is seen at once.
func (e *Event) Wait(ctx context.Context) error {
	w, err := watchKeys(ctx, e.nc, e.cl.kv, []string{e.cl.key}, false)
	if err != nil {
		return e.cl.error("wait", err)
	}
	defer w.stop()
	var first *eventState // the flag when Wait began; nil until known
	for {
		select {
		case ent, ok := <-w.updates():
			if !ok {
				// The new watch brings the flag as it is now.
				if err := w.lost(ctx); err != nil {
					return e.cl.rewatchError(ctx, err)
				}
				break
			}
			var now eventState
			if ent != nil && ent.Operation() == jetstream.KeyValuePut {
				if now, err = decodeEvent(ent.Value()); err != nil {
					return err
				}
			} else if first != nil {
				continue
			}
			if now.Set || first != nil && now.Sets > first.Sets {
				return nil
			}
			if first == nil {
				first = &now
			}
		case <-w.reconnected():
			// The new watch brings the flag as it is now.
			if err := w.restart(ctx); err != nil {
				return e.cl.rewatchError(ctx, err)
			}
		case <-ctx.Done():
			return fmt.Errorf("cluster: event %q: %w", e.cl.name, errs.Deadline(ctx.Err()))
		}
	}
}
