package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Waits on the engine. A pull for the next item lasts at most fetchSlice,
// after which Get pulls again, so that a cancelled Get leaves no request
// behind for long. recheck is how often a waiting Put or Wait looks at the
// stream even without a hint that something changed (hints travel on core
// NATS and are lost with the process that would send them).
const (
	fetchSlice = 10 * time.Second
	recheck    = 500 * time.Millisecond
	ackTimeout = 10 * time.Second
	// pullHeartbeat is how often the engine tells a waiting pull that it
	// is still there.
	pullHeartbeat = 500 * time.Millisecond
	defaultWait   = 30 * time.Second
)

// QueueOptions configure a queue when it is made. A queue that exists is
// opened as it is, and the options are ignored.
type QueueOptions struct {
	// MaxSize bounds the items the queue holds, counting items delivered
	// to a JoinableQueue's getter and not yet marked done. Zero means no
	// bound (beyond the engine's limits).
	MaxSize int
	// AckWait is how long an item delivered to a getter stays invisible to
	// other getters before it is delivered again, unless the getter
	// acknowledged it. It bounds how late an item comes back when its
	// getter dies. Zero means 30 seconds.
	AckWait time.Duration
}

// Queue is a FIFO queue shared by every process that opens its name on the
// same engine (Python: a registered manager's queue). Its items are kept
// by the engine, in a stream with work-queue retention, until a getter
// acknowledges them.
//
// Delivery is at least once. Get acknowledges an item after it is decoded
// and before it is handed to the caller; if the getter's process dies
// between the engine's delivery and the acknowledgement, or the
// acknowledgement is lost, the item is delivered again, to any getter,
// after QueueOptions.AckWait. An item is never lost that way, and in the
// normal case every item is got exactly once; a process that dies just
// after Get returned loses the item it was given, as on one machine. A Get
// whose ctx ends while the engine is handing it an item leaves that item
// to be delivered again after AckWait. Items are got in the order they
// were put, except the ones delivered again.
//
// When the engine's process dies and is started again, calls under way
// wait for it and carry on: a Put that was under way stores its item
// once, a Get gets the next item. An item acknowledged in the moment
// before the engine died may be delivered again: the engine confirms an
// acknowledgement before its store has written it. An engine that does
// not answer for 30 seconds gives ErrEngine.
//
// A Put costs one request to the engine (about 26 µs on loopback here), a
// Get two: a pull and an acknowledgement that waits for the engine's
// confirmation (about 75 µs with a backlog; about 0.5 ms when the
// acknowledgement empties the stream, which the file store pays for).
//
// A *Queue is safe for concurrent use. It holds nothing to close: the
// queue lives on the engine until Remove.
type Queue[T any] struct {
	c       *Cluster
	name    string
	stream  jetstream.Stream
	cons    jetstream.Consumer
	subject string // items are put here
	acked   string // the hint after an acknowledgement
	maxSize int
	ackWait time.Duration
}

// NewQueue opens the queue named name on c, making it as o says (nil means
// the zero QueueOptions) if it does not exist. It panics if T's values
// would lose data between processes (see mp.ErrUnencodable).
func NewQueue[T any](ctx context.Context, c *Cluster, name string, o *QueueOptions) (*Queue[T], error) {
	checkType[T]("queue item type")
	q := new(Queue[T])
	if err := q.open(ctx, c, name, o); err != nil {
		return nil, err
	}
	return q, nil
}

