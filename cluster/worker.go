package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/diag"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// WorkerOptions configure Work. The zero value works for the pool
// "default" with one process per CPU.
type WorkerOptions struct {
	// Pool is the name of the pool to work for; empty means "default".
	Pool string
	// Name names the worker machine in errors and in the presence bucket;
	// empty means "<hostname>:<pid>".
	Name string
	// Local configures the local mp.Pool that runs the tasks: Processes
	// is how many run at once (0: one per CPU), and its initializer,
	// MaxTasksPerChild, TaskTimeout and start method apply to every task.
	Local mp.PoolOptions
	// Prefetch is how many tasks the worker holds beyond those it runs,
	// so that a process that finishes one finds the next at hand: the
	// engine is a round trip away, and a short task takes less than one.
	// Zero means 4 per local process, and at least 64; a negative number
	// means none. Held tasks are confirmed to the engine as running ones
	// are, but other workers cannot take them: for tasks that run long,
	// a small Prefetch (or none) spreads them better over the machines.
	Prefetch int
	// Drain is how long, once ctx ends, the worker lets the tasks it
	// holds finish before it hands the rest back to the engine, which
	// delivers them to other workers (each hand-back counts as a
	// delivery). Zero hands them back at once.
	Drain time.Duration
}

// Work runs a worker of a pool until ctx ends: it takes tasks from the
// pool's stream as its local processes are free, runs each in a local
// mp.Pool of processes of this program's binary (so every function
// registered in it can run), sends back their results, and confirms the
// tasks it holds to the engine a few times per AckWait. It waits for a
// submitter to create the pool if none has yet.
//
// c may be a worker's connection (ConnectOptions.Worker), whose
// permissions suffice. Once ctx ends Work takes no more tasks, lets those
// it holds finish for up to o.Drain, hands back the others, stops its
// local pool and returns nil. It returns an error if the local pool
// cannot start or the engine refuses what a worker does (ErrPermission).
func Work(ctx context.Context, c *Cluster, o *WorkerOptions) error {
	if o == nil {
		o = &WorkerOptions{}
	}
	w, err := newWorker(c, *o)
	if err != nil {
		return err
	}
	defer w.js.CleanupPublisher() // its inbox and goroutine
	return w.run(ctx)
}

// worker is the state of one Work.
type worker struct {
	c       *Cluster
	js      jetstream.JetStream
	o       WorkerOptions
	name    string
	names   poolNames
	key     string // its key in the presence bucket
	procs   int
	holdMax int // tasks it may hold: running and prefetched
	local   *mp.Pool
	inbox   string // where its pull requests are answered
	publish chan published

	// mu guards the fields below.
	mu         sync.Mutex
	held       map[heldKey]*heldTask
	running    int // held tasks not yet finished
	requested  int // tasks asked for and not yet received
	stopping   bool
	late       []string               // replies of tasks that came once stopping, to hand back
	outbox     map[string][]outResult // results to send, by submitter
	sending    int                    // messages of results not yet stored
	pauseUntil time.Time              // no pull request before then
	ackWait    time.Duration

	wake  chan struct{} // a task finished, or a pull request ended
	empty chan struct{} // signalled when a held task is released
	fatal chan error    // an error that ends Work
}

// heldKey identifies a task's message among those a worker holds: a task
// published again after a crash (Retries) is another message.
type heldKey struct {
	submitter string
	id        uint64
	attempt   int
}

// heldTask is a task a worker holds: running, or waiting for its result
// to be stored.
type heldTask struct {
	reply     string // the task message's acknowledgement subject
	t         *mp.Task
	done      bool // the local pool finished it
	cancelled bool // its submitter no longer wants it
}

func newWorker(c *Cluster, o WorkerOptions) (*worker, error) {
	if c == nil {
		panic("cluster: Work with a nil Cluster")
	}
	if o.Pool == "" {
		o.Pool = "default"
	}
	checkName("Work", "Pool", o.Pool)
	if o.Drain < 0 {
		panic(fmt.Sprintf("cluster: Work with Drain %v: want 0 or more", o.Drain))
	}
	name := o.Name
	if name == "" {
		host, _ := os.Hostname()
		name = host + ":" + strconv.Itoa(os.Getpid())
	}
	procs := o.Local.Processes
	if procs == 0 {
		procs = mp.CPUCount()
	}
	prefetch := o.Prefetch
	switch {
	case prefetch == 0:
		prefetch = max(64, 4*procs)
	case prefetch < 0:
		prefetch = 0
	}
	js, err := jetstream.New(c.nc, jetstream.WithPublishAsyncMaxPending(maxPublishing), jetstream.WithPublishAsyncTimeout(publishTimeout))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEngine, err)
	}
	return &worker{c: c, js: js, o: o, name: name, names: namesOf(o.Pool, "-"), key: o.Pool + "." + nuid.Next(),
		procs: procs, holdMax: procs + prefetch, inbox: c.nc.NewInbox(), publish: make(chan published, maxPublishing),
		held: map[heldKey]*heldTask{}, outbox: map[string][]outResult{}, wake: make(chan struct{}, 1), empty: make(chan struct{}, 1), fatal: make(chan error, 1)}, nil
}

