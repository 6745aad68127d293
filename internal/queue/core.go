package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/shmem"
	"golang.org/x/sys/unix"
)

// Errors: the queue returns mp's sentinels (package errs): errs.ErrEmpty and
// errs.ErrFull for a Get or Put that could not wait, or whose context ended
// (then matching the context's error too), errs.ErrShutDown for a Put or
// Get on a queue that was shut down (shutdown.go), a *ConsumerDied
// (matching errs.ErrConsumerDied) for a Join that found a consumer dead,
// errs.ErrTooManyReleases for a TaskDone too many, errs.ErrHandles for an
// item with handles on a LIFO or priority queue, errs.ErrItemTooLarge for
// an item the queue cannot hold.

// ctxWaitErr gives the error of a wait for sentinel that its context ended
// the identity of both; any other error is returned as it is.
func ctxWaitErr(sentinel, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.WithContext(sentinel, err)
	}
	return err
}

// DefaultCapacity is the size of a queue's data area in shared memory, and
// DefaultBulk that of a FIFO queue's bulk ring, for items over 64 KiB.
// Pages are only used once touched.
const (
	DefaultCapacity = 1 << 20
	DefaultBulk     = 8 << 20
)

// Core is one process's handle on a queue in shared memory. Its methods are
// safe for concurrent use by many goroutines, and any number of processes
// may hold a Core of the same queue.
type Core struct {
	kind    Kind
	maxsize int
	// buffered lets Put keep items in this process when the shared queue
	// has no room (see Put).
	buffered bool

	r  *region
	lk *lockcore.Mutex
	// blk and rbl are the bulk writers' and readers' locks (bulk.go),
	// each taken before lk.
	blk, rbl *lockcore.Mutex
	sock     [2]int // send and receive ends (FIFO only), else -1
	// data is the main data area, bulk the bulk ring (FIFO only).
	data, bulk []byte
	// A FIFO item of up to inline bytes goes in the ring, one of up to
	// bulkMax bytes in the bulk ring, a larger one through the socket.
	inline, bulkMax int

	notEmpty, space, joined *bell

	// rb is scratch space for receives, used under the shared lock.
	rb recvBuf

	// me is 1 + the index of this process's slot in the holder table
	// (holders.go), 0 before claimSlot, -1 if the table had no room. claim
	// runs the one claim of this Core.
	me    atomic.Int32
	claim sync.Once

	// live is held (shared) by every operation and exclusively by Close.
	live   sync.RWMutex
	closed atomic.Bool
	// life ends when Close starts: blocked operations then return ErrClosed.
	life   context.Context
	cancel context.CancelFunc

	fd feeder

	// atCommit, if not nil, is called by commit with the lock held, just
	// before the new state becomes current (after false) and just after:
	// tests set it to see what a process that died at either instant
	// would leave in shared memory, or to die there.
	atCommit func(after bool)
	// atBulkCopy, if not nil, is called by a bulk Put (or the feeder) and
	// a bulk Get (bulk.go) right after its copy, made with the queue's lock
	// let go: tests die there.
	atBulkCopy func()
}

// New creates a queue of the given kind. maxsize ≤ 0 means no limit on the
// number of items. With buffered, Put never waits for room in shared
// memory (only for maxsize): it keeps the item in this process and a feeder
// goroutine moves it over.
func New(kind Kind, maxsize, capacity int, buffered bool) (*Core, error) {
	capacity = shmem.RoundUp(max(capacity, minCapacity))
	bulk := 0
	if kind == FIFO {
		bulk = DefaultBulk
	}
	r, err := newRegion(hdrSize + capacity + bulk)
	if err != nil {
		return nil, err
	}
	initHeader(r, kind, maxsize, capacity, bulk)
	fds := []int{r.FD()}
	if kind == FIFO {
		sp, err := newSocketPair()
		if err != nil {
			r.close()
			return nil, err
		}
		fds = append(fds, sp[0], sp[1])
	}
	for range 3 {
		fd, err := newBellFD()
		if err != nil {
			r.close()
			descr.Close(fds[1:])
			return nil, err
		}
		fds = append(fds, fd)
	}
	return attachNew(r, fds[1:], buffered)
}