// open opens or makes the stream and its consumer.
func (q *Queue[T]) open(ctx context.Context, c *Cluster, name string, o *QueueOptions) error {
	if o == nil {
		o = &QueueOptions{}
	}
	if o.MaxSize < 0 || o.AckWait < 0 {
		panic("cluster: NewQueue with a negative MaxSize or AckWait")
	}
	enc := escapeName("queue", name)
	q.c, q.name = c, name
	q.subject, q.acked = queueSubjectPrefix+enc, queueAckedPrefix+enc
	// Making a stream or consumer that exists as asked opens it, so an
	// attempt is safe to make again.
	stream, err := openStream(ctx, c, jetstream.StreamConfig{
		Name:      queueStreamPrefix + enc,
		Subjects:  []string{q.subject},
		Retention: jetstream.WorkQueuePolicy,
		Discard:   jetstream.DiscardNew,
		MaxMsgs:   maxMsgs(o.MaxSize),
		Storage:   jetstream.FileStorage,
	})
	if err != nil {
		return q.error("open", err)
	}
	q.stream = stream
	q.maxSize = int(max(stream.CachedInfo().Config.MaxMsgs, 0))
	wait := o.AckWait
	if wait == 0 {
		wait = defaultWait
	}
	cons, err := request(ctx, c.nc, engineWait, func(ctx context.Context) (jetstream.Consumer, error) {
		cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:       queueConsumer,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       wait,
			MaxDeliver:    -1,
			MaxAckPending: -1,
		})
		if errors.Is(err, jetstream.ErrConsumerExists) {
			cons, err = stream.Consumer(ctx, queueConsumer)
		}
		return cons, err
	})
	if err != nil {
		return q.error("open", err)
	}
	q.cons = cons
	q.ackWait = cons.CachedInfo().Config.AckWait
	return nil
}

// openStream makes the stream cfg says, or opens it as it is if a stream
// of that name exists.
func openStream(ctx context.Context, c *Cluster, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return request(ctx, c.nc, engineWait, func(ctx context.Context) (jetstream.Stream, error) {
		s, err := c.js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = c.js.Stream(ctx, cfg.Name)
		}
		return s, err
	})
}

func maxMsgs(size int) int64 {
	if size == 0 {
		return -1
	}
	return int64(size)
}

// error says which queue failed at what.
func (q *Queue[T]) error(what string, err error) error {
	return engineError(fmt.Sprintf("queue %q: %s", q.name, what), err)
}

// Name returns the queue's name.
func (q *Queue[T]) Name() string { return q.name }

// Put puts v at the end of the queue, waiting while it is full. If ctx
// ends first, the error matches mp.ErrFull and ctx's error. A v that the
// codec cannot carry whole is refused (mp.ErrUnencodable, mp.ErrHandles).
// When Put returns nil, the engine has stored the item, once, even if
// the engine's process died while the Put was under way.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	data, err := encode(v)
	if err != nil {
		return err
	}
	id := newMsgID()
	if err := q.publish(ctx, id, data); !errors.Is(err, mp.ErrFull) {
		return err
	}
	return q.waitAcked(ctx, mp.ErrFull, func() (bool, error) {
		err := q.publish(ctx, id, data)
		if errors.Is(err, mp.ErrFull) {
			return false, nil
		}
		return true, err
	})
}

// TryPut puts v at the end of the queue if there is room, and returns
// mp.ErrFull otherwise.
func (q *Queue[T]) TryPut(ctx context.Context, v T) error {
	data, err := encode(v)
	if err != nil {
		return err
	}
	return q.publish(ctx, newMsgID(), data)
}

// publish stores one item, or returns mp.ErrFull. The item goes under id,
// one per Put: an attempt that got no answer (the engine died with the
// reply) is made again under the same id once the engine is back, and the
// engine stores an item published twice under one id once, if the two
// come within its duplicate window (two minutes). So a Put across the
// engine's death stores its item once, unless a getter took the item
// before the engine died: the engine, started again, knows the ids of the
// items it still holds only.
func (q *Queue[T]) publish(ctx context.Context, id string, data []byte) error {
	_, err := request(ctx, q.c.nc, engineWait, func(ctx context.Context) (*jetstream.PubAck, error) {
		return q.c.js.PublishMsg(ctx, &nats.Msg{Subject: q.subject, Data: data},
			jetstream.WithExpectStream(q.stream.CachedInfo().Config.Name), jetstream.WithMsgID(id))
	})
	if isFull(err) {
		return fmt.Errorf("cluster: queue %q: %w", q.name, mp.ErrFull)
	}
	if err != nil {
		return q.error("put", err)
	}
	return nil
}

