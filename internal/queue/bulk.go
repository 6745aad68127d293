package queue

import (
	"context"
	"errors"

	"github.com/mpgo/mp/internal/errs"
)

// A FIFO item of the bulk ring is copied in, and out, outside the queue's
// lock, so that a large copy does not hold up every other Put and Get:
// a putter's copy in and a getter's copy out run at the same time.
//
// Bulk putters take the bulk writers' lock first (offBulkLock, a
// lockcore.Mutex; always before the queue's lock), under which the bulk
// ring's tail cannot move: every record of the bulk ring is pushed with it
// held. A putter then looks under the queue's lock for room, lets the lock
// go, writes its record past the committed tail, where no reader looks and
// the free space can only grow (getters only move the head), and takes
// the lock again to put the record's ticket into the main ring and commit
// both. A putter that dies before the commit leaves bytes past the tail,
// which nothing reads, and the bulk writers' lock, which the next bulk
// putter takes over: there is nothing to repair.

// Bulk getters take the bulk readers' lock (offBulkReadLock) before they
// take an item of the bulk ring, under which the bulk ring's head, and the
// ticket at the head of the main ring, stay where they are: a getter that
// finds a bulk ticket at the head lets the queue's lock go, copies the
// record out, takes the lock again and hands the item over and commits as
// any Get does. A getter that dies before the commit leaves the item in
// the queue, and the lock to the next bulk getter. The one other change
// of the bulk ring's head, a shutdown with immediate, makes the getter
// look again (errMoved), without the copy it made.

// lockBulk takes the bulk writers' lock.
func (c *Core) lockBulk() {
	if c.blk.TryFast() {
		return
	}
	c.blk.Lock(context.Background()) // taken over from a dead putter: nothing to repair
}

func (c *Core) unlockBulk() { c.blk.Unlock() }

// isBulk reports whether it (with its packet, pk) goes to the bulk ring.
func (c *Core) isBulk(it Item, pk *packet) bool {
	return c.kind == FIFO && pk == nil && len(it.Data) > c.inline
}

// tryPutBulk is tryPut for an item bound for the bulk ring: the copy of
// its bytes is made with the bulk writers' lock held and the queue's lock
// free whenever the queue has room for it at once; otherwise it goes as
// tryPut puts it, under both locks.
func (c *Core) tryPutBulk(it Item, wait, registered bool) (putResult, spaceSnap, chan struct{}, error) {
	c.lockBulk()
	defer c.unlockBulk()
	c.lock()
	s := c.load()
	if !c.bulkFitsLocked(s, it) {
		defer c.unlock()
		return c.tryPutLocked(it, nil, wait, registered)
	}
	if registered {
		c.wakeSpaceLocked()
	}
	c.unlock()

	end := s.bulkTail
	ringPush(c.bulk, s.bulkHead, &end, recInline, it.flags(), it.Data) // fits: checked, and the free space only grew
	c.copied()

	c.lock()
	defer c.unlock()
	now := c.load()
	if now.bulkTail != s.bulkTail {
		return 0, spaceSnap{}, nil, errCorrupt // moved without the bulk writers' lock
	}
	if !c.bulkFitsLocked(now, it) {
		// Shut down, full, or the main ring filled meanwhile: the record
		// written stays unused.
		return c.tryPutLocked(it, nil, wait, false)
	}
	ringPush(c.data, now.head, &now.tail, recBulk, 0, nil)
	now.bulkTail = end
	now.count++
	now.unfinished++
	c.commitPutLocked(now)
	return putDone, spaceSnap{}, nil, nil
}

// bulkFitsLocked reports whether a bulk item can go into the queue in s
// at once: the queue is open and below maxsize, this process buffers
// nothing (its items keep their order through the buffer), and both rings
// have room.
func (c *Core) bulkFitsLocked(s state, it Item) bool {
	switch {
	case c.shutState() != open,
		c.maxsize > 0 && s.count+s.reserved >= uint64(c.maxsize),
		c.buffered && c.fd.has():
		return false
	}
	ok, err := c.bulkRoom(s, len(it.Data))
	return ok && err == nil // memory found corrupt is reported by storeLocked
}

