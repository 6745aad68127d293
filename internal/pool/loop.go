package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/funcs"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
	"golang.org/x/sys/unix"
)

// flushDelay is how long a finished task's result may wait in a worker
// for more results to share its datagram, as long as the tasks keep
// coming; the last task of a batch sends what is pending at once.
const flushDelay = 100 * time.Microsecond

// errPoolCancel is the cause of a task's context cancelled by its pool.
var errPoolCancel = errors.New("mp: task cancelled by its pool")

// Work is the loop a worker runs, in its own process (or, with inProcess,
// in a goroutine of the pool's): it takes task batches from tasks, runs
// them, and sends result batches back, until the pool says stop or goes
// away; cancels brings the cancellations.
func Work(ctx context.Context, tasks, cancels *transport.Conn, inProcess bool) error {
	defer tasks.Close()
	defer cancels.Close()
	// Receives do not spin: a worker waiting for work should leave the CPU
	// to its pool and the other workers.
	tasks.SetSpin(false)
	cancels.SetSpin(false)
	if !inProcess {
		// Its own process group, so that a deadline can kill the worker
		// together with whatever the task started.
		if err := unix.Setpgid(0, 0); err != nil {
			return fmt.Errorf("mp: pool worker: setpgid: %w", err)
		}
	}
	wl, err := startLoop(ctx, tasks)
	if err != nil {
		return err
	}
	wl.cancels, wl.recvCtx = cancels, context.Background()
	if inProcess {
		wl.recvCtx = ctx // Terminate of an in-process worker cancels ctx
	}
	defer wl.prog.close()
	return wl.run(ctx)
}

// workerLoop is the state of a worker's loop.
type workerLoop struct {
	conn    *transport.Conn // tasks in, results out
	cancels *transport.Conn // cancellations in
	prog    *progress
	timeout time.Duration // the pool's task timeout
	waiting []workerTask  // received, not yet run
	// recvCtx bounds waiting for tasks. A worker process needs none: when
	// its pool goes away, the socket closes and the lifeline ends it; and
	// a context that can end costs a little on every receive.
	recvCtx context.Context
	stop    bool // the pool said stop

	// mu guards the running task's identity and the cancellations received
	// for tasks not yet started.
	mu        sync.Mutex
	running   uint64
	cancelRun context.CancelCauseFunc
	cancelled map[uint64]bool
	// markOrder holds the marked ids, oldest first, so that marks of tasks
	// that finished before their cancellation came can be dropped oldest
	// first when there are too many.
	markOrder []uint64

	// smu guards the results not yet sent, when the first of them was
	// ready, and whether the flush timer is armed; it also keeps batches of
	// results in order.
	smu     sync.Mutex
	pending []byte
	pendFDs []int
	npend   int
	first   time.Time
	timer   *time.Timer // sends the pending results during a long task
	armed   bool
}

// workerTask is a task received, with its descriptors.
type workerTask struct {
	rec taskRec
	fds []int
}

// startLoop receives the init message, maps the progress page, runs the
// initializer and reports the worker ready.
func startLoop(ctx context.Context, conn *transport.Conn) (*workerLoop, error) {
	m, err := conn.Recv(ctx)
	if err != nil {
		return nil, fmt.Errorf("mp: pool worker: receive the init message: %w", err)
	}
	if m.Kind != poolInit || len(m.FDs) < 1 {
		m.Close()
		return nil, fmt.Errorf("%w: pool worker: bad init message", errs.ErrProtocol)
	}
	in, err := decodeInit(m.Data)
	var prog *progress
	if err == nil {
		prog, err = mapProgress(m.FDs[0])
	}
	unix.Close(m.FDs[0])
	if err != nil {
		descr.Close(m.FDs[1:])
		return nil, err
	}
	wl := &workerLoop{conn: conn, prog: prog, timeout: in.TaskTimeout, cancelled: map[uint64]bool{}}
	if err := wl.initialize(ctx, in, m.FDs[1:]); err != nil {
		prog.close()
		return nil, err
	}
	if err := conn.Send(ctx, transport.Msg{Kind: poolReady}); err != nil {
		prog.close()
		return nil, err
	}
	return wl, nil
}

// initialize runs the pool's initializer, if any, and reports its failure.
func (wl *workerLoop) initialize(ctx context.Context, in initRec, fds []int) error {
	if in.Func == "" {
		descr.Close(fds)
		return nil
	}
	var err error
	if inv, ok := funcs.Lookup(in.Func); !ok {
		descr.Close(fds)
		err = fmt.Errorf("%w: initializer %q", errs.ErrUnknownFunction, in.Func)
	} else {
		var resFDs []int
		_, resFDs, err = inv(ctx, in.Arg, fds)
		descr.Close(resFDs)
	}
	if err == nil {
		return nil
	}
	re := errs.Describe(in.Func, err)
	if data, _, merr := wire.Marshal(re); merr == nil {
		wl.conn.Send(ctx, transport.Msg{Kind: poolInitFailed, Data: data})
	}
	return re
}