// isFull reports whether err is the engine refusing an item because the
// stream holds as many as it may.
func isFull(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && strings.Contains(apiErr.Description, "maximum messages exceeded")
}

// waitAcked calls try until it reports done, again after each hint that a
// getter acknowledged an item and every recheck, until ctx ends; then the
// error matches sentinel and ctx's error.
func (q *Queue[T]) waitAcked(ctx context.Context, sentinel error, try func() (bool, error)) error {
	// Hints coalesce: one waiting is as good as many.
	hints := make(chan struct{}, 1)
	sub, err := q.c.nc.Subscribe(q.acked, func(*nats.Msg) {
		select {
		case hints <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return q.error("wait", err)
	}
	defer sub.Unsubscribe()
	t := time.NewTicker(recheck)
	defer t.Stop()
	for {
		done, err := try()
		if done || err != nil {
			return err
		}
		select {
		case <-hints:
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("cluster: queue %q: %w", q.name, errs.WithContext(sentinel, ctx.Err()))
		}
	}
}

// Get removes and returns the item at the front of the queue, waiting
// until there is one. If ctx ends first, the error matches mp.ErrEmpty and
// ctx's error. See Queue for when an item is acknowledged.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	m, err := q.next(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return q.take(ctx, m)
}

// TryGet removes and returns the item at the front of the queue if there
// is one, and returns mp.ErrEmpty otherwise.
func (q *Queue[T]) TryGet(ctx context.Context) (T, error) {
	m, err := q.tryNext()
	if err != nil {
		var zero T
		return zero, err
	}
	return q.take(ctx, m)
}

// take decodes m and acknowledges it.
func (q *Queue[T]) take(ctx context.Context, m jetstream.Msg) (T, error) {
	v, err := q.decode(m)
	if err != nil {
		return v, err
	}
	if err := q.ack(ctx, m); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// decode decodes an item. One that does not decode into T is terminated,
// so that it does not come back for ever, and reported in the error.
func (q *Queue[T]) decode(m jetstream.Msg) (T, error) {
	var v T
	if err := decode(m.Data(), &v); err != nil {
		termErr := m.Term()
		meta, _ := m.Metadata()
		seq := uint64(0)
		if meta != nil {
			seq = meta.Sequence.Stream
		}
		return v, errors.Join(fmt.Errorf("cluster: queue %q: item %d removed: %w", q.name, seq, err), termErr)
	}
	return v, nil
}

// ack acknowledges m and waits for the engine to confirm it, then hints
// waiting Puts and Waits. The wait is not bounded by ctx alone: an item
// decoded must not be returned unless the engine will not deliver it
// again. An acknowledgement that got no answer is sent again once the
// engine is back, for up to ackTimeout: acknowledging an item twice is
// harmless (the engine answers the second as the first, or, if the item
// was delivered again meanwhile, removes it all the same).
func (q *Queue[T]) ack(ctx context.Context, m jetstream.Msg) error {
	_, err := request(context.WithoutCancel(ctx), q.c.nc, ackTimeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, m.DoubleAck(ctx)
	})
	if err != nil {
		return q.error("acknowledge (the item will be delivered again)", err)
	}
	q.c.nc.Publish(q.acked, nil)
	return nil
}

// next waits for the next item, pulling for at most fetchSlice at a time.
func (q *Queue[T]) next(ctx context.Context) (jetstream.Msg, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("cluster: queue %q: %w", q.name, errs.WithContext(mp.ErrEmpty, err))
		}
		m, err := q.fetch(ctx)
		if m != nil || err != nil {
			return m, err
		}
	}
}

