package cluster

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgo/mp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Execute implements mp.Executor: it publishes the tasks, without waiting
// for the engine's acknowledgement, or queues them for a goroutine of the
// Pool that does when others wait before them or the engine's client has
// too many publishes under way. A task whose argument holds handles fails
// at once with an error matching mp.ErrHandles, its descriptors closed; a
// task given after Close or Terminate with one matching mp.ErrPoolClosed.
func (p *Pool) Execute(ts ...*mp.Task) {
	for _, t := range ts {
		if len(t.FDs) > 0 {
			closeFDs(t.FDs)
			t.FDs = nil
			p.finish(t, mp.TaskResult{Err: fmt.Errorf("cluster: task %s: its argument holds handles, which cannot go to another machine: %w", t.Func, mp.ErrHandles)}, &p.stats.failed)
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			t.Finish(mp.TaskResult{Err: fmt.Errorf("cluster: task %s: %w", t.Func, mp.ErrPoolClosed)})
			p.stats.failed.Add(1)
			continue
		}
		e := &entry{t: t}
		p.pending[t.ID] = e
		direct := len(p.queue) == 0
		if !direct {
			p.queue = append(p.queue, e)
		}
		p.mu.Unlock()
		if !direct {
			notify(p.wake)
		} else if !p.publishOne(e) {
			p.mu.Lock()
			p.queue = append(p.queue, e)
			p.mu.Unlock()
			notify(p.wake)
		}
	}
}

// Cancel implements mp.Executor: the task is finished with an error
// matching context.Canceled if it is not already, forgotten (a result that
// comes for it is dropped), removed from the engine if no worker took it,
// and the workers are told to stop it if one runs it.
func (p *Pool) Cancel(t *mp.Task) {
	t.Finish(mp.TaskResult{Err: fmt.Errorf("cluster: task %s cancelled: %w", t.Func, context.Canceled)})
	p.mu.Lock()
	e := p.pending[t.ID]
	if e == nil || e.t != t {
		p.mu.Unlock()
		return
	}
	p.forgetLocked(e)
	e.cancelled = true
	if e.seq != 0 {
		p.deletes = append(p.deletes, e.seq)
		notify(p.janitor)
	}
	p.mu.Unlock()
	p.stats.cancelled.Add(1)
	p.control(controlMsg{Kind: controlCancel, Submitter: p.id, ID: t.ID})
	p.closeIfIdle()
}

// forgetLocked removes e from the tasks the Pool waits for.
func (p *Pool) forgetLocked(e *entry) {
	delete(p.pending, e.t.ID)
	if e.seq != 0 && p.bySeq[e.seq] == e {
		delete(p.bySeq, e.seq)
	}
}

// finish finishes t with r, counting it, and lets a closed Pool that
// waits for nothing more shut down.
func (p *Pool) finish(t *mp.Task, r mp.TaskResult, counter *atomic.Int64) {
	// Counted first: whoever waits for the task may read Stats as soon as
	// it is finished.
	counter.Add(1)
	if !t.Finish(r) {
		counter.Add(-1)
		p.stats.duplicates.Add(1)
	}
	p.closeIfIdle()
}

// closeIfIdle shuts a closed Pool down once no task is pending.
func (p *Pool) closeIfIdle() {
	p.mu.Lock()
	idle := p.closed && len(p.pending) == 0
	p.mu.Unlock()
	if idle {
		p.shutdown()
	}
}

// control tells the workers of the pool to stop one or all of this
// Pool's tasks. It is a plain message: a worker that misses it (cut off
// at that moment) runs the task to its end, and its result is dropped.
func (p *Pool) control(c controlMsg) {
	_ = p.c.nc.Publish(p.names.control, c.append(nil))
}

// pubWait is a task's publish waiting for the engine's acknowledgement.
type pubWait struct {
	e     *entry
	msgID string
	f     jetstream.PubAckFuture
}

// publish publishes the queued tasks until the Pool shuts down.
func (p *Pool) publish() {
	defer p.wg.Done()
	for {
		select {
		case <-p.wake:
		case <-p.stop:
			return
		}
		p.mu.Lock()
		batch := p.queue
		p.queue = nil
		p.mu.Unlock()
		for i, e := range batch {
			if !p.publishOne(e) {
				p.requeue(batch[i:])
				break
			}
		}
	}
}

