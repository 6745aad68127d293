package subprocess

import (
	"context"
	"syscall"
	"time"
)

// supervise is the goroutine that enforces Start's context, Options.Timeout
// and Options.WaitDelay. Its owner is the Popen; it ends when Wait finishes
// (finish joins it) or after it has stopped the process.
func (p *Popen) supervise(ctx context.Context, timeout time.Duration) {
	defer close(p.superDone)
	var deadline, delay <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	exited := p.exited
	for {
		select {
		case <-p.releasedCh:
			return
		case <-ctx.Done():
			p.stop(ctx.Err(), 0)
			return
		case <-deadline:
			p.stop(context.DeadlineExceeded, timeout)
			return
		case <-exited:
			exited = nil
			if p.waitDelay > 0 {
				t := time.NewTimer(p.waitDelay)
				defer t.Stop()
				delay = t.C
			}
		case <-delay:
			delay = nil
			p.cutPipes()
		}
	}
}

// stop ends the process and everything it left behind, unless Wait has
// already finished: SIGTERM to the group and to what the containment
// reaches, and a grace period if one was asked for (which ends early once
// the child and the others signalled have exited), then SIGKILL to them
// all; once the child is reaped, the pipes get a short drain and are cut,
// so that a descendant that escaped and still holds them cannot hang Wait
// (python/cpython#81605, golang/go#23019).
func (p *Popen) stop(cause error, timeout time.Duration) {
	p.mu.Lock()
	if p.released {
		p.mu.Unlock()
		return
	}
	p.stopCause, p.stopTimeout = cause, timeout
	p.inGrace = p.grace > 0
	p.mu.Unlock()
	if p.grace > 0 {
		deadline := time.Now().Add(p.grace)
		p.signalTree(syscall.SIGTERM)
		p.termContained(deadline)
		close(p.graceOver)
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-p.exited:
		case <-t.C:
		}
		t.Stop()
	}
	// Even when the child obeyed SIGTERM, a descendant may have ignored it.
	// The child is killed through its os.Process as well, in case it
	// left the group; then whatever the containment reaches beyond the
	// group.
	p.signalTree(syscall.SIGKILL)
	_ = p.proc.Signal(syscall.SIGKILL)
	p.killContained()
	<-p.exited
	drain := p.waitDelay
	if drain == 0 {
		drain = DefaultStopDrain
	}
	t := time.NewTimer(drain)
	defer t.Stop()
	select {
	case <-t.C:
		p.cutPipes()
	case <-p.releasedCh:
	}
}

// signalTree sends sig to the group the child leads, or to the child alone
// if it shares the parent's group. The child itself is signalled through
// its os.Process, which never signals it once reaped (see Popen); the group
// by its id, which is the child's pid: while the child is unreaped, or any
// member of the group lives, the kernel does not reuse that number.
func (p *Popen) signalTree(sig syscall.Signal) {
	if p.pgid == 0 {
		_ = p.proc.Signal(sig) // os.ErrProcessDone: it has exited
		return
	}
	_ = syscall.Kill(-p.pgid, sig) // ESRCH: the group is empty
}

// cutPipes stops the goroutines that read and write the child's pipes:
// each reads what its pipe already holds, then ends.
func (p *Popen) cutPipes() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return
	}
	p.cut = true
	close(p.cutCh)
	now := time.Now()
	for _, f := range p.watched {
		_ = f.SetDeadline(now) // os.ErrClosed: its goroutine is done
	}
}