// fetch pulls one item, waiting at most fetchSlice; it returns nil, nil
// when none came. The engine sends a heartbeat every pullHeartbeat while
// the pull waits, so a pull lost with the engine's death ends within two
// of them, and the next is made once the connection is back.
func (q *Queue[T]) fetch(ctx context.Context) (jetstream.Msg, error) {
	fctx, cancel := context.WithTimeout(ctx, fetchSlice)
	defer cancel()
	opts := []jetstream.FetchOpt{jetstream.FetchContext(fctx)}
	if d, _ := fctx.Deadline(); time.Until(d) > 3*pullHeartbeat {
		opts = append(opts, jetstream.FetchHeartbeat(pullHeartbeat))
	}
	batch, err := q.cons.Fetch(1, opts...)
	if d, _ := fctx.Deadline(); errors.Is(err, jetstream.ErrInvalidOption) && time.Until(d) < time.Second {
		// The remaining time is too short to pull for, or already gone
		// (ctx's timer may not have fired yet).
		<-fctx.Done()
		return nil, nil
	}
	if err != nil {
		return nil, q.error("get", err)
	}
	for m := range batch.Messages() {
		return m, nil
	}
	err = batch.Error()
	if errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil {
		if err := waitConnected(ctx, q.c.nc, engineWait); err != nil && ctx.Err() == nil {
			return nil, q.error("get", err)
		}
		return nil, nil
	}
	if err != nil && ctx.Err() == nil && !isTimeout(err) {
		return nil, q.error("get", err)
	}
	return nil, nil
}

// isTimeout reports whether err is only a pull that ended empty.
func isTimeout(err error) bool {
	return errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) || errors.Is(err, jetstream.ErrNoMessages)
}

// tryNext pulls one item if there is one now.
func (q *Queue[T]) tryNext() (jetstream.Msg, error) {
	batch, err := q.cons.FetchNoWait(1)
	if err != nil {
		return nil, q.error("get", err)
	}
	for m := range batch.Messages() {
		return m, nil
	}
	if err := batch.Error(); err != nil && !isTimeout(err) {
		return nil, q.error("get", err)
	}
	return nil, fmt.Errorf("cluster: queue %q: %w", q.name, mp.ErrEmpty)
}

// Len returns the number of items waiting to be delivered: items a getter
// holds without having acknowledged them are not counted.
func (q *Queue[T]) Len(ctx context.Context) (int, error) {
	info, err := request(ctx, q.c.nc, engineWait, q.cons.Info)
	if err != nil {
		return 0, q.error("len", err)
	}
	return int(info.NumPending), nil
}

// Empty reports whether no item waits to be delivered.
func (q *Queue[T]) Empty(ctx context.Context) (bool, error) {
	n, err := q.Len(ctx)
	return n == 0, err
}

// Full reports whether a Put would wait now: the stream holds MaxSize
// items, counting those delivered and not yet acknowledged. A queue
// without a bound is never full.
func (q *Queue[T]) Full(ctx context.Context) (bool, error) {
	if q.maxSize == 0 {
		return false, nil
	}
	n, err := q.stored(ctx)
	return n >= q.maxSize, err
}

// stored returns the number of items the stream holds.
func (q *Queue[T]) stored(ctx context.Context) (int, error) {
	info, err := request(ctx, q.c.nc, engineWait, func(ctx context.Context) (*jetstream.StreamInfo, error) {
		return q.stream.Info(ctx)
	})
	if err != nil {
		return 0, q.error("len", err)
	}
	return int(info.State.Msgs), nil
}

// Remove deletes the queue and every item in it from the engine, for every
// process that uses it. Proxies still open on it fail after.
func (q *Queue[T]) Remove(ctx context.Context) error {
	if err := q.c.js.DeleteStream(ctx, q.stream.CachedInfo().Config.Name); err != nil {
		return q.error("remove", err)
	}
	return nil
}
