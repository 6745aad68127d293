package queue

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// writeState overwrites the current state copy, as a faulty process could.
func writeState(c *Core, s state) {
	c.lock()
	c.commit(s)
	c.unlock()
}

// wantCorrupt runs fn, which must return errCorrupt and not panic.
func wantCorrupt(t *testing.T, name string, fn func() error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked on corrupt shared memory: %v", name, r)
		}
	}()
	if err := fn(); !errors.Is(err, errCorrupt) {
		t.Errorf("%s on corrupt shared memory: %v, want errCorrupt", name, err)
	}
}

// A stack state whose head+4*count wraps around 2^64 is refused.
func TestStackBoundsDoNotWrap(t *testing.T) {
	for _, kind := range []Kind{LIFO, Priority} {
		for _, op := range []string{"Get", "Put"} {
			c := newCore(t, kind, 0, 0, false)
			put(t, c, "a")
			c.lock()
			s := c.load()
			c.unlock()
			s.head = -uint64(4 * s.count) // head+4*count == 0 (mod 2^64)
			binary.LittleEndian.PutUint32(c.data[c.idxAt(0):], 0x7ffffff8)
			writeState(c, s)
			wantCorrupt(t, kind.String()+" "+op, func() error {
				if op == "Get" {
					_, err := c.take(context.Background(), false)
					return err
				}
				return c.Put(context.Background(), Item{Data: []byte("b"), After: func([]byte) bool { return false }}, false)
			})
		}
	}
}

// A ring tail that is not a multiple of 8, near the end of the ring, is
// refused.
func TestRingUnalignedTail(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	c.lock()
	s := c.load()
	c.unlock()
	s.head = uint64(len(c.data)) - 4
	s.tail = s.head
	writeState(c, s)
	wantCorrupt(t, "FIFO Put", func() error { return c.Put(context.Background(), Item{Data: []byte("x")}, false) })
}

// Slots freed by dropping buffered items wake putters waiting for one.
func TestDropBufferedWakesPutters(t *testing.T) {
	const maxsize = 20
	a := newCore(t, FIFO, maxsize, minCapacity, true)
	b := twin(t, a)
	item := make([]byte, a.inline)
	for a.Len() < maxsize {
		if err := a.Put(context.Background(), Item{Data: item}, true); err != nil {
			t.Fatal(err)
		}
	}
	a.lock()
	s := a.load()
	a.unlock()
	if s.reserved == 0 {
		t.Fatal("nothing buffered: the test needs a full ring")
	}
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		errc <- b.Put(ctx, Item{Data: []byte("waits for a slot")}, true)
	}()
	// Two wait for room: a's feeder, for room in the ring, and b's Put,
	// for a slot.
	waitUntil(t, "b's Put sleeps on maxsize", sleeping(a, 0, 2, 0))
	a.CancelFlush()
	a.Close() // drops a's buffered items: slots are free
	if err := <-errc; err != nil {
		t.Errorf("Put waiting for a slot freed by dropBuffered: %v", err)
	}
}

// A Put that entered before Close, and waits for the shared lock (held by
// another handle, as another process would hold it), buffers its item and
// starts the feeder while Close waits for it: Close must stop that feeder
// before it unmaps the region (a feeder left running would fault).
func TestCloseStopsLateFeeder(t *testing.T) {
	for range 20 {
		c, err := New(FIFO, 0, minCapacity, true)
		if err != nil {
			t.Fatal(err)
		}
		other := twin(t, c)
		item := make([]byte, c.inline)
		for {
			if ok, _ := c.storeLockedForTest(item); !ok {
				break
			}
		}
		for {
			if ok, _ := c.storeLockedForTest(nil); !ok {
				break
			}
		}
		c.CancelFlush()
		other.lock() // another process is inside a queue operation
		putDone := make(chan error, 1)
		go func() { putDone <- c.Put(context.Background(), Item{Data: []byte("x")}, true) }()
		waitUntil(t, "the Put entered and waits for the lock", c.lk.HasWaiters)
		closed := make(chan struct{})
		go func() { c.Close(); close(closed) }()
		// Close has begun once it ended the Core's life, just before it
		// waits for the Put to leave.
		waitUntil(t, "Close has begun", func() bool { return c.life.Err() != nil })
		other.unlock()
		if err := <-putDone; err != nil {
			t.Fatalf("Put: %v", err)
		}
		<-closed
		// The feeder the Put started must have returned before Close
		// did: one still running would fault on the unmapped region.
		c.fd.mu.Lock()
		feederDone := c.fd.done
		c.fd.mu.Unlock()
		if feederDone == nil {
			t.Fatal("the Put started no feeder: the test missed its case")
		}
		select {
		case <-feederDone:
		default:
			t.Fatal("Close returned while the feeder it had to stop was running")
		}
	}
}

func (c *Core) storeLockedForTest(p []byte) (bool, error) {
	c.lock()
	defer c.unlock()
	s := c.load()
	ok, err := c.storeLocked(&s, Item{Data: p}, nil)
	if ok {
		s.unfinished++
		c.commitPutLocked(s)
	}
	return ok, err
}

