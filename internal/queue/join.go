package queue

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/futex"
)

// TaskDone marks one item as processed (Python: JoinableQueue.task_done).
// It returns errs.ErrTooManyReleases if every item put is already marked done.
func (c *Core) TaskDone() error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.leave()
	c.lock()
	defer c.unlock()
	s := c.load()
	if s.unfinished == 0 {
		return fmt.Errorf("%w: task marked done more often than items were put", errs.ErrTooManyReleases)
	}
	s.unfinished--
	if s.unfinished == 0 {
		s.zeroEpoch++
	}
	c.commit(s)
	c.holdLocked(-1)
	if s.unfinished == 0 && c.r.u32(offJoinSleepers).Load() != 0 {
		c.joined.ring()
	}
	return nil
}

// ConsumerDied is the error of a Join that found a process dead with items
// it got and had not marked done. It matches errs.ErrConsumerDied.
type ConsumerDied struct {
	Pid        int
	Unfinished int
}

func (e *ConsumerDied) Error() string {
	return fmt.Sprintf("mp: process %d died holding %d unfinished tasks of the queue", e.Pid, e.Unfinished)
}

// Is reports whether target is errs.ErrConsumerDied.
func (e *ConsumerDied) Is(target error) bool { return target == errs.ErrConsumerDied }

// Join waits until every item put has been marked done, or ctx ends. Like
// Python's, it returns once the count of unfinished items has been seen at
// zero, even if more items were put right after.
//
// While it waits, it looks for processes that died holding items they got
// and did not mark done, once every futex.Slice (see holders.go). Their
// items are written off, so that the count can reach zero again, and Join
// returns a *ConsumerDied naming the last such process; so does every
// other Join waiting at the time. A process that died before a Join began
// but was found by an earlier one is not reported again.
func (c *Core) Join(ctx context.Context) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.leave()
	c.lock()
	s := c.load()
	lost := c.r.u64(offLostSeq).Load()
	if s.unfinished == 0 {
		c.unlock()
		return nil
	}
	c.r.u32(offJoinSleepers).Add(1)
	c.unlock()
	defer c.unregister(offJoinSleepers)
	ready := func() bool {
		return c.r.u64(offEpochHint).Load() != s.zeroEpoch || c.r.u64(offLostSeq).Load() != lost
	}
	if err := c.waitSliced(ctx, c.joined, ready, func() { c.sweep(false) }); err != nil {
		return err
	}
	if c.r.u64(offLostSeq).Load() != lost {
		c.lock()
		defer c.unlock()
		return &ConsumerDied{Pid: int(c.r.u64(offLostPid).Load()), Unfinished: int(c.r.u64(offLostCount).Load())}
	}
	return nil
}

// waitSliced sleeps on b until ready reports true, or ctx ends, calling
// every before it first sleeps and after each futex.Slice of sleep: for
// waits that must notice a process's death, which rings no bell.
func (c *Core) waitSliced(ctx context.Context, b *bell, ready func() bool, every func()) error {
	ctx, cancel := c.opCtx(ctx)
	defer cancel()
	for {
		every()
		slice, stop := context.WithTimeout(ctx, futex.Slice)
		err := b.wait(slice, ready)
		stop()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return c.waitErr(ctx.Err())
		case !errors.Is(err, context.DeadlineExceeded):
			return c.waitErr(err)
		}
	}
}

// SetJoinable makes Gets, in every process, count the items each process
// got in the holder table, for Join to notice a consumer that dies with
// items not marked done (Python's JoinableQueue; a plain queue has no
// Join and spares the cost). Call it before the queue is shared.
func (c *Core) SetJoinable() {
	c.r.u32(offJoinable).Store(1)
}

// Unfinished returns the number of items put and not yet marked done.
func (c *Core) Unfinished() int {
	if c.enter() != nil {
		return 0
	}
	defer c.leave()
	c.lock()
	defer c.unlock()
	return int(c.load().unfinished)
}
