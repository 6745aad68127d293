package queue

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/spin"
)

// Get removes the next item and hands it to accept, which owns its
// descriptors from then on. If the queue is empty, Get waits for an item,
// or returns errs.ErrEmpty when wait is false. If ctx ends first, it
// returns an error matching errs.ErrEmpty and ctx's error. On a queue that
// was shut down, it returns errs.ErrShutDown once no item is left (see
// Shutdown). If accept returns an error, the item is removed all the same
// (it could not be used) and Get returns that error.
//
// accept runs with the queue's lock held, before the removal commits: a
// process that dies before the commit, in accept or anywhere else in Get,
// leaves the item where it was (the front of a FIFO queue, the top of a
// LIFO one, its place in a priority queue), for the next process that
// takes the lock over (see lockcore). The commit is the last thing Get
// does with the lock; from then on the item is the caller's, and a process
// that dies after it loses the item as it would any value in its memory.
// So accept must be quick (it delays every other Put and Get), and must
// not use this queue.
func (c *Core) Get(ctx context.Context, wait bool, accept func(Item) error) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.leave()
	if c.r.u32(offJoinable).Load() != 0 {
		c.claimSlot()
	}
	if wait {
		c.spinForItem()
	}
	for registered := false; ; registered = true {
		got, err := c.tryGet(wait, registered, accept)
		if err != nil || got {
			return err
		}
		if !wait {
			return errs.ErrEmpty
		}
		if err := c.waitItem(ctx); err != nil {
			c.unregister(offEmptySleepers)
			return ctxWaitErr(errs.ErrEmpty, err)
		}
	}
}

// spinForItem waits a little for an item before Get goes to sleep: a
// producer that is busy putting usually delivers within microseconds, and
// sleeping costs two system calls and a wake-up.
func (c *Core) spinForItem() {
	spin.Until(c.gettable)
}

// tryGet takes the next item, handing it to accept, if the queue holds
// one. If the queue is empty and wait is set, it registers the caller as
// a sleeper on the not-empty bell. An item of the bulk ring is copied out
// with the bulk readers' lock held and the queue's lock let go (getBulk);
// when the queue changed meanwhile, or a ticket had no datagram, tryGet
// looks again.
func (c *Core) tryGet(wait, registered bool, accept func(Item) error) (bool, error) {
	var s state
	for {
		c.lock()
		ok, err := c.frontLocked(&s, wait, registered)
		registered = false
		if !ok {
			return false, err
		}
		if c.kind == FIFO && headIsBulk(c.data, &s) {
			return c.tryGetBulk(&s, wait, accept)
		}
		got, err := c.takeAndHandOver(&s, accept)
		if err != errMoved {
			return got, err
		}
	}
}

// frontLocked, with the lock held, loads the state into s and reports
// whether the queue holds an item, keeping the lock; otherwise it releases
// the lock and returns errs.ErrShutDown for a queue shut down and drained,
// or nothing for an empty one, where wait registers the caller as a
// sleeper. registered says that the caller's last attempt registered it,
// which this one undoes first.
func (c *Core) frontLocked(s *state, wait, registered bool) (bool, error) {
	if registered {
		c.r.u32(offEmptySleepers).Add(^uint32(0))
	}
	*s = c.load()
	if c.shutGetLocked(*s) {
		c.unlock()
		return false, errs.ErrShutDown
	}
	if s.count == 0 {
		if wait && c.r.u32(offEmptySleepers).Add(1) == 1 && c.r.u32(offArmed).Load() == 0 {
			// The bell was left alone while nobody slept: make it true.
			c.syncNotEmptyLocked(*s)
		}
		c.unlock()
		return false, nil
	}
	return true, nil
}

// tryGetBulk is tryGet once it found a bulk ticket at the head of s, with
// the lock held: it takes the bulk readers' lock (first letting the
// queue's lock go if another getter has it: the bulk readers' lock comes
// first) and gets the item at the head, looking again as tryGet does.
func (c *Core) tryGetBulk(s *state, wait bool, accept func(Item) error) (bool, error) {
	if !c.rbl.TryFast() {
		c.unlock()
		c.lockBulkReaders()
		defer c.unlockBulkReaders()
		return c.getHeadAgain(wait, accept)
	}
	defer c.unlockBulkReaders()
	got, err := c.getHead(s, accept)
	if err != errMoved {
		return got, err
	}
	return c.getHeadAgain(wait, accept)
}

