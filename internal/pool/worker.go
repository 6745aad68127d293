package pool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
)

// worker is the engine's side of one worker process.
type worker struct {
	e        *Engine
	proc     Proc
	conn     *transport.Conn // tasks out, results in
	cancelc  *transport.Conn // cancellations out
	prog     *progress
	pid      int
	name     string        // PoolWorker-N, the name its process is started with
	wake     chan struct{} // cap 1: the writer has something to send
	readDone chan struct{}
	closeOne sync.Once

	// The fields below are guarded by the engine's mutex.
	inflight []*Task // given to this worker, in the order it runs them
	cancels  []uint64
	dirty    bool // has something to send, and is on the engine's list
	sendBusy bool // a goroutine is sending to it
	assigned int
	retiring bool // no more tasks: it has run MaxTasks
	stopping bool // told, or about to be told, to exit
	stopSent bool
	ready    bool
	dying    bool // killed by the engine
	// socketGone says a send found the worker's socket reset: the kill
	// that followed is no reason of the engine's.
	socketGone bool
	killed     map[uint64]error
	timer      *time.Timer
	timerAt    time.Time
}

// newWorker starts a worker process and sends it its init message.
func (e *Engine) newWorker() (*worker, error) {
	ours, theirs, err := transport.Pair()
	if err != nil {
		return nil, err
	}
	defer theirs.Close()
	cancelR, cancelW, err := transport.Pair()
	if err != nil {
		ours.Close()
		return nil, err
	}
	defer cancelR.Close()
	prog, memfd, err := newProgress()
	if err != nil {
		ours.Close()
		cancelW.Close()
		return nil, err
	}
	defer descr.Close([]int{memfd})
	// No spinning receives: the engine's reader hands each result to
	// another goroutine, and a reader spinning meanwhile takes the CPU
	// that goroutine and the worker need (on two CPUs, it doubles a round
	// trip).
	ours.SetSpin(false)
	w := &worker{e: e, conn: ours, cancelc: cancelW, prog: prog, wake: make(chan struct{}, 1), readDone: make(chan struct{}), killed: map[uint64]error{}}
	if err := w.start(theirs, cancelR, memfd); err != nil {
		ours.Close()
		cancelW.Close()
		prog.close()
		return nil, err
	}
	return w, nil
}

// start starts the process and sends the init message, which waits in the
// socket until the worker reads it.
func (w *worker) start(tasks, cancels *transport.Conn, memfd int) error {
	e := w.e
	in := initRec{TaskTimeout: e.cfg.TaskTimeout}
	fds := []int{memfd}
	if e.cfg.Init != nil {
		arg, argFDs, err := e.cfg.Init.Encode()
		if err != nil {
			return fmt.Errorf("mp: pool initializer: %w", err)
		}
		defer descr.Close(argFDs)
		in.Func, in.Arg = e.cfg.Init.Func, arg
		fds = append(fds, argFDs...)
	}
	w.name = fmt.Sprintf("PoolWorker-%d", e.names.Add(1))
	proc, err := e.cfg.Start(w.name, tasks, cancels)
	if err != nil {
		return err
	}
	w.proc, w.pid = proc, proc.Pid()
	if err := w.conn.Send(context.Background(), transport.Msg{Kind: poolInit, Data: appendInit(nil, &in), FDs: fds}); err != nil {
		proc.Kill()
		<-proc.Done()
		proc.Close()
		return fmt.Errorf("mp: start a pool worker: %w", err)
	}
	return nil
}

// startGoroutines starts the goroutines that read the task socket and
// watch the process.
func (w *worker) startGoroutines() {
	w.e.goroutine(w.read)
	w.e.goroutine(w.watch)
}

// closeConn closes the pool's ends of the worker's sockets.
func (w *worker) closeConn() {
	w.closeOne.Do(func() {
		w.conn.Close()
		w.cancelc.Close()
	})
}

