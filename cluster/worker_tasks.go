package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/diag"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// onMsg takes what comes in answer to the worker's pull requests: a task,
// or the engine's word that a request ended. The engine sends that word
// with no reply subject, and every task with its acknowledgement subject:
// a task message published with an empty body and a Status header — as
// anyone who may submit can — is a malformed task, not a status, and
// changes nothing in how many tasks the worker asks for.
func (w *worker) onMsg(m *nats.Msg) {
	if m.Reply == "" {
		if len(m.Data) == 0 && m.Header.Get("Status") != "" {
			w.onStatus(m)
		} else {
			diag.Logger().Warn("cluster: worker dropped a message that is neither a task nor the engine's status", "pool", w.o.Pool, "subject", m.Subject)
		}
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
	w.mu.Lock()
	w.outbox[env.Submitter] = append(w.outbox[env.Submitter], outResult{key: key, data: res.append(nil)})
	w.mu.Unlock()
	w.sendResults()
}

// outResult is a result waiting to be sent.
type outResult struct {
	key  heldKey
	data []byte // its envelope
}

// resultWindow is how many messages of results a worker has sent and
// not yet seen stored at a time. The results that finish meanwhile wait,
// and go together in the next message once one is stored: a result that
// finishes when none waits goes at once, and under load the messages
// grow instead of their number.
const resultWindow = 1

// sendResults sends the results waiting in the outbox, one message per
// submitter, while fewer than resultWindow messages wait to be stored.
func (w *worker) sendResults() {
	for {
		w.mu.Lock()
		if w.sending >= resultWindow {
			w.mu.Unlock()
			return
		}
		var submitter string
		var out []outResult
		for s, rs := range w.outbox {
			submitter, out = s, rs
			break
		}
		if out == nil {
			w.mu.Unlock()
			return
		}
		n, size := 1, len(out[0].data)
		for n < len(out) && n < maxBatchResults && size+len(out[n].data) <= maxBatchBytes {
			size += len(out[n].data)
			n++
		}
		if n == len(out) {
			delete(w.outbox, submitter)
		} else {
			w.outbox[submitter] = out[n:]
		}
		w.sending++
		w.mu.Unlock()
		w.send(submitter, out[:n])
	}
}

// send publishes a message of results, and hands it to results, which
// waits for the engine to store it.
func (w *worker) send(submitter string, out []outResult) {
	p := published{subject: "mp.pool." + w.o.Pool + ".result." + submitter, keys: make([]heldKey, len(out))}
	encs := make([][]byte, len(out))
	for i, o := range out {
		p.keys[i], encs[i] = o.key, o.data
	}
	if len(out) == 1 {
		// The engine stores a task's result once, whoever sends it.
		k := out[0].key
		p.msgID = submitter + "." + strconv.FormatUint(k.id, 10) + "." + strconv.Itoa(k.attempt) + ".r"
		p.data = out[0].data
	} else {
		// Stored once if sent again; a result that is also in another
		// worker's message is dropped by its submitter.
		p.msgID = nuid.Next() + ".rs"
		p.data = appendResults(make([]byte, 0, 8+len(out)*(len(out[0].data)+2)), encs)
	}
	p.before = w.c.nc.LastError()
	p.f, _ = w.js.PublishMsgAsync(&nats.Msg{Subject: p.subject, Data: p.data}, jetstream.WithMsgID(p.msgID))
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

// published is a message of results sent and waiting to be stored.
type published struct {
	keys    []heldKey // the tasks whose results it carries
	subject string
	msgID   string
	data    []byte
	f       jetstream.PubAckFuture // nil if the first send failed
	before  error                  // the connection's last error before it was sent
}

// maxResultTries bounds the attempts to store a result before its task is
// handed back to the engine.
const maxResultTries = 3

// results waits, in order, for the engine to store each message of
// results sent, and then acknowledges their tasks; a message that could
// not be stored is sent again, and after maxResultTries its tasks are
// handed back. Once a message is done, those waiting in the outbox go.
func (w *worker) results(ctx context.Context) {
	for {
		select {
		case p := <-w.publish:
			if !w.store(ctx, p) {
				return
			}
			w.mu.Lock()
			w.sending--
			w.mu.Unlock()
			w.sendResults()
		case <-ctx.Done():
			return
		}
	}
}

// store waits for the engine to store a message of results, sending it
// again if need be, and acknowledges their tasks; or hands the tasks
// back. It returns false if ctx ended first.
func (w *worker) store(ctx context.Context, p published) bool {
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
			for _, k := range p.keys {
				w.ack(k, ackOK)
			}
			return true
		case err = <-p.f.Err():
			if perr := denied(w.c.nc, p.before); perr != nil {
				w.fail(fmt.Errorf("cluster: Work: send a result: %w", perr))
			}
		case <-ctx.Done():
			return false
		}
	}
	diag.Logger().Warn("cluster: worker could not store a result; the task goes back to the pool", "pool", w.o.Pool, "tasks", len(p.keys), "err", err)
	for _, k := range p.keys {
		w.ack(k, ackNak)
	}
	return true
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
