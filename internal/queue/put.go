package queue

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
)

// Item is an item in its encoded form: its bytes and the descriptors of the
// handles inside it.
type Item struct {
	Data []byte
	FDs  []int
	// Raw marks bytes that are the item itself rather than its encoding
	// (a []byte item skips the codec); it travels with the item.
	Raw bool
	// After, for a priority queue, reports whether the existing item whose
	// bytes it is given comes out after this one.
	After func(existing []byte) bool
	// owned marks raw bytes already copied by Put, which a buffer can keep.
	owned bool
}

func (it Item) flags() byte {
	if it.Raw {
		return flagRaw
	}
	return 0
}

// Put adds it to the queue, taking ownership of its descriptors (Put
// copies its bytes before it returns). If the queue holds maxsize items,
// Put waits for one to be taken (or returns errs.ErrFull when wait is false). If
// the shared memory has no room, a buffered Core keeps the item in this
// process (a feeder goroutine moves it over as room appears, keeping this
// process's items in order); an unbuffered one, or a buffered one that
// found no slot in the holder table (see claimSlot), waits, or returns
// errs.ErrFull when wait is false. If ctx ends first, Put returns an error matching
// errs.ErrFull and ctx's error. On a queue that was shut down, it returns
// errs.ErrShutDown, also to a Put that was waiting.
func (c *Core) Put(ctx context.Context, it Item, wait bool) error {
	if err := c.enter(); err != nil {
		descr.Close(it.FDs)
		return err
	}
	defer c.leave()
	pk, err := c.prepare(it)
	if err != nil {
		descr.Close(it.FDs)
		return err
	}
	done := false
	defer func() {
		if !done {
			pk.release()
			descr.Close(it.FDs)
		}
	}()
	if it.Raw && c.buffered && c.fd.has() {
		// This process buffers items already, so this one will be
		// buffered too (see tryPut): copy it before taking the lock, not
		// while every other Put and Get waits.
		it.Data, it.owned = slices.Clone(it.Data), true
	}
	registered := false // as a space sleeper, by the last attempt
	for {
		res, snap, drained, err := c.tryPut(it, pk, wait, registered)
		registered = false
		switch {
		case err != nil:
			return err
		case res == putDone:
			descr.Close(it.FDs)
			pk.release()
			done = true
			return nil
		case res == putBuffered:
			done = true
			return nil
		case res == putClaim:
			c.claimSlot()
			continue
		case !wait:
			return errs.ErrFull
		case res == putOverLimit:
			if err := c.waitDrained(ctx, drained); err != nil {
				return ctxWaitErr(errs.ErrFull, err)
			}
			continue
		}
		registered = true
		if err := c.waitSpace(ctx, snap); err != nil {
			c.lock()
			c.wakeSpaceLocked()
			c.unlock()
			return ctxWaitErr(errs.ErrFull, err)
		}
	}
}

type putResult int

const (
	putDone      putResult = iota // in the shared queue
	putBuffered                   // kept in this process for the feeder
	putNoRoom                     // no room; the caller sleeps on the space bell
	putOverLimit                  // no room, and the buffer is full
	putClaim                      // to be buffered, once this process has a holder slot
)

// prepare checks it against the queue's kind and, for a FIFO item that
// goes through the socket, makes its packet (outside the lock).
func (c *Core) prepare(it Item) (*packet, error) {
	if c.kind != FIFO {
		if len(it.FDs) > 0 {
			return nil, fmt.Errorf("%w: a LIFO or priority queue keeps its items in shared memory only; use a FIFO queue", errs.ErrHandles)
		}
		if recHdr+pad8(len(it.Data))+2*idxEntry > len(c.data) {
			return nil, fmt.Errorf("%w: an item of %d bytes does not fit the queue's %d bytes of shared memory", errs.ErrItemTooLarge, len(it.Data), len(c.data))
		}
		return nil, nil
	}
	if len(it.FDs) == 0 && len(it.Data) <= c.bulkMax {
		return nil, nil
	}
	if len(it.Data) > maxBlobBytes {
		return nil, fmt.Errorf("%w: a queue item of %d bytes, at most %d", errs.ErrItemTooLarge, len(it.Data), maxBlobBytes)
	}
	return makePacket(it.Data, it.FDs, it.flags())
}

