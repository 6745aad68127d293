package cluster

import (
	"context"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// presence follows the workers of a pool as they announce themselves in
// the presence bucket: one key per worker machine, its value the number
// of processes it runs, renewed while it lives and removed by the engine
// presenceTTL after the last renewal. Its watch is made again, with the
// bucket, each time the connection to the engine comes back (see
// rewatch): the count it had stands until the new watch has listed the
// keys.
type presence struct {
	w      *rewatch
	cancel context.CancelFunc // ends the watching goroutine
	done   chan struct{}      // closed when the watching goroutine ends

	// mu guards procs.
	mu    sync.Mutex
	procs map[string]int // by key
}

// openPresence returns the presence bucket, created if need be.
func openPresence(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: presenceBucket, History: 1,
		TTL: presenceTTL, LimitMarkerTTL: presenceTTL, Storage: jetstream.MemoryStorage})
	if err != nil {
		return nil, engineErr("create the presence bucket", err)
	}
	return kv, nil
}

// watchPresence starts following the keys that match pattern.
func watchPresence(ctx context.Context, js jetstream.JetStream, pattern string) (*presence, error) {
	if _, err := openPresence(ctx, js); err != nil {
		return nil, err
	}
	w, err := newRewatch(ctx, js.Conn(), func(ctx context.Context, _ bool) (jetstream.KeyWatcher, error) {
		// The bucket lives in memory: an engine that restarted has
		// lost it.
		kv, err := openPresence(ctx, js)
		if err != nil {
			return nil, err
		}
		return kv.Watch(context.Background(), pattern)
	})
	if err != nil {
		return nil, engineErr("watch the presence bucket", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	p := &presence{w: w, cancel: cancel, done: make(chan struct{}), procs: map[string]int{}}
	go p.run(rctx)
	return p, nil
}

func (p *presence) run(ctx context.Context) {
	defer close(p.done)
	procs := map[string]int{} // until the initial values are in; then p.procs
	for {
		select {
		case e, ok := <-p.w.updates():
			if !ok {
				return
			}
			p.saw(procs, e)
			if e == nil && procs != nil {
				// The end of the initial values: the count is whole.
				p.mu.Lock()
				p.procs = procs
				p.mu.Unlock()
				procs = nil
			}
		case <-p.w.reconnected():
			if p.w.restart(ctx) != nil {
				return // stopped, or the connection closed
			}
			procs = map[string]int{}
		case <-ctx.Done():
			return
		}
	}
}

// saw records entry e (nil: the end of the initial values) in procs, or
// in p.procs if procs is nil.
func (p *presence) saw(procs map[string]int, e jetstream.KeyValueEntry) {
	if e == nil {
		return
	}
	if procs == nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		procs = p.procs
	}
	n, err := strconv.Atoi(string(e.Value()))
	if e.Operation() != jetstream.KeyValuePut || err != nil || n < 0 {
		delete(procs, e.Key())
	} else {
		procs[e.Key()] = n
	}
}

// count returns the number of live workers and of their processes.
func (p *presence) count() (workers, procs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.procs {
		procs += n
	}
	return len(p.procs), procs
}

// processes returns the number of processes of the live workers.
func (p *presence) processes() int {
	_, n := p.count()
	return n
}

// stop stops following, and waits for the goroutine.
func (p *presence) stop() {
	p.cancel()
	<-p.done
	p.w.stop()
}
