package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/diag"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// onResult takes a message of results from the engine: for each, it
// finishes the task, or publishes it again if it crashed and may be
// retried, or drops the result if the task is finished already; then it
// acknowledges the message.
func (p *Pool) onResult(m jetstream.Msg) {
	defer func() { _ = m.Ack() }()
	if p.received.Add(1)%keepEvery == 0 {
		p.keep(p.names.keepResults)
	}
	rs, err := decodeResults(m.Data())
	if err != nil {
		diag.Logger().Warn("cluster: dropped a malformed result", "pool", p.names.pool, "err", err)
		return
	}
	for _, r := range rs {
		p.take(r)
	}
}

// take takes one result.
func (p *Pool) take(r resultMsg) {
	p.mu.Lock()
	e := p.pending[r.ID]
	if e == nil {
		p.mu.Unlock()
		p.stats.duplicates.Add(1)
		return
	}
	if r.Kind == resultDied && r.Attempt < e.attempt() {
		p.mu.Unlock() // a late word of an attempt already retried
		p.stats.duplicates.Add(1)
		return
	}
	if r.Kind == resultDied && !r.Died.ResultLost && e.retries < p.opts.Retries && !p.closed {
		p.retryLocked(e)
		p.mu.Unlock()
		return
	}
	p.forgetLocked(e)
	p.mu.Unlock()
	switch r.Kind {
	case resultValue:
		p.finish(e.t, mp.TaskResult{Value: r.Value}, &p.stats.done)
	case resultError:
		p.finish(e.t, mp.TaskResult{Err: r.Err}, &p.stats.failed)
	case resultDied:
		p.finish(e.t, mp.TaskResult{Err: diedErr(e, r)}, &p.stats.failed)
	}
}

// retryLocked publishes e's task again after its process crashed.
func (p *Pool) retryLocked(e *entry) {
	if e.seq != 0 && p.bySeq[e.seq] == e {
		delete(p.bySeq, e.seq)
	}
	e.retries++
	e.seq, e.msgID = 0, ""
	p.queue = append(p.queue, e)
	p.stats.retried.Add(1)
	notify(p.wake)
}

// diedErr is the error of a task whose process died on worker r.Worker.
func diedErr(e *entry, r resultMsg) error {
	tries := ""
	if e.retries > 0 {
		tries = fmt.Sprintf(" (after %d retries)", e.retries)
	}
	return fmt.Errorf("cluster: task %s on worker %s%s: %w", e.t.Func, r.Worker, tries, r.Died)
}

// DeliveryError reports a task delivered to worker machines as many times
// as PoolOptions.Deliveries allows, each of which died or was cut off from
// the engine before it returned the task's result. It matches
// mp.ErrWorkerDied.
type DeliveryError struct {
	// Func is the task's function.
	Func string
	// Deliveries is how many times it was delivered.
	Deliveries int
}

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("cluster: task %s: delivered %d times, and each time its worker machine died or was cut off before returning a result", e.Func, e.Deliveries)
}

// Is reports whether target is mp.ErrWorkerDied.
func (e *DeliveryError) Is(target error) bool { return target == mp.ErrWorkerDied }

// onAdvisory takes the engine's advisory that a task was delivered as
// many times as allowed and will not be again.
func (p *Pool) onAdvisory(m *nats.Msg) {
	var a struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries int    `json:"deliveries"`
	}
	if err := json.Unmarshal(m.Data, &a); err != nil || a.StreamSeq == 0 {
		return
	}
	p.lose(a.StreamSeq, a.Deliveries)
}

// lose fails the task published as seq, whose deliveries are spent, and
// deletes its message, which the engine keeps otherwise. Every submitter
// of the pool hears the advisory; only the task's own deletes it, since a
// submitter that missed the advisory tells a lost task from a done one by
// its message still being there.
func (p *Pool) lose(seq uint64, deliveries int) {
	p.mu.Lock()
	e := p.bySeq[seq]
	if e == nil {
		p.mu.Unlock()
		return
	}
	p.forgetLocked(e)
	p.deletes = append(p.deletes, seq)
	notify(p.janitor)
	p.mu.Unlock()
	p.finish(e.t, mp.TaskResult{Err: &DeliveryError{Func: e.t.Func, Deliveries: max(deliveries, 1)}}, &p.stats.lost)
}

// backstop finds the tasks whose deliveries are spent when their
// advisory was missed (this Pool's connection was down when the engine
// sent it; advisories are not stored). Each AckWait, while tasks of this
// Pool are out, it asks the workers' consumer for its state. A message
// the consumer delivered (at or below its last delivered sequence) and no
// longer waits for (below its acknowledgement floor, or none waits at
// all) was either acknowledged, and so removed from the work-queue
// stream, or given up after its last delivery, and so left in it. A task
// whose message is still there is lost; one whose message is gone waits
// for its result, which its worker stored before acknowledging it.
//
// The engine gives up on a task when it would deliver it once more, which
// takes a worker asking for tasks: with no live worker at all, a task
// whose last worker died waits, as every task then does, for a worker.
func (p *Pool) backstop() {
	defer p.wg.Done()
	tick := time.NewTicker(p.opts.AckWait)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-p.stop:
			return
		}
		p.sweep()
	}
}

// sweep is one round of backstop.
func (p *Pool) sweep() {
	p.mu.Lock()
	n := len(p.bySeq)
	p.mu.Unlock()
	if n == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	info, err := p.workers.Info(ctx)
	if err != nil {
		return
	}
	floor := info.AckFloor.Stream
	if info.NumAckPending == 0 {
		floor = max(floor, info.Delivered.Stream)
	}
	var check []uint64
	p.mu.Lock()
	for seq := range p.bySeq {
		if seq <= floor {
			check = append(check, seq)
		}
	}
	p.mu.Unlock()
	for _, seq := range check {
		if _, err := p.tasks.GetMsg(ctx, seq); err == nil {
			p.lose(seq, p.opts.Deliveries)
		} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return
		}
	}
}