// sockItem is an item that goes through the socket (it holds a descriptor).
func sockItem(t *testing.T, s string) Item {
	p, err := descr.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(p[1])
	return Item{Data: []byte(s), FDs: []int{p[0]}}
}

// A ticket whose datagram is missing (no Get takes a datagram before it
// commits the ticket's removal, but memory is shared with processes that
// may run anything) counts as taken, and the queue goes on with the next
// item.
func TestTicketWithoutDatagram(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	if err := c.Put(context.Background(), sockItem(t, "one"), true); err != nil {
		t.Fatal(err)
	}
	put(t, c, "two")
	c.lock()
	discardPacket(c.sock[1])
	c.unlock()
	if got := get(t, c); got != "two" {
		t.Fatalf("Get after the datagram went = %q, want the next item", got)
	}
	if _, err := c.take(context.Background(), false); !errors.Is(err, errs.ErrEmpty) {
		t.Fatalf("Get on the emptied queue: %v, want ErrEmpty", err)
	}
	if err := c.Put(context.Background(), sockItem(t, "three"), true); err != nil {
		t.Fatal(err)
	}
	it, err := c.take(context.Background(), false)
	descr.Close(it.FDs)
	if err != nil || string(it.Data) != "three" {
		t.Fatalf("a socket item after the datagram went: %q, %v", it.Data, err)
	}
}

// A consumer killed after it committed a ticket's removal and before it
// dropped the datagram leaves the datagram first in the socket: the next
// ticket's Get discards it on the way to its own.
func TestConsumerDiesBeforeDrop(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	for _, s := range []string{"one", "three"} {
		if err := c.Put(context.Background(), sockItem(t, s), true); err != nil {
			t.Fatal(err)
		}
		if s == "one" {
			put(t, c, "two")
		}
	}
	c.lock()
	s := c.load()
	it, ticket, err := c.takeLocked(&s)
	if err != nil || !ticket || string(it.Data) != "one" {
		c.unlock()
		t.Fatalf("takeLocked() = %q, %v, %v; want the socket item one", it.Data, ticket, err)
	}
	descr.Close(it.FDs)
	c.commitGetLocked(s) // and dies before discardPacket
	c.unlock()
	if got := get(t, c); got != "two" {
		t.Fatalf("Get after the death = %q, want two", got)
	}
	if got := get(t, c); got != "three" {
		t.Fatalf("Get after the death = %q, want three", got)
	}
	if _, present, _ := peekSeq(c.sock[1]); present {
		t.Error("a datagram is left in the socket")
	}
}

// A producer killed after its sendmsg and before its commit leaves an
// orphan datagram in the socket: the next ticket's consumer discards it.
func TestProducerDiesAfterSend(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	// The dying producer: lock, send, die before writing and committing the ticket.
	pk, err := c.prepare(sockItem(t, "orphan (never put)"))
	if err != nil {
		t.Fatal(err)
	}
	c.lock()
	pk.setSeq(c.r.u64(offSockSeq).Add(1))
	if ok, err := trySend(c.sock[0], pk); !ok || err != nil {
		t.Fatal(ok, err)
	}
	c.unlock()
	descr.Close(pk.fds)
	if err := c.Put(context.Background(), sockItem(t, "committed"), true); err != nil {
		t.Fatal(err)
	}
	got := get(t, c)
	if got != "committed" {
		t.Errorf("Get = %q, want %q (the committed item is stranded in the socket)", got, "committed")
	}
	if _, err := c.take(context.Background(), false); !errors.Is(err, errs.ErrEmpty) {
		t.Errorf("second Get: %v, want ErrEmpty", err)
	}
}

// A consumer out of descriptors gets its socket item's datagram without
// the descriptors (MSG_CTRUNC): that item fails with errDamaged and is
// removed, and the next item comes out in its place, not shifted.
func TestItemDamagedOnReceipt(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	for _, s := range []string{"A", "B"} {
		if err := c.Put(context.Background(), sockItem(t, s), true); err != nil {
			t.Fatal(err)
		}
	}
	var old unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &old)
	lim := old
	lim.Cur = 512
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	var dups []int
	for {
		d, err := unix.Dup(0)
		if err != nil {
			break
		}
		dups = append(dups, d)
	}
	_, err := c.take(context.Background(), false)
	descr.Close(dups)
	unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	if !errors.Is(err, errDamaged) {
		t.Fatalf("Get while out of descriptors: %v, want errDamaged", err)
	}
	it, err := c.take(context.Background(), false)
	descr.Close(it.FDs)
	if err != nil || string(it.Data) != "B" || len(it.FDs) != 1 {
		t.Fatalf("next Get: %q with %d descriptors, %v; want B with its descriptor", it.Data, len(it.FDs), err)
	}
	if _, err := c.take(context.Background(), false); !errors.Is(err, errs.ErrEmpty) {
		t.Fatalf("last Get: %v, want ErrEmpty", err)
	}
}