// tryPut makes one attempt under the lock. When it returns putNoRoom with
// wait set, the caller is registered as a space sleeper, and snap is what
// to wait past; with putOverLimit, drained is closed once the buffer has
// room again.
func (c *Core) tryPut(it Item, pk *packet, wait, registered bool) (res putResult, snap spaceSnap, drained chan struct{}, err error) {
	if c.isBulk(it, pk) {
		return c.tryPutBulk(it, wait, registered)
	}
	c.lock()
	defer c.unlock()
	return c.tryPutLocked(it, pk, wait, registered)
}

// tryPutLocked is tryPut with the queue's lock held (and, for an item
// bound for the bulk ring, the bulk writers' lock).
func (c *Core) tryPutLocked(it Item, pk *packet, wait, registered bool) (res putResult, snap spaceSnap, drained chan struct{}, err error) {
	if registered {
		c.wakeSpaceLocked()
	}
	if c.shutState() != open {
		return 0, snap, nil, errs.ErrShutDown
	}
	s := c.load()
	if c.maxsize > 0 && s.count+s.reserved >= uint64(c.maxsize) {
		res, snap = c.noRoomLocked(s, wait, c.needOf(s, it, pk, false))
		return res, snap, nil, nil
	}
	stored := false
	if !c.buffered || !c.fd.has() {
		if stored, err = c.storeLocked(&s, it, pk); err != nil {
			return 0, snap, nil, err
		}
	}
	switch {
	case stored:
		s.unfinished++
		c.commitPutLocked(s)
		return putDone, snap, nil, nil
	case !c.buffered || c.me.Load() < 0:
		// Without a slot, items buffered here would go uncounted, and a
		// Get of a queue shut down would wait for them forever if this
		// process died (see claimSlot): the Put waits for room instead.
		res, snap = c.noRoomLocked(s, wait, c.needOf(s, it, pk, false))
		return res, snap, nil, nil
	}
	if over, drained := c.fd.overLimit(); over {
		return putOverLimit, snap, drained, nil
	}
	if c.me.Load() == 0 {
		// The slot counts what this process buffers; claiming it may
		// sweep the table, which takes the lock.
		return putClaim, snap, nil, nil
	}
	c.bufferLocked(s, it, pk)
	return putBuffered, snap, nil, nil
}

func (c *Core) noRoomLocked(s state, wait bool, n need) (putResult, spaceSnap) {
	if wait {
		c.sleepSpaceLocked(n)
	}
	return putNoRoom, c.spaceSnapLocked(s)
}

// spaceSnap is what a space sleeper waits past: the count of removals, and
// the shutdown state (a Put fails once the queue is shut down; a feeder
// drops its items once it is shut down with immediate).
type spaceSnap struct {
	getSeq uint64
	shut   uint32
}

func (c *Core) spaceSnapLocked(s state) spaceSnap {
	return spaceSnap{s.getSeq, c.shutState()}
}

// waitDrained waits until drained is closed, or ctx ends.
func (c *Core) waitDrained(ctx context.Context, drained chan struct{}) error {
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.life.Done():
		return errs.ErrClosed
	}
}

// need is the free memory a space sleeper waits for: bytes of the data
// area and of the bulk ring.
type need struct{ main, bulk uint64 }

// needOf returns the room it needs in s, counting a wrap record in front
// of it. A feeder (batch) waits for a quarter of the data area at least, so
// that it wakes once per batch rather than at every removal.
func (c *Core) needOf(s state, it Item, pk *packet, batch bool) need {
	var n need
	switch {
	case c.kind != FIFO:
		n.main = uint64(recHdr + pad8(len(it.Data)) + idxEntry)
	case pk != nil:
		n.main = uint64(ringNeed(len(c.data), s.tail, seqLen))
	case len(it.Data) <= c.inline:
		n.main = uint64(ringNeed(len(c.data), s.tail, len(it.Data)))
	default:
		n.main = uint64(ringNeed(len(c.data), s.tail, 0))
		n.bulk = uint64(ringNeed(len(c.bulk), s.bulkTail, len(it.Data)))
	}
	if batch {
		n.main = max(n.main, uint64(len(c.data))/4)
	}
	return n
}