// read receives the worker's messages until it exits, then lets the pool
// account for its end.
func (w *worker) read() {
	defer func() {
		<-w.proc.Done()
		w.closeConn()
		w.e.onWorkerExit(w)
	}()
	defer close(w.readDone)
	for {
		m, err := w.conn.Recv(context.Background())
		if err != nil {
			if err != io.EOF && !errors.Is(err, errs.ErrClosed) {
				// The worker may be alive with results nobody will read.
				w.killNow("mp: pool worker killed: its socket failed", err)
			}
			return
		}
		if err := w.e.onMessage(w, m); err != nil {
			// A worker that breaks the protocol cannot be trusted with
			// more work; its death fails its running task.
			w.killNow("mp: pool worker killed: it broke the protocol", err)
		}
	}
}

// killNow is killLocked for a caller that does not hold the engine's
// mutex, with the warning msg about err.
func (w *worker) killNow(msg string, err error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	if !w.dying {
		w.e.noteLocked(slog.LevelWarn, msg, "worker", w.name, "worker_pid", w.pid, "err", err)
	}
	w.killLocked()
}

// watch sends what signalLocked leaves to the writer goroutine until the
// worker exits, then lets the reader take what the worker sent before it
// died, for at most drainTimeout: a descriptor of the socket kept open
// elsewhere must not keep the reader waiting for ever.
func (w *worker) watch() {
	for done := false; !done; {
		select {
		case <-w.wake:
			w.flush()
		case <-w.proc.Done():
			done = true
		}
	}
	select {
	case <-w.readDone:
	case <-time.After(drainTimeout):
		w.closeConn()
	}
}

// flush sends what waits for the worker, in the calling goroutine, unless
// another goroutine is sending to it already (that one goes on until
// nothing is left). Sending never waits long: a worker always reads its
// socket, and its window bounds what is sent to it.
func (w *worker) flush() {
	e := w.e
	e.mu.Lock()
	if w.sendBusy {
		e.mu.Unlock()
		return
	}
	w.sendBusy = true
	e.mu.Unlock()
	w.sendPending()
}

// sendPending sends the tasks, cancellations and stop order waiting for
// the worker, until none is left.
func (w *worker) sendPending() {
	e := w.e
	for {
		e.mu.Lock()
		batch := w.takeBatchLocked()
		cancels := w.cancels
		w.cancels = nil
		stop := w.stopping && !w.stopSent && len(w.inflight) == 0
		w.stopSent = w.stopSent || stop
		if len(batch) == 0 && len(cancels) == 0 && !stop {
			w.sendBusy = false
			// Tasks dropped by takeBatchLocked may have been the last work
			// of a closed engine: the workers are then told to stop (those
			// other than w through the dirty list).
			e.stopIdleLocked()
			e.mu.Unlock()
			e.finish(nil)
			return
		}
		e.mu.Unlock()
		err := w.sendBatch(batch)
		if err == nil && len(cancels) > 0 {
			err = w.sendCancels(cancels)
		}
		if err == nil && stop {
			err = w.conn.Send(context.Background(), transport.Msg{Kind: poolStop})
		}
		e.mu.Lock()
		for _, t := range batch {
			t.sending--
			if t.resolved && t.sending == 0 {
				descr.Close(t.FDs)
				t.FDs = nil
			}
		}
		if err != nil && !errors.Is(err, errs.ErrClosed) {
			// A worker that died as we sent to it resets the socket: its
			// death, not our kill, ends it.
			w.socketGone = w.socketGone || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
			w.killLocked()
		}
		e.armLocked(w)
		e.mu.Unlock()
	}
}

