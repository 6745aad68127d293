package queue

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
)

// feeder holds the items a buffered Core accepted while the shared queue
// had no room, and runs the goroutine that moves them over in order (the
// part of Python's feeder thread that mp still needs: an unbounded Put
// never waits). Items moved in one go are committed together, which makes
// a burst of small puts cheap.
type feeder struct {
	// mu guards the fields below. Under the shared lock it is taken after
	// it, never before.
	mu        sync.Mutex
	n         atomic.Int64 // len(items), read without mu
	items     []buffered
	bytes     int // of the items' data
	bulk      int // items bound for the bulk ring (see moveBuffered)
	running   bool
	done      chan struct{} // closed when the running goroutine returns
	cancelled bool          // CancelFlush was called
	// drained, if not nil, is closed once bytes falls below half of
	// maxBuffered (or the feeder stops): putters over the limit wait on it.
	drained chan struct{}
}

// maxBuffered bounds the bytes one Core keeps buffered. Python's feeder
// holds references to the objects put; Go must copy them, so an unbounded
// buffer of a producer much faster than its consumers would grow without
// limit. Past it, Put waits for the feeder (see Core.Put).
const maxBuffered = 16 << 20

// overLimit reports whether the buffer is full, and if so returns a
// channel that is closed once it has drained.
func (f *feeder) overLimit() (bool, chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bytes < maxBuffered {
		return false, nil
	}
	if f.drained == nil {
		f.drained = make(chan struct{})
	}
	return true, f.drained
}

// shrunkLocked notes that n bytes left the buffer. f.mu is held.
func (f *feeder) shrunkLocked(n int) {
	f.bytes -= n
	if f.bytes < maxBuffered/2 || len(f.items) == 0 {
		f.releaseDrainedLocked()
	}
}

// releaseDrainedLocked wakes the putters waiting for the buffer to drain.
// f.mu is held.
func (f *feeder) releaseDrainedLocked() {
	if f.drained != nil {
		close(f.drained)
		f.drained = nil
	}
}

type buffered struct {
	it Item
	pk *packet
}

// hasBulk reports whether an item bound for the bulk ring is buffered.
func (f *feeder) hasBulk() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bulk > 0
}

// has reports whether items are buffered. Items are added under the
// shared lock, which the caller holds.
func (f *feeder) has() bool { return f.n.Load() > 0 }

// feeding tracks the Cores of this process whose feeder runs, for FlushAll.
var feeding struct {
	sync.Mutex
	cores map[*Core]bool
}

// bufferLocked keeps it in this process, counting it in the shared state
// as reserved, and starts the feeder if it is not running.
func (c *Core) bufferLocked(s state, it Item, pk *packet) {
	s.reserved++
	s.unfinished++
	c.reserveLocked(1) // before the commit: see reserveLocked
	c.commit(s)
	f := &c.fd
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, buffered{ownBytes(it), pk})
	f.n.Store(int64(len(f.items)))
	f.bytes += len(it.Data)
	if c.isBulk(it, pk) {
		f.bulk++
	}
	if !f.running {
		f.running, f.done = true, make(chan struct{})
		feeding.Lock() // taken under f.mu, here and in stopFeed
		if feeding.cores == nil {
			feeding.cores = map[*Core]bool{}
		}
		feeding.cores[c] = true
		feeding.Unlock()
		go c.feed(f.done)
	}
}

// feed moves buffered items into the shared queue until none is left, or
// the Core closes (then the rest is dropped).
func (c *Core) feed(done chan struct{}) {
	defer close(done)
	ctx, cancel := c.opCtx(context.Background())
	defer cancel()
	registered := false // as a space sleeper, by the last moveBuffered
	for {
		more, snap, err := c.moveBuffered(registered)
		registered = false
		if err == errMoved {
			continue // a bulk item came while it held no bulk writers' lock
		}
		if err == nil && more {
			registered = true
			if err = c.waitSpace(ctx, snap); err != nil {
				c.lock()
				c.wakeSpaceLocked()
				c.unlock()
				registered = false
			}
		}
		if err != nil {
			c.dropBuffered()
		}
		if (err != nil || !more) && c.stopFeed() {
			return
		}
	}
}

// stopFeed ends the feeder unless a Put buffered an item since it last
// looked, and reports whether it ended.
func (c *Core) stopFeed() bool {
	f := &c.fd
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.items) > 0 && c.life.Err() == nil {
		return false
	}
	f.running = false
	f.releaseDrainedLocked()
	feeding.Lock()
	delete(feeding.cores, c)
	feeding.Unlock()
	return true
}