// publishOne publishes e's task, unless it is no longer wanted, and hands
// the acknowledgement to collect. It returns false if the engine's client
// cannot take more for now.
func (p *Pool) publishOne(e *entry) bool {
	t := e.t
	p.mu.Lock()
	if p.pending[t.ID] != e {
		p.mu.Unlock()
		return true // cancelled or terminated meanwhile
	}
	if !t.Wanted() {
		p.forgetLocked(e)
		p.mu.Unlock()
		p.stats.cancelled.Add(1)
		p.closeIfIdle()
		return true
	}
	env := taskMsg{ID: t.ID, Submitter: p.id, Func: t.Func, Items: t.Items, Deadline: deadlineOf(t.Deadline), Attempt: e.attempt(), Arg: t.Arg}
	msgID := p.id + "." + strconv.FormatUint(t.ID, 10) + "." + strconv.Itoa(e.attempt())
	e.msgID = msgID
	p.mu.Unlock()
	data := env.append(make([]byte, 0, len(t.Arg)+len(t.Func)+len(p.id)+32))
	f, err := p.js.PublishMsgAsync(&nats.Msg{Subject: p.names.taskSubject, Data: data}, jetstream.WithMsgID(msgID), jetstream.WithStallWait(stallWait))
	if err != nil {
		return false
	}
	if p.sent.Add(1)%keepEvery == 0 {
		p.keep(p.names.keepTasks)
	}
	select {
	case p.acks <- pubWait{e: e, msgID: msgID, f: f}:
	case <-p.stop:
	}
	return true
}

// requeue puts tasks back at the head of the queue, to be published again
// after a pause.
func (p *Pool) requeue(es []*entry) {
	p.mu.Lock()
	p.queue = append(append([]*entry(nil), es...), p.queue...)
	p.mu.Unlock()
	select {
	case <-time.After(retryPause):
		notify(p.wake)
	case <-p.stop:
	}
}

// collect records the engine's acknowledgement of each publish, in the
// order of the publishes, and publishes again those that failed.
func (p *Pool) collect() {
	defer p.wg.Done()
	for {
		var w pubWait
		select {
		case w = <-p.acks:
		case <-p.stop:
			return
		}
		select {
		case ack := <-w.f.Ok():
			p.published(w, ack.Sequence)
		case <-w.f.Err():
			// Published again under the same message id: the engine
			// stores it once if the first one did arrive.
			p.mu.Lock()
			if p.pending[w.e.t.ID] == w.e && w.e.msgID == w.msgID {
				p.queue = append(p.queue, w.e)
			}
			p.mu.Unlock()
			notify(p.wake)
		case <-p.stop:
			return
		}
	}
}

// published records the stream sequence of a task's message.
func (p *Pool) published(w pubWait, seq uint64) {
	p.stats.published.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	e := w.e
	if e.msgID != w.msgID {
		return // published again since
	}
	if e.cancelled || p.terminated {
		// Its caller no longer waits for it: no worker should take it.
		p.deletes = append(p.deletes, seq)
		notify(p.janitor)
		return
	}
	if p.pending[e.t.ID] != e {
		return
	}
	e.seq = seq
	p.bySeq[seq] = e
}

// clean deletes from the tasks' stream the messages of tasks that are no
// longer wanted, so that no worker takes them.
func (p *Pool) clean() {
	defer p.wg.Done()
	for {
		select {
		case <-p.janitor:
		case <-p.stop:
			return
		}
		p.mu.Lock()
		seqs := p.deletes
		p.deletes = nil
		p.mu.Unlock()
		for _, seq := range seqs {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			// A message a worker acknowledged meanwhile is gone already.
			_ = p.tasks.DeleteMsg(ctx, seq)
			cancel()
		}
	}
}

const (
	// stallWait is how long a publish waits for room among the publishes
	// not yet acknowledged before it is tried again later.
	stallWait = 50 * time.Millisecond
	// retryPause is the pause before such a try.
	retryPause = 10 * time.Millisecond
)

// notify wakes the goroutine waiting on ch, without waiting.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// closeFDs closes descriptors that will not be used.
func closeFDs(fds []int) {
	for _, fd := range fds {
		_ = syscall.Close(fd)
	}
}
