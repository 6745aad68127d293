package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// rewatchEvery is how often a watch that could not be made again after a
// reconnection tries once more (the engine may take a moment after it
// accepts connections to serve its streams again).
const rewatchEvery = 100 * time.Millisecond

// rewatch is a key-value watch that is made again each time the
// connection to the engine comes back. A watch lives in an ordered
// consumer on the engine: an engine that restarts forgets it, and the
// client only notices after missing its heartbeats, many seconds later,
// so that the watch hears nothing in between. A reconnection is the sign
// that this may have happened; the owner of a rewatch selects on
// reconnected as well as updates, calls restart when it fires, and then
// takes the state it waits on again from the new watch's first entries,
// since what changed while the engine was away, or just before it went,
// may never come as an update.
type rewatch struct {
	nc   *nats.Conn
	open func(ctx context.Context, again bool) (jetstream.KeyWatcher, error)
	w    jetstream.KeyWatcher
	end  context.CancelFunc // ends w: a watch lives as long as the context it was made with
	back chan nats.Status   // the connection came back
}

// watchKeys watches keys (subjects of kv, with wildcards) with opts, a
// watch that survives the engine's restarts. If updatesOnly, the first
// watch brings only the writes after it; the watches made again bring
// the keys' current entries first, then nil, as a watch without
// UpdatesOnly does: that is how their owner reads the state again, as
// the watch sees it (a request made at once after the engine's return may
// go unanswered, while the watch, once made, is served).
func watchKeys(ctx context.Context, nc *nats.Conn, kv jetstream.KeyValue, keys []string, updatesOnly bool, opts ...jetstream.WatchOpt) (*rewatch, error) {
	return newRewatch(ctx, nc, func(ctx context.Context, again bool) (jetstream.KeyWatcher, error) {
		o := opts
		if updatesOnly && !again {
			o = append(slices.Clip(opts), jetstream.UpdatesOnly())
		}
		// WatchFiltered writes over the slice it is given.
		return kv.WatchFiltered(ctx, slices.Clone(keys), o...)
	})
}

// newRewatch makes a rewatch of the watch open makes (again: after a
// reconnection). It listens for reconnections before it makes the watch,
// so that none can fall between.
func newRewatch(ctx context.Context, nc *nats.Conn, open func(ctx context.Context, again bool) (jetstream.KeyWatcher, error)) (*rewatch, error) {
	r := &rewatch{nc: nc, open: open, back: nc.StatusChanged(nats.CONNECTED)}
	if err := r.make(ctx, false); err != nil {
		nc.RemoveStatusListener(r.back)
		return nil, err
	}
	return r, nil
}

// make makes a watch, r.w. An attempt under way when the connection is lost
// is given up at once (its request or its reply went with the
// connection), and made again once the connection is back, every
// rewatchEvery, until it is made, the connection is closed, or ctx ends.
func (r *rewatch) make(ctx context.Context, again bool) error {
	lost := r.nc.StatusChanged(nats.RECONNECTING, nats.DISCONNECTED)
	defer r.nc.RemoveStatusListener(lost)
	t := time.NewTicker(rewatchEvery)
	defer t.Stop()
	for {
		actx, cancel := context.WithCancel(ctx)
		made := make(chan struct{})
		cut := make(chan struct{})
		go func() {
			select {
			case <-lost:
				close(cut)
				cancel()
			case <-made:
			}
		}()
		w, err := r.open(actx, again)
		close(made)
		if err == nil {
			r.w, r.end = w, cancel
			return nil
		}
		cancel()
		select {
		case <-cut:
			// Wait for the connection, then try again.
			select {
			case <-r.back:
			case <-ctx.Done():
				return ctx.Err()
			}
			again = true
			continue
		default:
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !again || isClosed(err) || errors.Is(err, jetstream.ErrInvalidKey) {
			return err
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// updates returns the current watch's entries; after restart, a new
// channel.
func (r *rewatch) updates() <-chan jetstream.KeyValueEntry { return r.w.Updates() }

// reconnected fires when the connection to the engine comes back.
func (r *rewatch) reconnected() <-chan nats.Status { return r.back }

// restart stops the current watch and makes it again, trying every
// rewatchEvery until it is made, the connection is closed, or ctx ends
// (then the error is ctx's), or it fails for a reason that does not pass.
// The new watch starts with the keys' current entries (see watchKeys).
func (r *rewatch) restart(ctx context.Context) error {
	_ = r.w.Stop()
	r.end()
	// Signals so far are all answered by the watch made now.
	for len(r.back) > 0 {
		<-r.back
	}
	return r.make(ctx, true)
}

// lost makes the watch again after its updates ended while the caller was
// still reading them: with the connection closed, that is ErrClosed; with
// the connection up, the engine ended the watch's consumer (one that
// missed its heartbeats on a loaded machine, say), and the watch is made
// again, as after a reconnection, a rewatchEvery later, so that a watch
// the engine keeps ending costs a restart per rewatchEvery at most. The
// new watch starts with the keys' current entries.
func (r *rewatch) lost(ctx context.Context) error {
	if r.nc.IsClosed() {
		return ErrClosed
	}
	t := time.NewTimer(rewatchEvery)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return r.restart(ctx)
}

// stop stops the watch and the listening.
func (r *rewatch) stop() {
	_ = r.w.Stop()
	r.end()
	r.nc.RemoveStatusListener(r.back)
}

// rewatchError is the error of a restart that failed: ctx's if it ended,
// else the engine's.
func (cl cell) rewatchError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("cluster: %s %q: %w", cl.kind, cl.name, errs.Deadline(ctx.Err()))
	}
	return cl.error("watch", err)
}
