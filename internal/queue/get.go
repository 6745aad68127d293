package queue

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/spin"
)

// Get removes the next item and returns it; the caller owns its
// descriptors. If the queue is empty, Get waits for an item, or returns
// errs.ErrEmpty when wait is false. If ctx ends first, it returns an error
// matching errs.ErrEmpty and ctx's error. On a queue that was shut down,
// it returns errs.ErrShutDown once no item is left (see Shutdown).
func (c *Core) Get(ctx context.Context, wait bool) (Item, error) {
	if err := c.enter(); err != nil {
		return Item{}, err
	}
	defer c.leave()
	if c.r.u32(offJoinable).Load() != 0 {
		c.claimSlot()
	}
	if wait {
		c.spinForItem()
	}
	for registered := false; ; registered = true {
		it, got, err := c.tryGet(wait, registered)
		if err != nil || got {
			return it, err
		}
		if !wait {
			return Item{}, errs.ErrEmpty
		}
		if err := c.waitItem(ctx); err != nil {
			c.unregister(offEmptySleepers)
			return Item{}, ctxWaitErr(errs.ErrEmpty, err)
		}
	}
}

// spinForItem waits a little for an item before Get goes to sleep: a
// producer that is busy putting usually delivers within microseconds, and
// sleeping costs two system calls and a wake-up.
func (c *Core) spinForItem() {
	spin.Until(c.gettable)
}

// tryGet makes one attempt under the lock. If the queue is empty and wait
// is set, it registers the caller as a sleeper on the not-empty bell.
func (c *Core) tryGet(wait, registered bool) (Item, bool, error) {
	c.lock()
	if registered {
		c.r.u32(offEmptySleepers).Add(^uint32(0))
	}
	s := c.load()
	if c.shutGetLocked(s) {
		c.unlock()
		return Item{}, false, errs.ErrShutDown
	}
	if s.count == 0 {
		if wait && c.r.u32(offEmptySleepers).Add(1) == 1 && c.r.u32(offArmed).Load() == 0 {
			// The bell was left alone while nobody slept: make it true.
			c.syncNotEmptyLocked(s)
		}
		c.unlock()
		return Item{}, false, nil
	}
	it, dgram, err := c.takeLocked(&s)
	for err == errGone {
		// The ticket's item went to a consumer that died before it
		// committed: it counts as taken. Go on to the next item.
		c.commitGetLocked(s)
		if s.count == 0 {
			c.unlock()
			return Item{}, false, nil
		}
		it, dgram, err = c.takeLocked(&s)
	}
	if errors.Is(err, errDamaged) {
		c.commitGetLocked(s) // taken from the socket: the queue goes on without it
	}
	if err != nil {
		c.unlock()
		return Item{}, false, err
	}
	// Counted before the commit: a holder that dies in between is
	// written off for no more than the state says is in hand.
	c.holdLocked(1)
	c.commitGetLocked(s)
	c.unlock()
	if dgram != nil {
		it, err = openPacket(dgram, it.FDs)
		if err != nil {
			return Item{}, false, err
		}
	}
	return it, true, nil
}

// takeLocked removes the next item from s. An item that came through the
// socket is returned as its datagram (with the item's descriptors), to be
// opened once the lock is released.
func (c *Core) takeLocked(s *state) (it Item, dgram []byte, err error) {
	var flags byte
	switch {
	case c.kind != FIFO:
		it.Data, flags, err = c.stackPop(s)
	default:
		var typ byte
		typ, flags, it.Data, err = ringPop(c.data, &s.head, s.tail)
		switch {
		case err != nil:
		case typ == recTicket:
			dgram, it.FDs, err = c.recvTicketLocked(it.Data)
			it.Data = nil
			if err == errGone || errors.Is(err, errDamaged) {
				s.count--
				s.getSeq++
				return Item{}, nil, err
			}
		case typ == recBulk:
			var btyp byte
			btyp, flags, it.Data, err = ringPop(c.bulk, &s.bulkHead, s.bulkTail)
			if err == nil && btyp != recInline {
				err = errCorrupt
			}
		}
	}
	if err != nil {
		return Item{}, nil, err
	}
	it.Raw = flags&flagRaw != 0
	s.count--
	s.getSeq++
	return it, dgram, nil
}

// errGone says that a ticket's datagram is no longer in the socket: a
// consumer took it and died before committing the ticket's removal.
// errDamaged says that the ticket's datagram was taken from the socket but
// cannot be used (its descriptors did not fit: this process is out of
// them). Either way the ticket is removed.
var (
	errGone    = errors.New("queue ticket without its datagram")
	errDamaged = errors.New("mp: a queue item that travelled through the socket was damaged on receipt")
)

// recvTicketLocked receives the datagram of the ticket whose payload is
// given: its sequence number. Datagrams with lower numbers, whose senders
// died before committing their tickets, are discarded on the way.
func (c *Core) recvTicketLocked(payload []byte) ([]byte, []int, error) {
	if len(payload) != seqLen {
		return nil, nil, errCorrupt
	}
	want := binary.LittleEndian.Uint64(payload)
	for {
		seq, present, err := peekSeq(c.sock[1])
		switch {
		case err != nil:
			return nil, nil, err
		case !present || seq > want:
			return nil, nil, errGone
		case seq < want:
			discardPacket(c.sock[1], &c.rb)
			continue
		}
		dgram, fds, err := recvPacket(c.sock[1], &c.rb)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", errDamaged, err)
		}
		return dgram, fds, nil
	}
}

// commitGetLocked commits a state with fewer items, keeps the not-empty
// bell true and wakes putters waiting for room.
func (c *Core) commitGetLocked(s state) {
	c.commit(s)
	if s.count == 0 && c.maintainLocked() && c.shutState() == open {
		c.notEmpty.silence()
	}
	if c.r.u32(offSpaceSleepers).Load() != 0 && c.roomyLocked(s) {
		c.space.ring()
	}
}

// roomyLocked reports whether s leaves room worth waking putters for: a
// slot just freed in a full bounded queue, the free memory the sleepers
// need (see sleepSpaceLocked), or an empty queue. Waking putters at every
// removal would cost a system call each.
func (c *Core) roomyLocked(s state) bool {
	switch {
	case s.count == 0:
		return true
	case c.maxsize > 0 && s.count+s.reserved+1 == uint64(c.maxsize):
		return true
	}
	main, bulk := c.r.u64(offNeedMain).Load(), c.r.u64(offNeedBulk).Load()
	if c.kind != FIFO {
		return uint64(len(c.data)) >= s.head-s.tail+idxEntry*s.count+main
	}
	return ringFree(c.data, s.head, s.tail) >= main && ringFree(c.bulk, s.bulkHead, s.bulkTail) >= bulk
}

// waitItem sleeps until the queue holds an item or is shut down, or ctx
// ends.
func (c *Core) waitItem(ctx context.Context) error {
	if c.shutState() != open {
		return c.waitShutItem(ctx)
	}
	ctx, cancel := c.opCtx(ctx)
	defer cancel()
	err := c.notEmpty.wait(ctx, func() bool { return c.r.u64(offCountHint).Load() != 0 || c.shutState() != open })
	return c.waitErr(err)
}
