package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/callbacks"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Pool is an mp.Executor whose tasks run on worker machines: mp.Apply,
// Submit, Map, MapAsync, MapEach, Imap and ImapUnordered run on it as on
// an mp.Pool. Workers are programs that call Work (or Main with the join
// variables set) for the pool's name; each runs the tasks it takes in a
// local mp.Pool of processes of its own binary, so a registered function
// runs there as it would on one machine. Any number of Pools (submitters)
// and workers may join the same pool; a task goes to whichever worker is
// free first.
//
// # Delivery
//
// A task is published to a work-queue stream of the engine; a publish the
// engine does not acknowledge (within 5 seconds, or because the connection
// broke) is made again, under a message id that makes the engine store it
// once. A worker takes a task, runs it, publishes its result to a stream of
// results for its submitter (stored by the engine before anything else
// happens), and only then acknowledges the task, which removes it. So a
// task runs at least once, and a result is never lost once the task ran:
//
//   - A worker machine that dies, or is cut off from the engine, stops
//     confirming the tasks it holds; AckWait after its last confirmation
//     each of them is delivered to another worker. A task delivered
//     Deliveries times without a result fails with a *DeliveryError,
//     which matches mp.ErrWorkerDied and gives the count, as soon as the
//     engine gives up on it: when a live worker asks for tasks after the
//     last delivery's AckWait ran out (with no worker left at all, it
//     waits for one, as every task then does). A task that was
//     running when its machine died may thus have run, in part or whole,
//     more than once; a task that finished, whose worker died before
//     acknowledging it, runs again and its second result is dropped.
//   - A worker that stops (its context ends, Main's SIGTERM) hands the
//     tasks it holds and has not finished back to the engine, which
//     delivers them to other workers; each hand-back counts as a delivery.
//   - A result that arrives twice is kept once: the first wins, and the
//     others are dropped (Stats counts them).
//   - A task's process that crashes (os.Exit, a signal, the OOM killer)
//     fails the task with an error that errors.As finds a
//     *mp.WorkerDiedError in, with the exit code or signal; the task is
//     not delivered again, unless PoolOptions.Retries allows it to run
//     again. The local pool runs a task again, on that machine, when the
//     process it waited in died of another task before it started, while
//     the task's attempts (the deliveries and retries before, counted)
//     are fewer than three, as mp.Pool does.
//   - A task's deadline (its context's) is enforced twice: here, where the
//     caller's future fails at the deadline with an error matching
//     mp.ErrTimeout and context.DeadlineExceeded, and on the worker, whose
//     local pool stops the function then, kills its process after a short
//     grace, and acknowledges the task, which is not delivered again.
//   - A function's error or panic arrives as an *mp.RemoteError that
//     matches the registered sentinels (mp.RegisterError) the error
//     matched on the worker.
//   - A task whose context is cancelled is finished at once with the
//     context's error; the workers are told to stop it if one runs it, and
//     it is removed from the stream if none took it yet.
//   - A task whose argument holds handles (Conns, queues, Files...) fails
//     at once with an error matching mp.ErrHandles, its descriptors
//     closed: descriptors do not cross machines. So does a result that
//     holds handles, on the worker.
//   - The submitter's own connection may break: the engine keeps the
//     results meant for it (ResultTTL) in a durable consumer of its own,
//     and they come once the connection is back; tasks given meanwhile are
//     published once it is.
//
// Results may come in any order; Map and Imap put them in input order.
//
// Callbacks run in this process, one at a time, in order, in a goroutine
// of the Pool. Parallelism is the number of processes the live workers of
// the pool run, as they announce it (at least 1); Map and Imap size their
// chunks by it, so a Pool made before its workers start gets larger chunks
// than one made after.
//
// A task costs a few hundred microseconds of latency here (two passes
// through the engine, one through the worker's local pool); many small
// items go best through Map, whose chunks travel as one message each.
// A Pool is safe for concurrent use. Close or Terminate it, then Wait.
type Pool struct {
	c     *Cluster
	js    jetstream.JetStream
	id    string
	names poolNames
	opts  PoolOptions

	tasks     jetstream.Stream
	workers   jetstream.Consumer
	results   jetstream.Stream
	consuming jetstream.ConsumeContext
	advisory  *nats.Subscription
	presence  *presence
	callbacks *callbacks.Runner

	// mu guards the fields below.
	mu         sync.Mutex
	pending    map[uint64]*entry // tasks given and not finished, by task id
	bySeq      map[uint64]*entry // those published, by stream sequence
	queue      []*entry          // waiting to be published
	deletes    []uint64          // sequences to delete from the stream
	closed     bool
	terminated bool

	wake    chan struct{} // the publisher has work
	acks    chan pubWait  // publishes waiting for the engine's acknowledgement
	janitor chan struct{} // deletes has work
	stop    chan struct{} // closed when the Pool shuts down
	wg      sync.WaitGroup
	done    chan struct{} // closed once shut down
	once    sync.Once

	stats poolCounters
	// sent and received count the tasks' and results' messages, for keep.
	sent, received atomic.Int64
}

