package subprocess

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"time"
)

// copyBuf is the size of the buffer each pipe goroutine reads with.
const copyBuf = 32 << 10

// goPipeLocked starts fn as a tracked pipe goroutine: Wait does not return
// before it ends. The Popen owns it; cutPipes bounds it. p.mu must be held.
func (p *Popen) goPipeLocked(f *os.File, fn func()) {
	if p.active == 0 {
		p.idle = make(chan struct{})
	}
	p.active++
	p.watchLocked(f)
	go func() {
		defer p.pipeDone()
		fn()
	}()
}

func (p *Popen) pipeDone() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active--
	if p.active == 0 {
		close(p.idle)
	}
}

// watchLocked puts f among the pipes cutPipes cuts. p.mu must be held.
func (p *Popen) watchLocked(f *os.File) {
	p.watched = append(p.watched, f)
	if p.cut {
		_ = f.SetDeadline(time.Now())
	}
}

// waitPipes waits until no tracked pipe goroutine runs, and until the copy
// into stdin has ended or the pipes were cut.
func (p *Popen) waitPipes(ctx context.Context) error {
	for {
		p.mu.Lock()
		idle, busy := p.idle, p.active > 0
		p.mu.Unlock()
		if !busy {
			break
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if p.feedDone == nil {
		return nil
	}
	select {
	case <-p.feedDone:
	case <-p.cutCh: // the copy ends at its reader's next return
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// startFeed copies a Reader into the child's stdin. Unlike the other pipe
// goroutines it is not tracked: its Reader may block forever, so Wait stops
// waiting for it once the pipes are cut.
func (p *Popen) startFeed(job *copyJob) {
	p.mu.Lock()
	p.feedDone = make(chan struct{})
	p.watchLocked(job.pipe)
	p.mu.Unlock()
	go func() {
		defer close(p.feedDone)
		defer job.pipe.Close()
		_, _ = io.Copy(job.pipe, job.r) // EPIPE: the child stopped reading
	}()
}

// startDrain copies a child's output pipe into a Writer.
func (p *Popen) startDrain(job *copyJob) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.goPipeLocked(job.pipe, func() {
		defer job.pipe.Close()
		var werr error
		p.pump(job.pipe, func(b []byte) {
			if werr == nil {
				_, werr = job.w.Write(b)
			}
		})
	})
}

// pump reads f until end of file and hands each chunk to sink. When the
// read deadline set by cutPipes passes, it takes what f already holds,
// without waiting for more, and returns; if the pipe was still open, it
// records that output may have been lost.
func (p *Popen) pump(f *os.File, sink func([]byte)) {
	buf := make([]byte, copyBuf)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			sink(buf[:n])
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if !drainNow(f, buf, leftoverMax, sink) {
				p.mu.Lock()
				p.cutShort = true
				p.mu.Unlock()
			}
			return
		}
		if err != nil {
			return
		}
	}
}

// drainNow reads what f holds right now, without blocking, and reports
// whether it reached end of file. It stops after limit bytes, so that a
// writer that keeps the pipe full cannot hold it.
func drainNow(f *os.File, buf []byte, limit int, sink func([]byte)) (eof bool) {
	rc, err := f.SyscallConn()
	if err != nil || f.SetReadDeadline(time.Time{}) != nil {
		return false
	}
	n := 0
	for total := 0; total < limit; total += n {
		rerr := rc.Read(func(fd uintptr) bool {
			n, err = syscall.Read(int(fd), buf)
			return true // never wait for more
		})
		switch {
		case rerr != nil || err != nil:
			return false // EAGAIN: empty, but a writer holds it open
		case n == 0:
			return true
		}
		sink(buf[:n])
	}
	return false
}

// writeAll writes input to the child's stdin, then closes it. A child that
// exits or stops reading (EPIPE) is not an error, as in Python.
func writeAll(f *os.File, input []byte) {
	if len(input) > 0 {
		_, _ = f.Write(input)
	}
	_ = f.Close()
}