// Attach makes a Core of a queue's descriptors, as FDs returns them, and
// takes ownership of them (on error they are closed).
func Attach(fds []int, buffered bool) (*Core, error) {
	c, err := attach(fds, buffered)
	if err != nil {
		descr.Close(fds)
		return nil, err
	}
	return c, nil
}

// attachNew makes a Core of a queue just created in this process.
func attachNew(r *region, rest []int, buffered bool) (*Core, error) {
	c, err := attachRest(r, rest, buffered)
	if err != nil {
		descr.Close(rest)
		return nil, err
	}
	return c, nil
}

func attach(fds []int, buffered bool) (*Core, error) {
	if len(fds) != 4 && len(fds) != 6 {
		return nil, protoErr(fmt.Sprintf("queue handle with %d descriptors", len(fds)))
	}
	r, err := mapRegion(fds[0])
	fds[0] = -1
	if err != nil {
		return nil, err
	}
	return attachRest(r, fds[1:], buffered)
}

// attachRest makes a Core of a mapped region and the queue's other
// descriptors; on error it closes the region and the descriptors it took.
func attachRest(r *region, rest []int, buffered bool) (*Core, error) {
	c := &Core{r: r, lk: (*lockcore.Mutex)(unsafe.Pointer(&r.mem[offLock])),
		blk: (*lockcore.Mutex)(unsafe.Pointer(&r.mem[offBulkLock])),
		rbl: (*lockcore.Mutex)(unsafe.Pointer(&r.mem[offBulkReadLock])), sock: [2]int{-1, -1}, buffered: buffered}
	kind, maxsize, capacity, bulk, err := readHeader(r)
	if err != nil {
		r.close()
		return nil, err
	}
	c.kind, c.maxsize = kind, maxsize
	c.data = r.mem[hdrSize : hdrSize+capacity : hdrSize+capacity]
	c.bulk = r.mem[hdrSize+capacity : hdrSize+capacity+bulk : hdrSize+capacity+bulk]
	if (c.kind == FIFO) != (len(rest) == 5) {
		r.close()
		return nil, protoErr("queue handle's descriptors do not match its kind")
	}
	if c.kind == FIFO {
		if err := c.attachSockets(rest[:2]); err != nil {
			r.close()
			return nil, err
		}
		rest = rest[2:]
	}
	if err := c.attachBells(rest); err != nil {
		c.release()
		return nil, err
	}
	c.life, c.cancel = context.WithCancel(context.Background())
	// A record of either ring, even with a wrap record in front of it,
	// takes less than twice its size: with a quarter of the ring free (half
	// of the bulk ring), any item fits (see roomyLocked).
	c.inline = min(len(c.data)/16, blobMinBytes)
	c.bulkMax = len(c.bulk) / 8
	return c, nil
}

func (c *Core) attachSockets(fds []int) error {
	for _, fd := range fds {
		if err := checkSocket(fd); err != nil {
			return err
		}
	}
	c.sock = [2]int{fds[0], fds[1]}
	fds[0], fds[1] = -1, -1
	return nil
}

func (c *Core) attachBells(fds []int) error {
	bells := []**bell{&c.notEmpty, &c.space, &c.joined}
	for i, fd := range fds {
		b, err := openBell(fd)
		if err != nil {
			return err
		}
		fds[i] = -1
		*bells[i] = b
	}
	return nil
}

// release frees what the Core holds.
func (c *Core) release() {
	c.r.close()
	for _, fd := range c.sock {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	for _, b := range []*bell{c.notEmpty, c.space, c.joined} {
		if b != nil {
			b.close()
		}
	}
}

// Kind returns the queue's kind; Maxsize its limit on items (≤ 0: none).
func (c *Core) Kind() Kind   { return c.kind }
func (c *Core) Maxsize() int { return c.maxsize }

// enter marks the start of an operation; leave its end.
func (c *Core) enter() error {
	c.live.RLock()
	if c.closed.Load() {
		c.live.RUnlock()
		return errs.ErrClosed
	}
	return nil
}

func (c *Core) leave() { c.live.RUnlock() }

// FDs calls fn with the queue's descriptors (for sending it to another
// process); they stay open until fn returns.
func (c *Core) FDs(fn func(fds []int) error) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.leave()
	fds := []int{c.r.FD()}
	if c.kind == FIFO {
		fds = append(fds, c.sock[0], c.sock[1])
	}
	fds = append(fds, c.notEmpty.fd, c.space.fd, c.joined.fd)
	return fn(fds)
}

