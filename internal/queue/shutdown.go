package queue

import (
	"context"
)

// A queue's shutdown state lives in its header (offShutdown), so that every
// process holding the queue sees it, including one that receives the queue
// afterwards. It only grows: open, then shutDrain (Python:
// shutdown(immediate=False)), then shutNow (immediate=True).
const (
	open uint32 = iota
	shutDrain
	shutNow
)

func (c *Core) shutState() uint32 { return c.r.u32(offShutdown).Load() }

// Shutdown shuts the queue down for every process that holds it (Python
// 3.13: Queue.shutdown). From then on, Put returns errs.ErrShutDown; Get
// returns the items left, including those producers still buffer, and
// then errs.ErrShutDown. With immediate, the items left in the shared
// queue are discarded at once, each counting as done for Join, feeders in
// every process drop what they buffer, and Get returns errs.ErrShutDown at
// once. Every sleeper in every process wakes to look. Shutting down twice
// is allowed; immediate after drain discards what is left then.
func (c *Core) Shutdown(immediate bool) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.leave()
	mode := shutDrain
	if immediate {
		mode = shutNow
	}
	c.lock()
	defer c.unlock()
	if c.shutState() < mode {
		c.r.u32(offShutdown).Store(mode)
	}
	if immediate {
		c.discardLocked()
	}
	c.notEmpty.ring() // kept readable from now on: a Get no longer waits
	c.space.ring()
	return nil
}

// discardLocked empties the shared queue, counting each item removed as
// done (Python does the same).
func (c *Core) discardLocked() {
	s := c.load()
	n := s.count
	if n == 0 {
		return
	}
	if c.kind == FIFO {
		s.head, s.bulkHead = s.tail, s.bulkTail
		c.drainSocketLocked()
	} else {
		s.head, s.tail = 0, 0
	}
	s.count = 0
	s.getSeq++
	was := s.unfinished
	s.unfinished -= min(n, s.unfinished)
	if s.unfinished == 0 && was != 0 {
		s.zeroEpoch++
	}
	c.commit(s)
	c.joined.ring()
}

// drainSocketLocked removes every datagram from the queue's socket, with
// the descriptors that came with them. Sends happen under the lock, so
// every datagram there belongs to a ticket being discarded, or to a
// producer that died before writing its ticket.
func (c *Core) drainSocketLocked() {
	for {
		_, present, err := peekSeq(c.sock[1])
		if err != nil || !present || discardPacket(c.sock[1]) != nil {
			return
		}
	}
}

// gettable reports whether a Get need not wait: the queue holds an item,
// or was shut down and has none left to come.
func (c *Core) gettable() bool {
	switch c.shutState() {
	case open:
		return c.r.u64(offCountHint).Load() != 0
	case shutDrain:
		return c.r.u64(offCountHint).Load() != 0 || c.r.u64(offReservedHint).Load() == 0
	}
	return true
}

// shutGetLocked reports whether a Get on s must return errs.ErrShutDown.
func (c *Core) shutGetLocked(s state) bool {
	switch c.shutState() {
	case open:
		return false
	case shutDrain:
		return s.count == 0 && s.reserved == 0
	}
	return true
}

// waitShutItem sleeps until a Get on a queue that was shut down need not
// wait, or ctx ends. Only items that live producers buffer are still to
// come: the wait looks for dead ones once a slice, since their items never
// will.
func (c *Core) waitShutItem(ctx context.Context) error {
	return c.waitSliced(ctx, c.notEmpty, c.gettable, func() { c.sweep(false) })
}
