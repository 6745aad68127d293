package mp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/transport"
)

// worker is the pool's side of one worker process.
type worker struct {
	p        *Pool
	proc     *Process
	conn     *transport.Conn // tasks out, results in
	cancelc  *transport.Conn // cancellations out
	prog     *progress
	pid      int
	wake     chan struct{} // cap 1: the writer has something to send
	readDone chan struct{}
	closeOne sync.Once

	// The fields below are guarded by the pool's mutex.
	inflight []*task // given to this worker, in the order it runs them
	cancels  []uint64
	dirty    bool // has something to send, and is on the pool's list
	sendBusy bool // a goroutine is sending to it
	assigned int
	retiring bool // no more tasks: it has run MaxTasksPerChild
	stopping bool // told, or about to be told, to exit
	stopSent bool
	ready    bool
	dying    bool // killed by the pool
	killed   map[uint64]error
	timer    *time.Timer
	timerAt  time.Time
}

// newWorker starts a worker process and sends it its init message.
func (p *Pool) newWorker() (*worker, error) {
	ours, theirs, err := Pipe(true)
	if err != nil {
		return nil, err
	}
	defer theirs.Close()
	cancelR, cancelW, err := Pipe(false)
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
	defer closeFDs([]int{memfd})
	// No spinning receives: the pool's reader hands each result to another
	// goroutine, and a reader spinning meanwhile takes the CPU that
	// goroutine and the worker need (on two CPUs, it doubles a round trip).
	ours.t.SetSpin(0)
	w := &worker{p: p, conn: ours.t, cancelc: cancelW.t, prog: prog, wake: make(chan struct{}, 1), readDone: make(chan struct{}), killed: map[uint64]error{}}
	if err := w.start(poolWorkerArg{Tasks: theirs, Cancels: cancelR, InProcess: p.method == Goroutine}, memfd); err != nil {
		ours.Close()
		cancelW.Close()
		prog.close()
		return nil, err
	}
	return w, nil
}

// start starts the process and sends the init message, which waits in the
// socket until the worker reads it.
func (w *worker) start(arg poolWorkerArg, memfd int) error {
	p := w.p
	proc := Command(poolWorker, arg)
	proc.StartMethod, proc.Stdout, proc.Stderr = p.method, p.stdout, p.stderr
	p.mu.Lock()
	p.workerNames++
	proc.Name = fmt.Sprintf("PoolWorker-%d", p.workerNames)
	p.mu.Unlock()
	in := initRec{TaskTimeout: p.timeout}
	fds := []int{memfd}
	if p.init != nil {
		arg, argFDs, err := p.init.encode()
		if err != nil {
			return fmt.Errorf("mp: pool initializer: %w", err)
		}
		defer closeFDs(argFDs)
		in.Func, in.Arg = p.init.fn, arg
		fds = append(fds, argFDs...)
	}
	if err := proc.Start(); err != nil {
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
	w.p.goroutine(w.read)
	w.p.goroutine(w.watch)
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
		w.p.onWorkerExit(w)
	}()
	defer close(w.readDone)
	for {
		m, err := w.conn.Recv(context.Background())
		if err != nil {
			if err != io.EOF && !errors.Is(err, ErrClosed) {
				// The worker may be alive with results nobody will read.
				w.killNow()
			}
			return
		}
		if err := w.p.onMessage(w, m); err != nil {
			// A worker that breaks the protocol cannot be trusted with
			// more work; its death fails its running task.
			w.killNow()
		}
	}
}

// killNow is kill for a caller that does not hold the pool's mutex.
func (w *worker) killNow() {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	w.kill()
}

// watch sends what signal leaves to the writer goroutine until the worker
// exits, then lets the reader take what the worker sent before it died; a descriptor of the socket kept open
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
	p := w.p
	p.mu.Lock()
	if w.sendBusy {
		p.mu.Unlock()
		return
	}
	w.sendBusy = true
	p.mu.Unlock()
	w.sendPending()
}

