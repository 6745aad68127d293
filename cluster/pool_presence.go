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
// presenceTTL after the last renewal.
type presence struct {
	w    jetstream.KeyWatcher
	done chan struct{} // closed when the watching goroutine ends

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
	kv, err := openPresence(ctx, js)
	if err != nil {
		return nil, err
	}
	w, err := kv.Watch(context.Background(), pattern)
	if err != nil {
		return nil, engineErr("watch the presence bucket", err)
	}
	p := &presence{w: w, done: make(chan struct{}), procs: map[string]int{}}
	go p.run()
	return p, nil
}

func (p *presence) run() {
	defer close(p.done)
	for e := range p.w.Updates() {
		if e == nil {
			continue // the end of the initial values
		}
		p.mu.Lock()
		n, err := strconv.Atoi(string(e.Value()))
		if e.Operation() != jetstream.KeyValuePut || err != nil || n < 0 {
			delete(p.procs, e.Key())
		} else {
			p.procs[e.Key()] = n
		}
		p.mu.Unlock()
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
	_ = p.w.Stop()
	<-p.done
}