// bulkRoom reports whether both rings in s have room for an item of n
// bytes of the bulk ring and its ticket, or errCorrupt if their positions
// are not ones this package writes.
func (c *Core) bulkRoom(s state, n int) (bool, error) {
	if !ringSane(c.data, s.head, s.tail) || !ringSane(c.bulk, s.bulkHead, s.bulkTail) {
		return false, errCorrupt
	}
	return ringFits(c.data, s.head, s.tail, 0) && ringFits(c.bulk, s.bulkHead, s.bulkTail, n), nil
}

// lockBulkReaders takes the bulk readers' lock.
func (c *Core) lockBulkReaders() {
	c.rbl.Lock(context.Background()) // taken over from a dead getter: nothing to repair
}

func (c *Core) unlockBulkReaders() { c.rbl.Unlock() }

// errMoved says that the queue changed while its lock was let go, or that
// tryGet should look again: it never leaves the package.
var errMoved = errors.New("queue moved meanwhile")

// headIsBulk reports whether the record at the head of the main ring in s
// is a bulk ticket (after a wrap record, if one is there). A state whose
// head is not a record's place is left to takeLocked, which reports it.
func headIsBulk(d []byte, s *state) bool {
	if s.head%8 != 0 || len(d)%8 != 0 || len(d) == 0 {
		return false
	}
	off := int(s.head % uint64(len(d))) // at most len(d)-8
	if d[off+4] == recWrap {
		off = 0
	}
	return d[off+4] == recBulk
}

// getBulk takes the item of the bulk ticket at the head of s, with the
// queue's lock and the bulk readers' lock held: it copies the item out
// with the queue's lock let go, then hands it to accept and commits as
// handOverAndUnlock does. It releases the queue's lock.
func (c *Core) getBulk(s state, accept func(Item) error) (bool, error) {
	taken := s
	_, _, _, err := ringNext(c.data, &taken.head, taken.tail)
	var typ, flags byte
	var view []byte
	if err == nil {
		typ, flags, view, err = ringNext(c.bulk, &taken.bulkHead, taken.bulkTail)
	}
	if err == nil && typ != recInline {
		err = errCorrupt
	}
	c.unlock()
	if err != nil {
		return false, err
	}
	// Appending to nil makes memory that is not cleared first.
	data := append([]byte(nil), view...)
	c.copied()
	c.lock()
	now := c.load()
	if now.head != s.head || now.bulkHead != s.bulkHead {
		c.unlock()
		return false, errMoved
	}
	now.head, now.bulkHead = taken.head, taken.bulkHead
	now.count--
	now.getSeq++
	return true, c.handOverAndUnlock(now, Item{Data: data, Raw: flags&flagRaw != 0}, false, accept)
}

// moveBulkLocked moves the first buffered item, bound for the bulk ring,
// into the queue if it has room, and reports whether it did. It is called
// by the feeder with the bulk writers' lock, the queue's lock and f.mu
// held, and lets the last two go while it copies the item in: Puts may
// add items behind it meanwhile, and only the feeder takes them out
// (Close drops them once the feeder has stopped).
func (c *Core) moveBulkLocked(f *feeder) (bool, error) {
	b := f.items[0]
	s := c.load()
	if ok, err := c.bulkRoom(s, len(b.it.Data)); !ok {
		return false, err
	}
	f.mu.Unlock()
	c.unlock()
	end := s.bulkTail
	ringPush(c.bulk, s.bulkHead, &end, recInline, b.it.flags(), b.it.Data)
	c.copied()
	c.lock()
	f.mu.Lock()
	now := c.load()
	if now.bulkTail != s.bulkTail {
		return false, errCorrupt // moved without the bulk writers' lock
	}
	if c.shutState() == shutNow {
		return false, errs.ErrShutDown
	}
	if ok, err := c.bulkRoom(now, len(b.it.Data)); !ok {
		return false, err // or the main ring filled meanwhile
	}
	ringPush(c.data, now.head, &now.tail, recBulk, 0, nil)
	now.bulkTail = end
	now.count++
	now.reserved--
	clear(f.items[:1])
	f.items = f.items[1:]
	f.n.Store(int64(len(f.items)))
	f.shrunkLocked(len(b.it.Data))
	f.bulk--
	c.commitPutLocked(now)
	c.reserveLocked(-1) // after the commit: see reserveLocked
	return true, nil
}

// copied runs the atBulkCopy hook, if a test set one.
func (c *Core) copied() {
	if c.atBulkCopy != nil {
		c.atBulkCopy()
	}
}