// getHeadAgain gets the item at the head, with the bulk readers' lock
// held and the queue's lock not, until the queue holds none or an attempt
// does not have to look again.
func (c *Core) getHeadAgain(wait bool, accept func(Item) error) (bool, error) {
	var s state
	for {
		c.lock()
		ok, err := c.frontLocked(&s, wait, false)
		if !ok {
			return false, err
		}
		got, err := c.getHead(&s, accept)
		if err != errMoved {
			return got, err
		}
	}
}

// getHead gets the item at the head of s, a bulk one (getBulk) or not,
// with the lock held, and releases it.
func (c *Core) getHead(s *state, accept func(Item) error) (bool, error) {
	if headIsBulk(c.data, s) {
		return c.getBulk(*s, accept)
	}
	return c.takeAndHandOver(s, accept)
}

// takeAndHandOver takes the next item in s, with the lock held, and hands
// it to accept (see handOverAndUnlock); it releases the lock.
func (c *Core) takeAndHandOver(s *state, accept func(Item) error) (bool, error) {
	it, ticket, err := c.takeLocked(s)
	if err == errGone {
		// The ticket has no datagram (see errGone): the queue goes on
		// without it, and a joiner learns that an item was lost.
		c.loseGoneLocked(s)
		c.commitGetLocked(*s)
		c.unlock()
		return false, errMoved
	}
	if errors.Is(err, errDamaged) {
		c.commitGetLocked(*s) // the queue goes on without it
		dropTaken(c.sock)
	}
	if err != nil {
		c.unlock()
		return false, err
	}
	return true, c.handOverAndUnlock(*s, it, ticket, accept)
}

// handOverAndUnlock gives it, the item that s no longer holds, to accept,
// then commits s and releases the lock, also when accept fails or panics
// (the item was taken). A ticket's datagram, which stayed in the socket
// until then, is dropped after the commit: a process that dies in between
// leaves a datagram whose ticket is gone, which the next ticket's Get
// discards (peekTicketLocked). On a stream (sock_stream.go) the datagram
// was taken out already, and a copy of it is held aside until the commit
// instead.
func (c *Core) handOverAndUnlock(s state, it Item, ticket bool, accept func(Item) error) error {
	defer func() {
		// Counted before the commit: a holder that dies in between is
		// written off for no more than the state says is in hand.
		c.holdLocked(1)
		c.commitGetLocked(s)
		if ticket {
			dropTaken(c.sock)
		}
		c.unlock()
	}()
	return accept(it)
}

// takeLocked reads the next item and takes it off s; the shared memory is
// not changed, so the item stays in the queue until s is committed. An
// item that came through the socket (ticket) stays there too where the
// socket allows (sock_seqpacket.go): takeLocked reads a copy of its
// datagram, with copies of its descriptors. On a stream (sock_stream.go)
// it takes the datagram out. Items of the bulk ring are taken by getBulk.
func (c *Core) takeLocked(s *state) (it Item, ticket bool, err error) {
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
			it, err = c.peekTicketLocked(it.Data)
			if err == errGone || errors.Is(err, errDamaged) {
				s.count--
				s.getSeq++
				return Item{}, false, err
			}
			if err != nil {
				return Item{}, false, err
			}
			s.count--
			s.getSeq++
			return it, true, nil
		case typ == recBulk:
			err = errCorrupt // getBulk's to take
		}
	}
	if err != nil {
		return Item{}, false, err
	}
	it.Raw = flags&flagRaw != 0
	s.count--
	s.getSeq++
	return it, false, nil
}

