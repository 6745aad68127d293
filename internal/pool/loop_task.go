package pool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/funcs"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
	"golang.org/x/sys/unix"
)

// runTask runs one task (or chunk) and queues its result.
func (wl *workerLoop) runTask(ctx context.Context, t workerTask) {
	start := time.Now()
	rec := resultRec{ID: t.rec.ID}
	var resFDs []int
	if status, ok := wl.skip(t.rec, start); ok {
		descr.Close(t.fds)
		rec.Status = status
	} else {
		rec.Status, rec.Data, resFDs = wl.invoke(ctx, t)
	}
	rec.Nanos = uint64(time.Since(start))
	rec.NFDs = len(resFDs)
	wl.addResult(&rec, resFDs)
}

// skip reports whether a task must not run: the pool cancelled it, or its
// deadline passed while it waited.
func (wl *workerLoop) skip(rec taskRec, now time.Time) (byte, bool) {
	wl.mu.Lock()
	cancelled := wl.cancelled[rec.ID]
	delete(wl.cancelled, rec.ID)
	wl.mu.Unlock()
	switch {
	case cancelled:
		return resultCancelled, true
	case rec.Deadline != 0 && now.UnixNano() >= rec.Deadline:
		return resultTimeout, true
	}
	return 0, false
}

// invoke runs the task's function and returns the result record's status
// and data, with the result's descriptors.
func (wl *workerLoop) invoke(ctx context.Context, t workerTask) (byte, []byte, []int) {
	tctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if t.rec.Deadline != 0 {
		var stop context.CancelFunc
		tctx, stop = context.WithDeadline(tctx, time.Unix(0, t.rec.Deadline))
		defer stop()
	}
	wl.mu.Lock()
	wl.running, wl.cancelRun = t.rec.ID, cancel
	wl.mu.Unlock()
	defer func() {
		wl.mu.Lock()
		wl.running, wl.cancelRun = 0, nil
		wl.mu.Unlock()
		wl.prog.set(0, 0)
	}()
	var expired bool
	noteExpired := func() { expired = expired || tctx.Err() == context.DeadlineExceeded }
	wl.prog.set(t.rec.ID, 0)
	item := func(i int) (context.Context, func()) {
		if wl.timeout <= 0 {
			// Only a task timeout needs each item's start.
			return tctx, noteExpired
		}
		wl.prog.set(t.rec.ID, uint64(i))
		ictx, stop := context.WithTimeout(tctx, wl.timeout)
		return ictx, func() {
			expired = expired || ictx.Err() == context.DeadlineExceeded
			stop()
		}
	}
	data, fds, err := wl.call(tctx, t, item)
	if err == nil && len(fds) > maxBatchFDs {
		descr.Close(fds)
		err = fmt.Errorf("mp: a task's result holds %d descriptors (a handle carries one or more), at most %d", len(fds), maxBatchFDs)
	}
	switch {
	case err == nil:
		return resultOK, data, fds
	case context.Cause(tctx) == errPoolCancel:
		return resultCancelled, nil, nil
	case expired:
		return resultTimeout, nil, nil
	}
	return resultErr, encodeRemote(t.rec.Func, err), nil
}

// call runs a single task or a chunk.
func (wl *workerLoop) call(ctx context.Context, t workerTask, item func(int) (context.Context, func())) ([]byte, []int, error) {
	if t.rec.Items > 0 {
		inv, ok := funcs.LookupChunk(t.rec.Func)
		if !ok {
			descr.Close(t.fds)
			return nil, nil, fmt.Errorf("%w: %q", errs.ErrUnknownFunction, t.rec.Func)
		}
		return inv(ctx, t.rec.Arg, t.fds, item)
	}
	inv, ok := funcs.Lookup(t.rec.Func)
	if !ok {
		descr.Close(t.fds)
		return nil, nil, fmt.Errorf("%w: %q", errs.ErrUnknownFunction, t.rec.Func)
	}
	ictx, done := item(0)
	defer done()
	return inv(ictx, t.rec.Arg, t.fds)
}

// encodeRemote encodes err as the RemoteError the pool receives.
func encodeRemote(fn string, err error) []byte {
	data, _, merr := wire.Marshal(errs.Describe(fn, err))
	if merr != nil {
		data, _, _ = wire.Marshal(&errs.Remote{Func: fn, Message: err.Error()})
	}
	return data
}

// beforeTask makes sure results waiting for a batch do not wait behind
// a long task: they leave now if they have waited flushDelay already, or
// when the flush timer fires.
func (wl *workerLoop) beforeTask() {
	wl.smu.Lock()
	defer wl.smu.Unlock()
	switch waited := time.Since(wl.first); {
	case wl.npend == 0 || wl.armed:
	case waited >= flushDelay:
		wl.flushLocked()
	default:
		wl.armed = true
		wl.timer.Reset(flushDelay - waited)
	}
}

// addResult queues a result for the next batch, sending the batch first
// if the result would not fit.
func (wl *workerLoop) addResult(rec *resultRec, fds []int) {
	wl.smu.Lock()
	defer wl.smu.Unlock()
	if wl.npend > 0 && (len(wl.pending)+len(rec.Data) > batchBytes || len(wl.pendFDs)+len(fds) > maxBatchFDs) {
		wl.flushLocked()
	}
	if wl.npend == 0 {
		wl.first = time.Now()
	}
	wl.pending = appendResult(wl.pending, rec)
	wl.pendFDs = append(wl.pendFDs, fds...)
	wl.prog.holdResults(wl.pending, len(wl.pendFDs) == 0)
	wl.npend++
}

// flush sends the pending results.
func (wl *workerLoop) flush() {
	wl.smu.Lock()
	defer wl.smu.Unlock()
	wl.flushLocked()
}

func (wl *workerLoop) flushLocked() {
	if wl.armed {
		wl.timer.Stop()
		wl.armed = false
	}
	if wl.npend == 0 {
		return
	}
	err := wl.conn.Send(context.Background(), transport.Msg{Kind: poolResults, Data: wl.pending, FDs: wl.pendFDs})
	descr.Close(wl.pendFDs)
	if err != nil && !errors.Is(err, errs.ErrClosed) && !errors.Is(err, unix.EPIPE) && !errors.Is(err, unix.ECONNRESET) {
		// The pool is alive but these results cannot reach it (out of
		// memory for a large one, say). Dropping them would leave their
		// tasks waiting forever; ending the worker makes the pool fail or
		// retry every task it had, as for any worker that dies.
		fmt.Fprintf(os.Stderr, "mp: pool worker %d cannot send its results: %v\n", os.Getpid(), err)
		os.Exit(3)
	}
	// Otherwise the pool is gone: the results go with it, and the lifeline
	// ends this process.
	wl.prog.sentResults()
	wl.pending, wl.pendFDs, wl.npend = wl.pending[:0], wl.pendFDs[:0], 0
}