// run is Work once w is made.
func (w *worker) run(ctx context.Context) error {
	cons, err := w.bind(ctx)
	if err != nil || cons == nil {
		return err // nil: ctx ended first
	}
	w.ackWait = cons.CachedInfo().Config.AckWait
	if w.local, err = mp.NewPool(w.o.Local); err != nil {
		return fmt.Errorf("cluster: Work: start the local pool: %w", err)
	}
	defer w.stopLocal()
	ctl, err := w.c.nc.Subscribe(w.names.control, w.onControl)
	if err != nil {
		return engineErr("cluster: Work: subscribe to control", err)
	}
	defer func() { _ = ctl.Unsubscribe() }()
	tasks, err := w.c.nc.Subscribe(w.inbox, w.onMsg)
	if err != nil {
		return engineErr("cluster: Work: subscribe", err)
	}
	defer func() { _ = tasks.Unsubscribe() }()
	var bg sync.WaitGroup
	bgCtx, stopBG := context.WithCancel(context.Background())
	bg.Add(2)
	go func() { defer bg.Done(); w.announce(bgCtx) }()
	go func() { defer bg.Done(); w.results(bgCtx) }()
	err = w.loop(ctx, cons)
	if err == nil {
		w.drain(tasks)
	}
	stopBG()
	bg.Wait()
	w.leave()
	return err
}

// bind waits for the pool's consumer to exist, and returns it; nil if ctx
// ends first.
func (w *worker) bind(ctx context.Context) (jetstream.Consumer, error) {
	pause := 50 * time.Millisecond
	for {
		var cons jetstream.Consumer
		err := guardPermission(ctx, w.c.nc, func(ctx context.Context) error {
			var err error
			cons, err = w.js.Consumer(ctx, w.names.tasks, workersConsumer)
			return err
		})
		switch {
		case err == nil:
			return cons, nil
		case errors.Is(err, ErrPermission):
			return nil, fmt.Errorf("cluster: Work: %w", err)
		case ctx.Err() != nil:
			return nil, nil
		case !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrConsumerNotFound):
			diag.Logger().Warn("cluster: worker waits for the engine", "pool", w.o.Pool, "err", err)
		}
		select {
		case <-time.After(pause):
			pause = min(2*pause, time.Second)
		case <-ctx.Done():
			return nil, nil
		}
	}
}

// loop asks for tasks as there is room for them, confirms those it holds,
// and renews its pull requests after a reconnection, until ctx ends.
func (w *worker) loop(ctx context.Context, cons jetstream.Consumer) error {
	reconnected := w.c.nc.StatusChanged(nats.CONNECTED)
	defer w.c.nc.RemoveStatusListener(reconnected)
	beat := time.NewTicker(w.beatEvery())
	defer beat.Stop()
	subject := fmt.Sprintf("$JS.API.CONSUMER.MSG.NEXT.%s.%s", w.names.tasks, workersConsumer)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		if d := w.pull(subject); d > 0 {
			pause.Reset(d)
		}
		select {
		case <-w.wake:
		case <-pause.C:
		case <-beat.C:
			w.confirm()
			w.refresh(cons, beat)
		case <-reconnected:
			w.mu.Lock()
			w.requested = 0 // the engine forgot them with the connection
			w.mu.Unlock()
		case err := <-w.fatal:
			return err
		case <-ctx.Done():
			return nil
		}
	}
}

// beatEvery is how often held tasks are confirmed.
func (w *worker) beatEvery() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return max(w.ackWait/4, 10*time.Millisecond)
}

// refresh reads the consumer's AckWait again, which a submitter may have
// changed.
func (w *worker) refresh(cons jetstream.Consumer, beat *time.Ticker) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	info, err := cons.Info(ctx)
	if err != nil || info.Config.AckWait <= 0 {
		return
	}
	w.mu.Lock()
	changed := info.Config.AckWait != w.ackWait
	w.ackWait = info.Config.AckWait
	w.mu.Unlock()
	if changed {
		beat.Reset(w.beatEvery())
	}
}