// run runs tasks until the pool says stop or goes away. One goroutine
// receives tasks and runs them at once, so that a short task makes no
// hand-over between goroutines or threads on its way from the socket to
// the function and back, and costs no timer. Cancellations come on a
// socket of their own, read by a goroutine that sleeps until one arrives.
func (wl *workerLoop) run(ctx context.Context) error {
	wl.timer = time.AfterFunc(time.Hour, wl.flush)
	wl.timer.Stop()
	defer wl.timer.Stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		wl.readCancels(ctx)
	}()
	err := wl.serve(ctx)
	wl.flush()
	for _, t := range wl.waiting {
		descr.Close(t.fds)
	}
	wl.cancels.Close()
	<-done
	return err
}

// serve receives datagrams and runs the tasks they bring, until the pool
// says stop or goes away.
func (wl *workerLoop) serve(ctx context.Context) error {
	for !wl.stop {
		m, err := wl.conn.Recv(wl.recvCtx)
		if err == io.EOF || errors.Is(err, errs.ErrClosed) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if err := wl.handle(m); err != nil {
			return err
		}
		wl.execute(ctx)
	}
	return nil
}

// handle applies a datagram from the pool: it queues tasks, or records the
// order to stop.
func (wl *workerLoop) handle(m transport.Msg) error {
	switch m.Kind {
	case poolTasks:
		recs, err := decodeTasks(m.Data, len(m.FDs))
		if err != nil {
			m.Close()
			return err
		}
		off := 0
		for _, rec := range recs {
			wl.waiting = append(wl.waiting, workerTask{rec: rec, fds: m.FDs[off : off+rec.NFDs]})
			off += rec.NFDs
		}
		return nil
	case poolTaskApart:
		return wl.handleApart(m)
	case poolStop:
		wl.stop = true
		return nil
	}
	m.Close()
	return fmt.Errorf("%w: pool worker: message kind %d", errs.ErrProtocol, m.Kind)
}

// handleApart queues the task of a poolTaskApart datagram, with the
// argument that follows it.
func (wl *workerLoop) handleApart(m transport.Msg) error {
	rec, n, err := decodeApart(m.Data, len(m.FDs), maxApart)
	if err != nil {
		m.Close()
		return err
	}
	// The argument lands in memory of its own size, which becomes the
	// task's: through the socket's spill memory, it took a second copy and
	// as many page faults again.
	arg, err := wl.conn.RecvInto(wl.recvCtx, make([]byte, n))
	if err != nil {
		m.Close()
		if err == io.EOF || errors.Is(err, errs.ErrClosed) || wl.recvCtx.Err() != nil {
			wl.stop = true // the pool went away, as between two datagrams
			return nil
		}
		return err
	}
	if arg.Kind != poolArg || len(arg.FDs) > 0 || len(arg.Data) != n {
		m.Close()
		arg.Close()
		return fmt.Errorf("%w: pool worker: message kind %d of %d bytes after a task announced an argument of %d", errs.ErrProtocol, arg.Kind, len(arg.Data), n)
	}
	rec.Arg = arg.Data
	wl.waiting = append(wl.waiting, workerTask{rec: rec, fds: m.FDs})
	return nil
}

// execute runs the queued tasks in order, then sends their results.
func (wl *workerLoop) execute(ctx context.Context) {
	for len(wl.waiting) > 0 {
		t := wl.waiting[0]
		wl.waiting[0] = workerTask{}
		wl.waiting = wl.waiting[1:]
		if ctx.Err() != nil {
			descr.Close(t.fds)
			continue
		}
		wl.beforeTask()
		wl.runTask(ctx, t)
	}
	wl.flush()
}

// readCancels applies the cancellations the pool sends, until the loop
// ends.
func (wl *workerLoop) readCancels(ctx context.Context) {
	for {
		m, err := wl.cancels.Recv(ctx)
		if err != nil {
			return
		}
		m.Close()
		if m.Kind != poolCancel || wl.cancel(m.Data) != nil {
			return
		}
	}
}

// cancel cancels the running task, or marks queued ones to be skipped.
func (wl *workerLoop) cancel(data []byte) error {
	ids, err := decodeCancel(data)
	if err != nil {
		return err
	}
	wl.mu.Lock()
	defer wl.mu.Unlock()
	for _, id := range ids {
		if id == wl.running && wl.cancelRun != nil {
			wl.cancelRun(errPoolCancel)
		} else {
			wl.markLocked(id)
		}
	}
	return nil
}

// maxMarks bounds the cancellation marks a worker keeps.
const maxMarks = 4096

// markLocked marks a task to be skipped. Marks of tasks that finished before
// their cancellation came are never used; past maxMarks the oldest go first
// (tasks run in order, so those are the likeliest to be stale).
func (wl *workerLoop) markLocked(id uint64) {
	wl.cancelled[id] = true
	wl.markOrder = append(wl.markOrder, id)
	for len(wl.cancelled) > maxMarks && len(wl.markOrder) > 0 {
		delete(wl.cancelled, wl.markOrder[0])
		wl.markOrder = wl.markOrder[1:]
	}
	if len(wl.markOrder) > 2*maxMarks { // ids of marks already used
		wl.markOrder = slices.DeleteFunc(wl.markOrder, func(id uint64) bool { return !wl.cancelled[id] })
	}
}