// entry is a task given to the Pool and not yet finished.
type entry struct {
	t *mp.Task
	// The fields below are guarded by the Pool's mu.
	retries   int    // retries after crashes so far
	seq       uint64 // the stream sequence of the current publish, 0 until known
	msgID     string // the message id of the current publish
	cancelled bool   // Cancel came: delete the message once its sequence is known
}

// attempt is the Attempt its current message carries.
func (e *entry) attempt() int { return e.t.Attempt + e.retries }

// NewPool joins the pool o.Name on c as a submitter: it creates the pool's
// streams and consumers on the engine if they do not exist (so c must be a
// client connection, not a worker's: ErrPermission), and starts taking
// results. It panics if a number in o is out of range or the name is not
// allowed (see PoolOptions); ctx bounds the setup.
func NewPool(ctx context.Context, c *Cluster, o *PoolOptions) (*Pool, error) {
	if c == nil {
		panic("cluster: NewPool with a nil Cluster")
	}
	if o == nil {
		o = &PoolOptions{}
	}
	opts := o.resolved()
	js, err := jetstream.New(c.nc, jetstream.WithPublishAsyncMaxPending(maxPublishing), jetstream.WithPublishAsyncTimeout(publishTimeout))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEngine, err)
	}
	id := nuid.Next()
	p := &Pool{c: c, js: js, id: id, names: namesOf(opts.Name, id), opts: opts,
		pending: map[uint64]*entry{}, bySeq: map[uint64]*entry{},
		wake: make(chan struct{}, 1), acks: make(chan pubWait, maxPublishing), janitor: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := guardPermission(ctx, c.nc, p.setup); err != nil {
		p.teardown()
		// The results consumer is durable: one a failed setup made would
		// outlive it by ResultTTL.
		dctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		_ = js.DeleteConsumer(dctx, p.names.results, p.names.resultConsumer)
		cancel()
		js.CleanupPublisher()
		return nil, fmt.Errorf("cluster: NewPool %s: %w", opts.Name, err)
	}
	p.callbacks = callbacks.New(p.done)
	p.wg.Add(4)
	go p.publish()
	go p.collect()
	go p.backstop()
	go p.clean()
	return p, nil
}