// takeBatchLocked marks the unsent tasks that fit in one datagram as sent
// and returns them; tasks resolved, or no longer wanted, before being sent
// are dropped.
func (w *worker) takeBatchLocked() []*Task {
	var batch []*Task
	size, nfds := 0, 0
	kept := w.inflight[:0]
	for _, t := range w.inflight {
		switch {
		case t.sent:
		case t.resolved:
			continue
		case !t.Owner.Wanted():
			w.e.dropLocked(t, cancelled, nil)
			continue
		case len(batch) > 0 && (len(batch) >= maxBatchTasks || size+len(t.Arg) > batchBytes || nfds+len(t.FDs) > maxBatchFDs):
		default:
			t.sent = true
			t.sending++
			batch = append(batch, t)
			size += len(t.Arg) + len(t.Func) + 32
			nfds += len(t.FDs)
		}
		kept = append(kept, t)
	}
	clear(w.inflight[len(kept):])
	w.inflight = kept
	return batch
}

// sendBatch sends tasks in one datagram.
func (w *worker) sendBatch(batch []*Task) error {
	if len(batch) == 0 {
		return nil
	}
	if len(batch) == 1 && len(batch[0].Arg) >= apartArg {
		return w.sendApart(batch[0])
	}
	var data []byte
	var fds []int
	for _, t := range batch {
		rec := recordOf(t)
		data = appendTask(data, &rec)
		fds = append(fds, t.FDs...)
	}
	return w.conn.Send(context.Background(), transport.Msg{Kind: poolTasks, Data: data, FDs: fds})
}

// sendApart sends a task with a large argument in two datagrams, its
// record (which says how long the argument is) and then its argument,
// which is not copied. Nothing else is sent to the worker in between: one
// goroutine at a time sends to it.
func (w *worker) sendApart(t *Task) error {
	ctx := context.Background()
	if err := w.conn.Send(ctx, transport.Msg{Kind: poolTaskApart, Data: appendApart(nil, t), FDs: t.FDs}); err != nil {
		return err
	}
	return w.conn.Send(ctx, transport.Msg{Kind: poolArg, Data: t.Arg})
}

// recordOf returns t's record.
func recordOf(t *Task) taskRec {
	rec := taskRec{ID: t.ID, Func: t.Func, Items: t.Items, NFDs: len(t.FDs), Arg: t.Arg}
	if !t.Deadline.IsZero() {
		rec.Deadline = t.Deadline.UnixNano()
	}
	return rec
}

func (w *worker) sendCancels(ids []uint64) error {
	var data []byte
	for _, id := range ids {
		data = binary.AppendUvarint(data, id)
	}
	return w.cancelc.Send(context.Background(), transport.Msg{Kind: poolCancel, Data: data})
}

// signalLocked puts the worker on the engine's list of workers with something
// to send; the goroutine that releases the engine's lock sends it (see
// Engine.finish). The engine's mutex is held.
//
// A worker that is running tasks already gets the new ones from its
// writer goroutine instead: it has work to do meanwhile, and tasks given
// in a burst then leave together, in one datagram.
func (w *worker) signalLocked() {
	if w.busyLocked() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
		return
	}
	if !w.dirty {
		w.dirty = true
		w.e.dirty = append(w.e.dirty, w)
		w.e.hasDirty.Store(true)
	}
}

// busyLocked reports whether the worker has tasks sent and not reported.
func (w *worker) busyLocked() bool {
	for _, t := range w.inflight {
		if t.sent {
			return true
		}
	}
	return false
}

// stopLocked tells the worker to exit once its tasks are done.
func (w *worker) stopLocked() {
	if !w.stopping {
		w.stopping = true
		w.signalLocked()
	}
}

// killLocked kills the worker and its process group. The engine's mutex is
// held.
func (w *worker) killLocked() {
	if w.proc == nil || w.dying {
		return
	}
	w.dying = true
	if !w.e.cfg.InProcess && !w.exited() {
		// Its process group, with whatever its initializer or task
		// started; a group of that id can only be the worker's (it is our
		// unreaped child), and before the worker makes it there is none.
		syscall.Kill(-w.pid, syscall.SIGKILL)
	}
	w.proc.Kill()
}

// exited reports whether the worker's process has ended and been reaped.
func (w *worker) exited() bool {
	select {
	case <-w.proc.Done():
		return true
	default:
		return false
	}
}
