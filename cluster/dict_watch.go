package cluster

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Change is a write to a Dict, as Watch reports it.
type Change[K comparable, V any] struct {
	// Key is the key written.
	Key K
	// Value is its new value; the zero V when Deleted.
	Value V
	// Deleted reports a Delete, Pop or Clear of Key.
	Deleted bool
	// Revision is the write's revision.
	Revision uint64
	// Err, if not nil, reports a key or value that could not be decoded;
	// Key or Value is then the zero value.
	Err error
}

// Watch returns a channel of the writes made to the dict after Watch
// returns, by any process, in the order the engine stored them. It is
// closed when ctx ends or the Cluster closes; until then the caller must keep receiving from
// it, or the engine's deliveries to this process back up.
func (d *Dict[K, V]) Watch(ctx context.Context) (<-chan Change[K, V], error) {
	w, err := d.kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return nil, d.error("watch", err)
	}
	ch := make(chan Change[K, V])
	go d.forward(ctx, w, ch)
	return ch, nil
}

// forward sends w's entries to ch as changes until ctx ends, then closes
// ch.
func (d *Dict[K, V]) forward(ctx context.Context, w jetstream.KeyWatcher, ch chan<- Change[K, V]) {
	defer close(ch)
	defer w.Stop()
	for {
		var e jetstream.KeyValueEntry
		var ok bool
		select {
		case e, ok = <-w.Updates():
			if !ok {
				return // the connection closed
			}
		case <-ctx.Done():
			return
		}
		if e == nil {
			continue // the end of the initial values, of which there are none
		}
		select {
		case ch <- d.change(e):
		case <-ctx.Done():
			return
		}
	}
}

// change decodes e.
func (d *Dict[K, V]) change(e jetstream.KeyValueEntry) Change[K, V] {
	c := Change[K, V]{Revision: e.Revision(), Deleted: e.Operation() != jetstream.KeyValuePut}
	if err := decodeKey(e.Key(), &c.Key); err != nil {
		c.Err = fmt.Errorf("dict %q: %w", d.name, err)
		return c
	}
	if !c.Deleted {
		v, err := d.value(e)
		c.Value, c.Err = v, err
	}
	return c
}