// setup creates or updates the pool's parts on the engine, and starts
// listening to it.
func (p *Pool) setup(ctx context.Context) error {
	n, o := p.names, p.opts
	var err error
	if p.tasks, err = ensureStream(ctx, p.js, jetstream.StreamConfig{Name: n.tasks, Subjects: []string{n.taskFilter, n.keepTasks},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, AllowRollup: true}); err != nil {
		return err
	}
	if p.workers, err = p.js.CreateOrUpdateConsumer(ctx, n.tasks, jetstream.ConsumerConfig{Durable: workersConsumer,
		FilterSubject: n.taskFilter, AckPolicy: jetstream.AckExplicitPolicy, AckWait: o.AckWait,
		MaxDeliver: o.Deliveries, MaxAckPending: -1, MaxWaiting: 4096}); err != nil {
		return engineErr("create the workers' consumer", err)
	}
	if p.results, err = ensureStream(ctx, p.js, jetstream.StreamConfig{Name: n.results, Subjects: []string{n.resultFilter, n.keepResults},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, MaxAge: o.ResultTTL, AllowRollup: true}); err != nil {
		return err
	}
	rc, err := p.js.CreateOrUpdateConsumer(ctx, n.results, jetstream.ConsumerConfig{Durable: n.resultConsumer,
		FilterSubject: n.resultSubject, AckPolicy: jetstream.AckExplicitPolicy, InactiveThreshold: o.ResultTTL,
		AckWait: resultAckWait(o.AckWait), MaxAckPending: -1})
	if err != nil {
		return engineErr("create the results' consumer", err)
	}
	if p.presence, err = watchPresence(ctx, p.js, n.presence); err != nil {
		return err
	}
	adv := fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", n.tasks, workersConsumer)
	if p.advisory, err = p.c.nc.Subscribe(adv, p.onAdvisory); err != nil {
		return engineErr("subscribe to advisories", err)
	}
	p.consuming, err = rc.Consume(p.onResult, jetstream.PullMaxMessages(1024))
	if err != nil {
		return engineErr("consume results", err)
	}
	p.keep(n.keepTasks)
	p.keep(n.keepResults)
	return nil
}

// resultAckWait is how long a result delivered to this Pool waits for its
// acknowledgement before it is delivered again: results sent into a
// connection as it broke come again this long after it is back. A Pool
// acknowledges a result as soon as it has it, so this is short.
func resultAckWait(ackWait time.Duration) time.Duration { return min(ackWait, 5*time.Second) }

// ensureStream creates or updates a stream, trying again if another
// submitter created it at the same moment.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	var err error
	for range 3 {
		var s jetstream.Stream
		if s, err = js.CreateOrUpdateStream(ctx, cfg); err == nil {
			return s, nil
		}
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			break
		}
	}
	return nil, engineErr("create stream "+cfg.Name, err)
}

// engineErr wraps an error of the engine's client as ErrEngine.
func engineErr(what string, err error) error {
	if errors.Is(err, ErrPermission) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, ErrEngine, err)
}

// Parallelism implements mp.Executor: the number of processes the pool's
// live workers run, at least 1.
func (p *Pool) Parallelism() int { return max(1, p.presence.processes()) }

// RunCallback implements mp.Executor: fn runs in a goroutine of the Pool,
// after the callbacks given before it.
func (p *Pool) RunCallback(fn func()) { p.callbacks.Add(fn) }

// Close stops the Pool from taking new tasks: those given already still
// run, and their futures complete; tasks given afterwards fail with an
// error matching mp.ErrPoolClosed. Once the last one is done the Pool lets
// go of the engine (its results' consumer included). Close is safe to call
// twice, and after Terminate.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	idle := len(p.pending) == 0
	p.mu.Unlock()
	if idle {
		p.shutdown()
	}
	return nil
}

// Terminate stops the Pool now: the tasks it gave that no worker took are
// removed from the engine, the workers are told to kill those they run,
// and every task not yet done fails with an error matching
// mp.ErrPoolClosed. It returns the engine's error if the tasks could not
// be removed (workers still drop them: their results are not waited for).
// It is safe to call twice, and from a callback.
func (p *Pool) Terminate() error {
	p.mu.Lock()
	if p.terminated {
		p.mu.Unlock()
		return nil
	}
	p.closed, p.terminated = true, true
	pending := p.pending
	p.pending, p.bySeq, p.queue = map[uint64]*entry{}, map[uint64]*entry{}, nil
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	err := p.tasks.Purge(ctx, jetstream.WithPurgeSubject(p.names.taskSubject))
	if err != nil {
		err = engineErr("cluster: Terminate: remove the pool's tasks", err)
	}
	p.control(controlMsg{Kind: controlTerminate, Submitter: p.id})
	for _, e := range pending {
		p.finish(e.t, mp.TaskResult{Err: fmt.Errorf("cluster: task %s: pool terminated: %w", e.t.Func, mp.ErrPoolClosed)}, &p.stats.failed)
	}
	p.shutdown()
	return err
}