// lock takes the shared lock, repairing the queue's state if the previous
// holder died holding it.
func (c *Core) lock() {
	if c.lk.TryFast() {
		return
	}
	if died, _ := c.lk.Lock(context.Background()); died {
		c.repairLocked()
	}
}

func (c *Core) unlock() { c.lk.Unlock() }

// repairLocked runs after the lock was taken over from a dead process: the
// committed state stands, the hints and the bells are brought in line with
// it, and every sleeper is woken to look again.
func (c *Core) repairLocked() {
	s := c.load()
	c.hints(s)
	c.syncNotEmptyLocked(s)
	c.space.ring()
	c.joined.ring()
}

// syncNotEmptyLocked makes the not-empty bell readable exactly when the
// queue holds items, or was shut down.
func (c *Core) syncNotEmptyLocked(s state) {
	c.notEmpty.silence()
	if s.count > 0 || c.shutState() != open {
		c.notEmpty.ring()
	}
}

// maintainLocked reports whether the not-empty bell must follow the count:
// while getters sleep on it, or once mp.Wait has polled it.
func (c *Core) maintainLocked() bool {
	return c.r.u32(offArmed).Load() != 0 || c.r.u32(offEmptySleepers).Load() != 0
}

// WaitFD returns a descriptor that is readable exactly while the queue
// holds items or was shut down (a Get then need not wait), for mp.Wait.
// From the first call on, every process keeps it so, at the cost of a
// write when the queue stops being empty and a read when it becomes empty.
func (c *Core) WaitFD() int {
	if c.enter() != nil {
		return -1
	}
	defer c.leave()
	c.lock()
	if c.r.u32(offArmed).Load() == 0 {
		c.r.u32(offArmed).Store(1)
		c.syncNotEmptyLocked(c.load())
	}
	c.unlock()
	return c.notEmpty.fd
}

// Len returns the number of items put and not yet got, counting items still
// buffered by their producers (Python: qsize).
func (c *Core) Len() int {
	if c.enter() != nil {
		return 0
	}
	defer c.leave()
	c.lock()
	s := c.load()
	c.unlock()
	return int(s.count + s.reserved)
}

// Empty reports whether the shared queue holds no item (items still
// buffered by producers do not count, as in Python).
func (c *Core) Empty() bool {
	return c.r.u64(offCountHint).Load() == 0
}

// Full reports whether the queue holds maxsize items.
func (c *Core) Full() bool {
	if c.maxsize <= 0 || c.enter() != nil {
		return false
	}
	defer c.leave()
	c.lock()
	s := c.load()
	c.unlock()
	return s.count+s.reserved >= uint64(c.maxsize)
}

// Sleepers returns how many goroutines, in every process, are registered
// as asleep on the queue's bells: getters waiting for an item, putters (and
// feeders) waiting for room, and joiners waiting for Join. One registered
// sleeps, or is about to and will see any ring that comes after. Tests use
// it to act once the other side waits.
func (c *Core) Sleepers() (getters, putters, joiners int) {
	if c.enter() != nil {
		return 0, 0, 0
	}
	defer c.leave()
	return int(c.r.u32(offEmptySleepers).Load()), int(c.r.u32(offSpaceSleepers).Load()), int(c.r.u32(offJoinSleepers).Load())
}

// Close releases this handle. Items this process buffered are flushed
// first unless CancelFlush was called (see Flush). Blocked operations on
// this handle return an error matching errs.ErrClosed. Close is safe to
// call twice.
func (c *Core) Close() error {
	if c.closed.Load() {
		return nil
	}
	if !c.fd.isCancelled() {
		c.Flush(context.Background())
	}
	if c.closed.Swap(true) {
		return nil
	}
	c.cancel()
	c.live.Lock() // no operation runs now, so no Put can start a feeder
	defer c.live.Unlock()
	c.fd.stop()
	c.dropBuffered() // what a Put buffered as the feeder stopped
	c.release()
	return nil
}

// opCtx returns a context that ends with ctx or with the Core's life.
func (c *Core) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.life, cancel)
	return ctx, func() { stop(); cancel() }
}

// waitErr maps the error of a wait that ended early.
func (c *Core) waitErr(err error) error {
	if c.life.Err() != nil {
		return errs.ErrClosed
	}
	return err
}
