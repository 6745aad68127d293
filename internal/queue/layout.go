package queue

import (
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
)

// Layout of a queue's shared memory: a header page, then the data area.
//
// The header holds the lock, counters that sleepers and wakers agree on,
// lock-free hints for waiters, the queue's fixed description, and two
// copies of its state. A change of state is written to the copy that is not
// current and then made current by one store of the cur word, so that a
// process dying halfway through a change leaves the old state intact.
const (
	offLock          = 0   // u64: a lockcore.Mutex
	offCur           = 8   // u32: which state copy is current (0 or 1)
	offArmed         = 12  // u32: 1 once someone waits on the queue with mp.Wait
	offEmptySleepers = 16  // u32: getters asleep on the not-empty bell
	offSpaceSleepers = 20  // u32: putters asleep on the space bell
	offJoinSleepers  = 24  // u32: joiners asleep on the join bell
	offShutdown      = 28  // u32: open, shutDrain or shutNow (see shutdown.go); only grows
	offCountHint     = 32  // u64: count of the current state, for waiters
	offGetSeqHint    = 40  // u64: getSeq of the current state
	offEpochHint     = 48  // u64: zeroEpoch of the current state
	offReservedHint  = 56  // u64: reserved of the current state
	offMagic         = 64  // u32
	offVersion       = 68  // u32
	offKind          = 72  // u32
	offMaxsize       = 80  // i64
	offCapacity      = 88  // u64: bytes of the main data area
	offBulk          = 96  // u64: bytes of the bulk ring after it (FIFO only)
	offNeedMain      = 104 // u64: free bytes of the data area a space sleeper needs
	offNeedBulk      = 112 // u64: free bytes of the bulk ring a space sleeper needs
	offSockSeq       = 120 // u64: sequence number of the last datagram sent (only grows)
	offState         = 128 // two copies, one cache line each
	stateSize        = 64
	offLostSeq       = 256 // u64: times a dead holder's unfinished items were written off
	offLostPid       = 264 // u64: pid of the last such holder
	offLostCount     = 272 // u64: how many items it held
	offJoinable      = 280 // u32: 1 if Gets count in the holder table (SetJoinable)
	offBulkLock      = 288 // u64: the bulk writers' lock, a lockcore.Mutex (bulk.go)
	offBulkReadLock  = 296 // u64: the bulk readers' lock, a lockcore.Mutex (bulk.go)
	offHolders       = 512 // the holder table (see holders.go)

	hdrSize     = 4096
	magic       = 0x6d707175 // "mpqu"
	layoutVer   = 4
	minCapacity = 4096
	maxCapacity = 1 << 30
)

// Kind is the order in which a queue hands out its items.
type Kind uint32

const (
	FIFO Kind = iota + 1
	LIFO
	Priority
)

func (k Kind) String() string {
	switch k {
	case FIFO:
		return "FIFO"
	case LIFO:
		return "LIFO"
	case Priority:
		return "priority"
	}
	return fmt.Sprintf("Kind(%d)", uint32(k))
}

// state is the queue's state, as stored in each copy.
type state struct {
	// A FIFO queue's data area is a ring: head and tail are byte positions
	// that only grow; the ring holds the records between them. A LIFO or
	// priority queue's records grow from the bottom up to head (the top),
	// and tail counts the bytes of holes left below it by removals.
	head, tail uint64
	// count is the number of items in the data area.
	count uint64
	// reserved counts items accepted by a Put but still buffered in the
	// putting process (see Core.Put): they count toward maxsize and Len.
	reserved uint64
	// unfinished counts items put and not yet marked done.
	unfinished uint64
	// getSeq counts removals; zeroEpoch counts the times unfinished fell
	// to zero.
	getSeq, zeroEpoch uint64
	// bulkHead and bulkTail are the bulk ring's positions.
	bulkHead, bulkTail uint64
}

func (c *Core) stateOff(i uint32) int { return offState + int(i&1)*stateSize }