// Wait waits until a closed or terminated Pool has finished every task and
// let go of the engine, and its callbacks have run. On a Pool still open
// it returns mp.ErrPoolRunning at once; if ctx ends first, ctx's error.
func (p *Pool) Wait(ctx context.Context) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if !closed {
		return fmt.Errorf("cluster: Wait: %w", mp.ErrPoolRunning)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return p.callbacks.Wait(ctx)
}

// shutdown stops the Pool's goroutines and subscriptions, once, from a
// goroutine of its own: it may be called from a result's handler.
func (p *Pool) shutdown() {
	p.once.Do(func() {
		close(p.stop)
		go func() {
			p.wg.Wait()
			p.teardown()
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			defer cancel()
			// No task waits for a result any more: the consumer can go,
			// and the results that come late with it.
			_ = p.js.DeleteConsumer(ctx, p.names.results, p.names.resultConsumer)
			_ = p.results.Purge(ctx, jetstream.WithPurgeSubject(p.names.resultSubject))
			p.js.CleanupPublisher() // its inbox and goroutine
			close(p.done)
		}()
	})
}

// teardown ends what setup started.
func (p *Pool) teardown() {
	if p.consuming != nil {
		p.consuming.Stop()
	}
	if p.advisory != nil {
		_ = p.advisory.Unsubscribe()
	}
	if p.presence != nil {
		p.presence.stop()
	}
}

// Timings of the Pool's exchanges with the engine.
const (
	// maxPublishing bounds the tasks published and not yet acknowledged.
	maxPublishing = 4096
	// publishTimeout is how long a publish waits for the engine's
	// acknowledgement before it is made again.
	publishTimeout = 5 * time.Second
	// requestTimeout bounds a request to the engine made without a
	// caller's context.
	requestTimeout = 5 * time.Second
)

// poolCounters are the Pool's counts for Stats.
type poolCounters struct {
	published, done, failed, lost, retried, duplicates, cancelled atomic.Int64
}

// PoolStats is a snapshot of a Pool's counts.
type PoolStats struct {
	// Workers is the number of live worker machines of the pool, and
	// Processes the processes they run, as they announce it.
	Workers, Processes int
	// Pending is the number of tasks given and not yet finished.
	Pending int
	// Published counts the tasks' messages the engine acknowledged
	// (retries included).
	Published int64
	// Done counts tasks finished with a result, Failed with an error
	// (the function's, a crash, a deadline, a terminated pool), Lost
	// those that failed because every delivery was used (DeliveryError),
	// Cancelled those dropped because their caller stopped waiting.
	Done, Failed, Lost, Cancelled int64
	// Retried counts tasks published again after their process crashed
	// (PoolOptions.Retries).
	Retried int64
	// Duplicates counts results dropped because their task was finished
	// already: a second result after a redelivery, or a result of a task
	// cancelled or terminated.
	Duplicates int64
}

// Stats returns the Pool's counts. It takes the Pool's lock once.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	pending := len(p.pending)
	p.mu.Unlock()
	w, procs := p.presence.count()
	s := &p.stats
	return PoolStats{Workers: w, Processes: procs, Pending: pending, Published: s.published.Load(),
		Done: s.done.Load(), Failed: s.failed.Load(), Lost: s.lost.Load(), Cancelled: s.cancelled.Load(),
		Retried: s.retried.Load(), Duplicates: s.duplicates.Load()}
}