// sendPending sends the tasks, cancellations and stop order waiting for
// the worker, until none is left.
func (w *worker) sendPending() {
	for {
		p := w.p
		p.mu.Lock()
		batch := w.takeBatchLocked()
		cancels := w.cancels
		w.cancels = nil
		stop := w.stopping && !w.stopSent && len(w.inflight) == 0
		w.stopSent = w.stopSent || stop
		if len(batch) == 0 && len(cancels) == 0 && !stop {
			w.sendBusy = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		err := w.sendBatch(batch)
		if err == nil && len(cancels) > 0 {
			err = w.sendCancels(cancels)
		}
		if err == nil && stop {
			err = w.conn.Send(context.Background(), transport.Msg{Kind: poolStop})
		}
		p.mu.Lock()
		for _, t := range batch {
			t.sending--
			if t.resolved && t.sending == 0 {
				closeFDs(t.fds)
				t.fds = nil
			}
		}
		if err != nil && !errors.Is(err, ErrClosed) {
			w.kill()
		}
		p.armLocked(w)
		p.mu.Unlock()
	}
}

// takeBatchLocked marks the unsent tasks that fit in one datagram as sent
// and returns them; tasks resolved before being sent are dropped.
func (w *worker) takeBatchLocked() []*task {
	var batch []*task
	size, nfds := 0, 0
	kept := w.inflight[:0]
	for _, t := range w.inflight {
		switch {
		case t.sent:
		case t.resolved:
			continue
		case len(batch) > 0 && (len(batch) >= maxBatchTasks || size+len(t.arg) > batchBytes || nfds+len(t.fds) > maxBatchFDs):
		default:
			t.sent = true
			t.sending++
			batch = append(batch, t)
			size += len(t.arg) + len(t.fn) + 32
			nfds += len(t.fds)
		}
		kept = append(kept, t)
	}
	clear(w.inflight[len(kept):])
	w.inflight = kept
	return batch
}

// sendBatch sends tasks in one datagram.
func (w *worker) sendBatch(batch []*task) error {
	if len(batch) == 0 {
		return nil
	}
	var data []byte
	var fds []int
	for _, t := range batch {
		rec := taskRec{ID: t.id, Func: t.fn, Items: t.items, NFDs: len(t.fds), Arg: t.arg}
		if !t.deadline.IsZero() {
			rec.Deadline = t.deadline.UnixNano()
		}
		data = appendTask(data, &rec)
		fds = append(fds, t.fds...)
	}
	return w.conn.Send(context.Background(), transport.Msg{Kind: poolTasks, Data: data, FDs: fds})
}

func (w *worker) sendCancels(ids []uint64) error {
	var data []byte
	for _, id := range ids {
		data = binary.AppendUvarint(data, id)
	}
	return w.cancelc.Send(context.Background(), transport.Msg{Kind: poolCancel, Data: data})
}

// signal puts the worker on the pool's list of workers with something to
// send; the goroutine that releases the pool's lock sends it (see
// Pool.finish).
//
// A worker that is running tasks already gets the new ones from its
// writer goroutine instead: it has work to do meanwhile, and tasks given
// in a burst then leave together, in one datagram.
func (w *worker) signal() {
	if w.busyLocked() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
		return
	}
	if !w.dirty {
		w.dirty = true
		w.p.dirty = append(w.p.dirty, w)
		w.p.hasDirty.Store(true)
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
		w.signal()
	}
}

// kill kills the worker and its process group.
// The caller holds the pool's mutex.
func (w *worker) kill() {
	if w.proc == nil || w.dying {
		return
	}
	w.dying = true
	if w.p.method != Goroutine && w.proc.Alive() {
		// Its process group, with whatever its initializer or task
		// started; a group of that id can only be the worker's (it is our
		// unreaped child), and before the worker makes it there is none.
		syscall.Kill(-w.pid, syscall.SIGKILL)
	}
	w.proc.Kill()
}
