package queue

import (
	"context"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
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
	if s.unfinished == 0 && c.r.u32(offJoinSleepers).Load() != 0 {
		c.joined.ring()
	}
	return nil
}

// Join waits until every item put has been marked done, or ctx ends. Like
// Python's, it returns once the count of unfinished items has been seen at
// zero, even if more items were put right after.
func (c *Core) Join(ctx context.Context) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.leave()
	c.lock()
	s := c.load()
	if s.unfinished == 0 {
		c.unlock()
		return nil
	}
	c.r.u32(offJoinSleepers).Add(1)
	c.unlock()
	defer c.unregister(offJoinSleepers)
	ctx, cancel := c.opCtx(ctx)
	defer cancel()
	err := c.joined.wait(ctx, func() bool { return c.r.u64(offEpochHint).Load() != s.zeroEpoch })
	return c.waitErr(err)
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