// moveBuffered moves as many buffered items as fit. If some are left, it
// registers the feeder as a space sleeper and returns what to wait past.
// Once the queue is shut down, putters waiting for the buffer to drain are
// released (they fail); once it is shut down with immediate, the items are
// dropped instead (moveBuffered returns errs.ErrShutDown).
func (c *Core) moveBuffered(registered bool) (more bool, snap spaceSnap, err error) {
	// The bulk writers' lock comes first, and only when a bulk item is
	// buffered: other feeders need not wait for a bulk copy in.
	bulk := c.kind == FIFO && c.fd.hasBulk()
	if bulk {
		c.lockBulk()
		defer c.unlockBulk()
	}
	c.lock()
	defer c.unlock()
	if registered {
		c.wakeSpaceLocked()
	}
	s := c.load()
	f := &c.fd
	f.mu.Lock()
	defer f.mu.Unlock()
	if shut := c.shutState(); shut != open {
		f.releaseDrainedLocked()
		if shut == shutNow {
			return len(f.items) > 0, snap, errs.ErrShutDown
		}
	}
	for err == nil {
		if err = c.moveRunLocked(f, s); err != nil || len(f.items) == 0 || !c.isBulk(f.items[0].it, f.items[0].pk) {
			break
		}
		if !bulk {
			// Put since this call looked: look again at once, with the
			// bulk writers' lock.
			return true, snap, errMoved
		}
		var ok bool
		if ok, err = c.moveBulkLocked(f); !ok {
			break
		}
		s = c.load()
	}
	s = c.load()
	if len(f.items) == 0 {
		return false, snap, nil
	}
	if err != nil {
		return true, snap, err
	}
	c.sleepSpaceLocked(c.needOf(s, f.items[0].it, f.items[0].pk, true))
	return true, c.spaceSnapLocked(s), nil
}

// moveRunLocked moves the buffered items in front that fit, up to the
// first bound for the bulk ring (which moveBulkLocked moves), and commits
// them together. The queue's lock and f.mu are held.
func (c *Core) moveRunLocked(f *feeder, s state) (err error) {
	moved := 0
	for _, b := range f.items {
		if c.isBulk(b.it, b.pk) {
			break
		}
		var ok bool
		ok, err = c.storeLocked(&s, b.it, b.pk)
		if err != nil || !ok {
			break
		}
		s.reserved--
		descr.Close(b.it.FDs)
		b.pk.release()
		moved++
	}
	n := 0
	for _, b := range f.items[:moved] {
		n += len(b.it.Data)
	}
	clear(f.items[:moved])
	f.items = f.items[moved:]
	f.n.Store(int64(len(f.items)))
	f.shrunkLocked(n)
	if moved > 0 {
		c.commitPutLocked(s)
		c.reserveLocked(-int64(moved)) // after the commit: see reserveLocked
	}
	return err
}

// dropBuffered forgets the buffered items, taking them off the shared
// counts.
func (c *Core) dropBuffered() {
	c.lock()
	defer c.unlock()
	f := &c.fd
	f.mu.Lock()
	items := f.items
	f.items = nil
	f.bulk = 0
	f.n.Store(0)
	f.shrunkLocked(f.bytes)
	f.mu.Unlock()
	if len(items) == 0 {
		return
	}
	s := c.load()
	n := uint64(len(items))
	s.reserved -= min(n, s.reserved)
	s.unfinished -= min(n, s.unfinished)
	if s.unfinished == 0 {
		s.zeroEpoch++
	}
	s.getSeq++ // slots were freed: space sleepers look again
	c.commit(s)
	c.reserveLocked(-int64(n)) // after the commit: see reserveLocked
	if s.unfinished == 0 {
		c.joined.ring()
	}
	if c.r.u32(offSpaceSleepers).Load() != 0 {
		c.space.ring()
	}
	if c.shutState() != open {
		c.notEmpty.ring() // getters of a shut down queue waited for these
	}
	for _, b := range items {
		descr.Close(b.it.FDs)
		b.pk.release()
	}
}

// Flush waits until every item this Core buffered is in the shared queue,
// or ctx ends (Python: join_thread).
func (c *Core) Flush(ctx context.Context) error {
	f := &c.fd
	for {
		f.mu.Lock()
		running, done := f.running, f.done
		f.mu.Unlock()
		if !running {
			return nil
		}
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CancelFlush makes Close, and FlushAll, drop what this Core still buffers
// instead of waiting for room (Python: cancel_join_thread).
func (c *Core) CancelFlush() {
	c.fd.mu.Lock()
	c.fd.cancelled = true
	c.fd.mu.Unlock()
}

func (f *feeder) isCancelled() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cancelled
}

// stop waits for the feeder goroutine to return; the Core's life has ended,
// so it drops what is left.
func (f *feeder) stop() {
	f.mu.Lock()
	running, done := f.running, f.done
	f.mu.Unlock()
	if running {
		<-done
	}
}

// FlushAll flushes every Core of this process that buffers items and whose
// CancelFlush was not called, until ctx ends. A child process calls it
// before it exits, as Python joins its queues' feeder threads.
func FlushAll(ctx context.Context) {
	feeding.Lock()
	var cores []*Core
	for c := range feeding.cores {
		cores = append(cores, c)
	}
	feeding.Unlock()
	for _, c := range cores {
		if !c.fd.isCancelled() {
			c.Flush(ctx)
		}
	}
}
