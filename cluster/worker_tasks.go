package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/diag"
)

// onMsg takes what comes in answer to the worker's pull requests: a task,
// or the engine's word that a request ended.
func (w *worker) onMsg(m *nats.Msg) {
	if len(m.Data) == 0 && m.Header.Get("Status") != "" {
		w.onStatus(m)
		return
	}
	w.mu.Lock()
	w.requested = max(0, w.requested-1)
	if w.stopping {
		// Handed back once the inbox is gone (see drain).
		w.late = append(w.late, m.Reply)
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	env, err := decodeTask(m.Data)
	if err != nil {
		diag.Logger().Warn("cluster: worker dropped a malformed task", "pool", w.o.Pool, "err", err)
		_ = w.c.nc.Publish(m.Reply, ackTerm)
		notify(w.wake)
		return
	}
	key := heldKey{env.Submitter, env.ID, env.Attempt}
	delivered := deliveryOf(m.Reply)
	var t *mp.Task
	t = mp.NewTask(env.Func, env.Arg, nil, env.Items, timeOf(env.Deadline), func(r mp.TaskResult) { w.finished(key, t, env, r) })
	t.Attempt = env.Attempt + max(0, delivered-1)
	w.mu.Lock()
	if old := w.held[key]; old != nil {
		// Delivered again while this worker still holds it (it was slow
		// to confirm): keep the run under way, answer for the newer copy.
		old.reply = m.Reply
		w.mu.Unlock()
		return
	}
	w.held[key] = &heldTask{reply: m.Reply, t: t}
	w.running++
	w.mu.Unlock()
	w.local.Execute(t)
}

// deliveryOf reads the delivery count from a JetStream acknowledgement
// subject, "$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>...", or
// its longer form with a domain and an account hash; 0 if it has none.
func deliveryOf(reply string) int {
	tok := strings.Split(reply, ".")
	i := 4
	if len(tok) >= 12 {
		i = 6
	}
	if len(tok) <= i {
		return 0
	}
	n, _ := strconv.Atoi(tok[i])
	return n
}

// onStatus takes the end of a pull request: the number of tasks it still
// asked for is asked for again, at once if the request only expired,
// after a pause if the engine refused it (the consumer was deleted, say,
// until a submitter makes it again), so as not to spin.
func (w *worker) onStatus(m *nats.Msg) {
	status := m.Header.Get("Status")
	if status == "100" { // idle heartbeat
		return
	}
	left, err := strconv.Atoi(m.Header.Get("Nats-Pending-Messages"))
	w.mu.Lock()
	if err != nil {
		w.requested = 0
	} else {
		w.requested = max(0, w.requested-left)
	}
	if status != "408" {
		w.pauseUntil = time.Now().Add(pullPause)
	}
	w.mu.Unlock()
	notify(w.wake)
}

// pullPause is how long a worker waits before it asks again for tasks
// after the engine refused a request.
const pullPause = 250 * time.Millisecond

// finished sends the outcome of a task the local pool finished, unless its
// submitter stopped wanting it (then the task is only acknowledged).
func (w *worker) finished(key heldKey, t *mp.Task, env taskMsg, r mp.TaskResult) {
	w.mu.Lock()
	h := w.held[key]
	if h == nil || h.t != t || h.done {
		w.mu.Unlock()
		closeFDs(r.FDs)
		return // handed back, or a copy already answered
	}
	h.done = true
	w.running--
	cancelled := h.cancelled
	reply := h.reply
	w.mu.Unlock()
	notify(w.wake)
	if cancelled {
		closeFDs(r.FDs)
		_ = w.c.nc.Publish(reply, ackOK)
		w.release(key)
		return
	}
	res := w.resultOf(env, r)
	res.ID, res.Attempt, res.Worker = env.ID, env.Attempt, w.name
	data := res.append(nil)
	subject := "mp.pool." + w.o.Pool + ".result." + env.Submitter
	msgID := env.Submitter + "." + strconv.FormatUint(env.ID, 10) + "." + strconv.Itoa(env.Attempt) + ".r"
	p := published{key: key, subject: subject, msgID: msgID, data: data}
	p.f, _ = w.js.PublishMsgAsync(&nats.Msg{Subject: subject, Data: data}, jetstream.WithMsgID(msgID))
	w.publish <- p // nil f: sent again by results
}

// resultOf is the result to send for r.
func (w *worker) resultOf(env taskMsg, r mp.TaskResult) resultMsg {
	switch {
	case r.Err != nil:
		closeFDs(r.FDs)
		return describe(env.Func, r.Err)
	case len(r.FDs) > 0:
		closeFDs(r.FDs)
		err := fmt.Errorf("cluster: the result of %s holds handles, which cannot go to another machine: %w", env.Func, mp.ErrHandles)
		return describe(env.Func, err)
	}
	return resultMsg{Kind: resultValue, Value: r.Value}
}

// published is a result sent and waiting to be stored.
type published struct {
	key     heldKey
	subject string
	msgID   string
	data    []byte
	f       jetstream.PubAckFuture // nil if the first send failed
}

// maxResultTries bounds the attempts to store a result before its task is
// handed back to the engine.
const maxResultTries = 3

// results waits, in order, for the engine to store each result sent,
// and then acknowledges its task; a result that could not be stored is
// sent again, and after maxResultTries its task is handed back.
func (w *worker) results(ctx context.Context) {
	for {
		select {
		case p := <-w.publish:
			w.store(ctx, p)
		case <-ctx.Done():
			return
		}
	}
}

// store waits for the engine to store a result, sending it again if need
// be, and acknowledges its task; or hands the task back.
func (w *worker) store(ctx context.Context, p published) {
	var err error
	for tries := 0; tries < maxResultTries; tries++ {
		if p.f == nil || tries > 0 {
			p.f, err = w.js.PublishMsgAsync(&nats.Msg{Subject: p.subject, Data: p.data}, jetstream.WithMsgID(p.msgID))
			if err != nil {
				continue
			}
		}
		select {
		case <-p.f.Ok():
			w.ack(p.key, ackOK)
			return
		case err = <-p.f.Err():
			if perr := denied(w.c.nc, nil); perr != nil {
				w.fail(fmt.Errorf("cluster: Work: send a result: %w", perr))
			}
		case <-ctx.Done():
			return
		}
	}
	diag.Logger().Warn("cluster: worker could not store a result; the task goes back to the pool", "pool", w.o.Pool, "err", err)
	w.ack(p.key, ackNak)
}

// ack acknowledges a held task with body, and releases it.
func (w *worker) ack(key heldKey, body []byte) {
	w.mu.Lock()
	h := w.held[key]
	w.mu.Unlock()
	if h == nil {
		return
	}
	_ = w.c.nc.Publish(h.reply, body)
	w.release(key)
}

// release forgets a held task.
func (w *worker) release(key heldKey) {
	w.mu.Lock()
	delete(w.held, key)
	w.mu.Unlock()
	notify(w.empty)
	notify(w.wake)
}

// onControl stops the tasks a submitter no longer wants.
func (w *worker) onControl(m *nats.Msg) {
	c, err := decodeControl(m.Data)
	if err != nil {
		return
	}
	var stop []*mp.Task
	w.mu.Lock()
	for k, h := range w.held {
		if k.submitter == c.Submitter && (c.Kind == controlTerminate || k.id == c.ID) && !h.done {
			h.cancelled = true
			stop = append(stop, h.t)
		}
	}
	w.mu.Unlock()
	for _, t := range stop {
		w.local.Cancel(t)
	}
}

// stopLocal stops the local pool, killing what still runs there.
func (w *worker) stopLocal() {
	_ = w.local.Terminate()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	_ = w.local.Wait(ctx)
}