// loseGoneLocked counts the item of a ticket without its datagram
// (errGone), just taken off s, as lost: on a joinable queue it is no
// longer unfinished, and joiners report a consumer's death (its process
// is not known: pid 0) rather than wait for it for good. The lock is
// held; the commit that follows wakes the joiners.
func (c *Core) loseGoneLocked(s *state) {
	if c.r.u32(offJoinable).Load() == 0 || s.unfinished == 0 {
		return
	}
	s.unfinished--
	if s.unfinished == 0 {
		s.zeroEpoch++
	}
	c.r.u64(offLostPid).Store(0)
	c.r.u64(offLostCount).Store(1)
	c.r.u64(offLostSeq).Add(1)
	c.joined.ring()
}

// errGone says that a ticket's datagram is not in the socket: its sender
// committed the ticket without sending it, which a Put never does, or
// another process took the datagram out of order. errDamaged says that
// the ticket's datagram cannot be used (its descriptors did not fit: this
// process is out of them, or it is malformed). Either way the ticket is
// removed.
var (
	errGone    = errors.New("queue ticket without its datagram")
	errDamaged = errors.New("mp: a queue item that travelled through the socket was damaged on receipt")
)

// peekTicketLocked reads the item of the ticket whose payload is given
// (its sequence number) from its datagram, first in the socket, which
// stays there if the socket allows (see takePacket), or else is held aside
// until the commit (see hold), where a getter that died before its commit
// left it (takeHeld). Datagrams with lower numbers, whose senders died
// before committing their tickets, or whose receivers died after
// committing the ticket's removal and before dropping them, are discarded
// on the way.
func (c *Core) peekTicketLocked(payload []byte) (Item, error) {
	if len(payload) != seqLen {
		return Item{}, errCorrupt
	}
	want := binary.LittleEndian.Uint64(payload)
	dgram, fds, found, err := takeHeld(c.sock, want, &c.rb)
	if errors.Is(err, errCorrupt) {
		return Item{}, err
	}
	if err != nil {
		return Item{}, fmt.Errorf("%w: %w", errDamaged, err)
	}
	if found {
		return openTaken(c.sock, dgram, fds)
	}
	for {
		seq, present, err := peekSeq(c.sock[1])
		switch {
		case err != nil:
			return Item{}, err
		case !present || seq > want:
			return Item{}, errGone
		case seq < want:
			if err := discardPacket(c.sock[1]); err != nil {
				return Item{}, err
			}
			continue
		}
		dgram, fds, err := takePacket(c.sock[1], &c.rb)
		if errors.Is(err, errCorrupt) {
			return Item{}, err
		}
		if err != nil {
			return Item{}, fmt.Errorf("%w: %w", errDamaged, err)
		}
		return openTaken(c.sock, dgram, fds)
	}
}

// openTaken holds a copy of a datagram just taken (see hold), and turns it
// into its item.
func openTaken(sock [2]int, dgram []byte, fds []int) (Item, error) {
	hold(sock, dgram, fds)
	it, err := openPacket(dgram, fds)
	if err != nil {
		return Item{}, fmt.Errorf("%w: %w", errDamaged, err)
	}
	return it, nil
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
		// Every sleeper registered until now wakes, looks again and
		// registers anew if it still finds no room: until one does, the
		// Gets that follow have nobody to ring for. Without this, each
		// Get until the sleepers ran would ring again, a system call
		// each.
		c.r.u64(offNeedMain).Store(rung)
		c.r.u64(offNeedBulk).Store(rung)
	}
}

// rung, as the need of the space sleepers, says that every one of them
// was woken since it registered.
const rung = ^uint64(0)

// roomyLocked reports whether s leaves room worth waking putters for: a
// slot just freed in a full bounded queue, the free memory the sleepers
// need (see sleepSpaceLocked), or an empty queue. Waking putters at every
// removal would cost a system call each.
func (c *Core) roomyLocked(s state) bool {
	main, bulk := c.r.u64(offNeedMain).Load(), c.r.u64(offNeedBulk).Load()
	switch {
	case main == rung && bulk == rung:
		return false
	case s.count == 0:
		return true
	case c.maxsize > 0 && s.count+s.reserved+1 == uint64(c.maxsize):
		return true
	}
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