// pull asks for as many tasks as there is room for. If it must not yet
// (see onStatus), it returns how long to wait.
func (w *worker) pull(subject string) time.Duration {
	w.mu.Lock()
	if d := time.Until(w.pauseUntil); d > 0 {
		w.mu.Unlock()
		return d
	}
	n := w.holdMax - w.running - w.requested
	// Asked for in batches, a quarter of the room at least, once tasks
	// have been asked for: a request per finished task costs the engine
	// more than the task.
	if n <= 0 || w.stopping || (w.requested > 0 && n < w.holdMax/4) {
		w.mu.Unlock()
		return 0
	}
	w.requested += n
	w.mu.Unlock()
	req := fmt.Appendf(nil, `{"batch":%d,"expires":%d}`, n, pullExpires.Nanoseconds())
	if err := w.c.nc.PublishRequest(subject, w.inbox, req); err != nil {
		w.mu.Lock()
		w.requested -= n
		w.mu.Unlock()
	}
	return 0
}

// pullExpires is how long a pull request waits for tasks; it is made
// again when it ends.
const pullExpires = 30 * time.Second

// confirm tells the engine that the held tasks are still being worked on.
func (w *worker) confirm() {
	w.mu.Lock()
	replies := make([]string, 0, len(w.held))
	for _, h := range w.held {
		replies = append(replies, h.reply)
	}
	w.mu.Unlock()
	for _, r := range replies {
		_ = w.c.nc.Publish(r, ackProgress)
	}
}

// The bodies of acknowledgements.
var (
	ackOK       = []byte("+ACK")
	ackProgress = []byte("+WPI")
	ackNak      = []byte("-NAK")
	ackTerm     = []byte("+TERM")
)

// announce renews the worker's key in the presence bucket until ctx ends.
func (w *worker) announce(ctx context.Context) {
	subject := "$KV." + presenceBucket + "." + w.key
	value := []byte(strconv.Itoa(w.procs))
	tick := time.NewTicker(presenceTTL / 3)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, presenceTTL/3)
		before := w.c.nc.LastError()
		_, err := w.js.Publish(pctx, subject, value)
		cancel()
		if err != nil && ctx.Err() == nil {
			if perr := denied(w.c.nc, before); perr != nil {
				w.fail(fmt.Errorf("cluster: Work: announce the worker: %w", perr))
				return
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// leave removes the worker's key from the presence bucket.
func (w *worker) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m := nats.NewMsg("$KV." + presenceBucket + "." + w.key)
	m.Header.Set("KV-Operation", "DEL")
	_, _ = w.js.PublishMsg(ctx, m)
}

// fail ends Work with err.
func (w *worker) fail(err error) {
	select {
	case w.fatal <- err:
	default:
	}
}

// drain stops taking tasks, waits up to Drain for the held tasks to
// finish, then hands back the others. The pull requests' inbox goes
// first: the engine delivers nothing more to it (it checks for interest),
// so a task handed back goes to another worker and not to this one again.
func (w *worker) drain(tasks *nats.Subscription) {
	w.mu.Lock()
	w.stopping = true
	w.mu.Unlock()
	// Drain, not Unsubscribe: tasks already on their way to the inbox
	// still reach onMsg, which keeps them in late to be handed back,
	// where Unsubscribe would drop them and leave them to AckWait.
	closed := tasks.StatusChanged(nats.SubscriptionClosed)
	if err := tasks.Drain(); err == nil {
		select {
		case <-closed:
		case <-time.After(publishTimeout):
		}
	}
	_ = w.c.nc.Flush()
	w.mu.Lock()
	late := w.late
	w.late = nil
	w.mu.Unlock()
	for _, reply := range late {
		_ = w.c.nc.Publish(reply, ackNak)
	}
	if w.o.Drain > 0 {
		w.waitIdle(w.o.Drain)
	}
	w.mu.Lock()
	var back []*heldTask
	for k, h := range w.held {
		if !h.done {
			h.cancelled = true
			back = append(back, h)
			delete(w.held, k)
		}
	}
	w.mu.Unlock()
	for _, h := range back {
		_ = w.c.nc.Publish(h.reply, ackNak)
	}
	// Results already sent wait for the engine to store them, and their
	// tasks for their acknowledgement.
	w.waitIdle(publishTimeout)
	_ = w.c.nc.Flush()
}

// waitIdle waits until the worker holds no task, or for at most d.
func (w *worker) waitIdle(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		w.mu.Lock()
		idle := len(w.held) == 0
		w.mu.Unlock()
		if idle {
			return
		}
		select {
		case <-w.empty:
		case <-timer.C:
			return
		}
	}
}