// sleepSpaceLocked registers a space sleeper that needs n: getters ring
// the space bell once the smallest need of the sleepers is free.
func (c *Core) sleepSpaceLocked(n need) {
	main, bulk := c.r.u64(offNeedMain), c.r.u64(offNeedBulk)
	if c.r.u32(offSpaceSleepers).Add(1) == 1 {
		main.Store(n.main)
		bulk.Store(n.bulk)
		return
	}
	main.Store(min(main.Load(), n.main))
	bulk.Store(min(bulk.Load(), n.bulk))
}

// wakeSpaceLocked unregisters a space sleeper.
func (c *Core) wakeSpaceLocked() {
	c.r.u32(offSpaceSleepers).Add(^uint32(0))
}

// storeLocked stores the item in the shared queue, if it fits, and counts
// it; the caller commits s.
func (c *Core) storeLocked(s *state, it Item, pk *packet) (bool, error) {
	var ok bool
	var err error
	switch {
	case c.kind != FIFO:
		ok, err = c.stackPush(s, it.Data, it.flags(), it.After)
	case !ringSane(c.data, s.head, s.tail) || !ringSane(c.bulk, s.bulkHead, s.bulkTail):
		err = errCorrupt
	case pk != nil:
		ok, err = c.sendLocked(s, pk)
	case len(it.Data) <= c.inline:
		ok = ringPush(c.data, s.head, &s.tail, recInline, it.flags(), it.Data)
	default:
		ok = ringFits(c.data, s.head, s.tail, 0) && ringPush(c.bulk, s.bulkHead, &s.bulkTail, recInline, it.flags(), it.Data)
		if ok {
			ringPush(c.data, s.head, &s.tail, recBulk, 0, nil)
		}
	}
	if ok {
		s.count++
	}
	return ok, err
}

// sendLocked sends pk's datagram and writes its ticket, if both fit. Both
// carry the next sequence number, so that a consumer can tell the ticket's
// datagram from one whose sender died before committing its ticket, or
// whose receiver died after committing the ticket's removal and before
// dropping it (see peekTicketLocked).
func (c *Core) sendLocked(s *state, pk *packet) (bool, error) {
	if !ringFits(c.data, s.head, s.tail, seqLen) {
		return false, nil
	}
	seq := c.r.u64(offSockSeq).Add(1) // a number lost to a failed send is harmless
	pk.setSeq(seq)
	sent, err := trySend(c.sock[0], pk)
	if !sent || err != nil {
		return false, err
	}
	ringPush(c.data, s.head, &s.tail, recTicket, 0, binary.LittleEndian.AppendUint64(nil, seq))
	return true, nil
}

// commitPutLocked commits a state with more items and wakes getters.
func (c *Core) commitPutLocked(s state) {
	was := c.r.u64(offCountHint).Load()
	c.commit(s)
	if was == 0 && s.count > 0 && c.maintainLocked() {
		c.notEmpty.ring()
	}
}

// waitSpace sleeps until the space bell rings for removals or a shutdown
// after snap, or ctx ends.
func (c *Core) waitSpace(ctx context.Context, snap spaceSnap) error {
	ctx, cancel := c.opCtx(ctx)
	defer cancel()
	err := c.space.wait(ctx, func() bool {
		return c.r.u64(offGetSeqHint).Load() != snap.getSeq || c.shutState() != snap.shut
	})
	return c.waitErr(err)
}

// unregister takes a sleeper off the count at off.
func (c *Core) unregister(off int) {
	c.lock()
	c.r.u32(off).Add(^uint32(0))
	c.unlock()
}

// ownBytes returns it with its bytes copied if they are the caller's (raw),
// for an item kept past Put.
func ownBytes(it Item) Item {
	if it.Raw && !it.owned {
		it.Data = slices.Clone(it.Data)
	}
	return it
}