// load returns the current state. The lock must be held.
func (c *Core) load() state {
	b := c.r.mem[c.stateOff(c.r.u32(offCur).Load()):]
	le := binary.LittleEndian
	counts := le.Uint64(b[16:])
	return state{
		head: le.Uint64(b[0:]), tail: le.Uint64(b[8:]),
		count: counts & 0xffffffff, reserved: counts >> 32,
		unfinished: le.Uint64(b[24:]), getSeq: le.Uint64(b[32:]), zeroEpoch: le.Uint64(b[40:]),
		bulkHead: le.Uint64(b[48:]), bulkTail: le.Uint64(b[56:]),
	}
}

// commit makes s the current state and updates the hints. The lock must be
// held. The state fits one cache line: count and reserved share a word
// (each stays far below 2³², bounded by the memory the items take).
func (c *Core) commit(s state) {
	if c.atCommit != nil {
		c.atCommit(false)
	}
	next := c.r.u32(offCur).Load() ^ 1
	b := c.r.mem[c.stateOff(next):]
	le := binary.LittleEndian
	le.PutUint64(b[0:], s.head)
	le.PutUint64(b[8:], s.tail)
	le.PutUint64(b[16:], s.count&0xffffffff|s.reserved<<32)
	le.PutUint64(b[24:], s.unfinished)
	le.PutUint64(b[32:], s.getSeq)
	le.PutUint64(b[40:], s.zeroEpoch)
	le.PutUint64(b[48:], s.bulkHead)
	le.PutUint64(b[56:], s.bulkTail)
	c.r.u32(offCur).Store(next)
	c.hints(s)
	if c.atCommit != nil {
		c.atCommit(true)
	}
}

func (c *Core) hints(s state) {
	c.r.u64(offCountHint).Store(s.count)
	c.r.u64(offGetSeqHint).Store(s.getSeq)
	c.r.u64(offEpochHint).Store(s.zeroEpoch)
	if c.r.u64(offReservedHint).Load() != s.reserved { // rarely changes: spare the store
		c.r.u64(offReservedHint).Store(s.reserved)
	}
}

// initHeader writes the fixed description of a new queue.
func initHeader(r *region, kind Kind, maxsize, capacity, bulk int) {
	le := binary.LittleEndian
	le.PutUint32(r.mem[offMagic:], magic)
	le.PutUint32(r.mem[offVersion:], layoutVer)
	le.PutUint32(r.mem[offKind:], uint32(kind))
	le.PutUint64(r.mem[offMaxsize:], uint64(int64(maxsize)))
	le.PutUint64(r.mem[offCapacity:], uint64(capacity))
	le.PutUint64(r.mem[offBulk:], uint64(bulk))
}

// readHeader checks the fixed description of a queue received from another
// process and returns its kind, maxsize and the sizes of its data areas.
func readHeader(r *region) (kind Kind, maxsize, capacity, bulk int, err error) {
	le := binary.LittleEndian
	if le.Uint32(r.mem[offMagic:]) != magic || le.Uint32(r.mem[offVersion:]) != layoutVer {
		return 0, 0, 0, 0, protoErr("queue memory has a foreign layout")
	}
	kind = Kind(le.Uint32(r.mem[offKind:]))
	if kind < FIFO || kind > Priority {
		return 0, 0, 0, 0, protoErr("queue memory names an unknown kind")
	}
	c, b := le.Uint64(r.mem[offCapacity:]), le.Uint64(r.mem[offBulk:])
	if c < minCapacity || c > maxCapacity || b > maxCapacity || c%8 != 0 || b%8 != 0 ||
		c+b != uint64(len(r.mem)-hdrSize) || (kind != FIFO && b != 0) {
		return 0, 0, 0, 0, protoErr("queue memory sizes disagree with its size")
	}
	return kind, int(int64(le.Uint64(r.mem[offMaxsize:]))), int(c), int(b), nil
}

func protoErr(msg string) error { return errs.ProtocolError(msg) }
