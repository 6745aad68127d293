package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/lockcore"
)

// deadID is the identity of a process that has this one's pid and another
// start time (not zero, which would mean "unknown"): a process that died
// and whose pid was reused.
var deadID = func() uint64 {
	id := lockcore.Self() ^ 1<<40
	if id>>32 == 0 {
		id ^= 1 << 41
	}
	return id
}()

// fakeHolder gives a dead process a slot holding held items and reserved
// ones, as if it had got and buffered them, and returns the slot.
func fakeHolder(t *testing.T, c *Core, held, reserved uint64) holder {
	t.Helper()
	c.lock()
	defer c.unlock()
	for i := range holderSlots {
		h := c.slot(i)
		if h.owner.CompareAndSwap(0, deadID) {
			h.held.Store(held)
			h.reserved.Store(reserved)
			return h
		}
	}
	t.Fatal("no free slot")
	return holder{}
}

// TestJoinWritesOffDeadHolder: items a dead process got and did not mark
// done are written off by Join, which reports them, and a later Join
// succeeds without them.
func TestJoinWritesOffDeadHolder(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, true)
	c.SetJoinable()
	for range 5 {
		put(t, c, "task")
	}
	for range 3 {
		get(t, c)
	}
	// Two of the three items got pass to the dead process.
	c.lock()
	c.holdLocked(-2)
	c.unlock()
	h := fakeHolder(t, c, 2, 0)
	err := twin(t, c).Join(ctx10(t))
	var d *ConsumerDied
	if !errors.As(err, &d) || !errors.Is(err, errs.ErrConsumerDied) {
		t.Fatalf("Join() = %v, want a *ConsumerDied", err)
	}
	if d.Pid != os.Getpid() || d.Unfinished != 2 {
		t.Errorf("Join() = %+v, want pid %d with 2 unfinished", d, os.Getpid())
	}
	if n := c.Unfinished(); n != 3 {
		t.Errorf("Unfinished() = %d after the write-off, want 3 (2 queued, 1 in hand)", n)
	}
	if h.owner.Load() != 0 {
		t.Error("the dead holder's slot was not freed")
	}
	if err := c.TaskDone(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		get(t, c)
		if err := c.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Join(ctx10(t)); err != nil {
		t.Errorf("Join() after the rest was done = %v", err)
	}
}

// TestWriteOffBoundedByState: a dead holder whose slot claims more than the
// state says is in anybody's hand (TaskDone may come from another process
// than the one that got the item) has only what is in hand written off.
func TestWriteOffBoundedByState(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, true)
	c.SetJoinable()
	for range 3 {
		put(t, c, "task")
	}
	get(t, c) // in this process's hand: one; queued: two
	fakeHolder(t, c, 10, 0)
	c.sweep(false)
	if n := c.Unfinished(); n != 3 {
		t.Errorf("Unfinished() = %d, want 3: nothing the dead holder could hold", n)
	}
	if c.r.u64(offLostSeq).Load() != 0 {
		t.Error("a write-off of nothing was recorded")
	}
}

// TestSweepWritesOffDeadProducer: items a dead producer buffered are
// taken off Len and the unfinished count, and a Get on a queue that was
// shut down stops waiting for them.
func TestSweepWritesOffDeadProducer(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, true)
	put(t, c, "queued")
	c.lock()
	s := c.load()
	s.reserved += 2
	s.unfinished += 2
	c.commit(s)
	c.unlock()
	fakeHolder(t, c, 0, 2)
	if n := c.Len(); n != 3 {
		t.Fatalf("Len() = %d, want 3", n)
	}
	c.Shutdown(false)
	ctx := ctx10(t)
	if got := get(t, c); got != "queued" {
		t.Errorf("Get() = %q", got)
	}
	if _, err := c.take(ctx, true); !errors.Is(err, errs.ErrShutDown) {
		t.Errorf("Get() with only a dead producer's items to come = %v, want ErrShutDown", err)
	}
	if c.Len() != 0 || c.Unfinished() != 1 {
		t.Errorf("Len() = %d, Unfinished() = %d; want 0, 1", c.Len(), c.Unfinished())
	}
}

// TestSlotCountsWhatIsReserved: at each instant a producer can die at, just
// before and just after every commit of the state, its slot counts at least
// the items the state holds reserved for it (buffering them, moving them
// over, dropping them at a shutdown), so that a sweep after its death
// writes them all off.
func TestSlotCountsWhatIsReserved(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, true)
	d := twin(t, c)
	// The hook runs under the queue's lock, in Put and in the feeder; mu
	// guards the counts of the test.
	var mu sync.Mutex
	var before state
	var buffered, moved, dropped int // commits of each kind
	failed := false
	c.atCommit = func(after bool) {
		mu.Lock()
		defer mu.Unlock()
		s := c.load()
		var counted uint64
		if h, ok := c.mySlot(); ok {
			counted = h.reserved.Load()
		}
		if counted < s.reserved && !failed {
			failed = true
			t.Errorf("just %s a commit, the slot counts %d items and the state reserves %d: a death there leaves %d reserved for good",
				map[bool]string{false: "before", true: "after"}[after], counted, s.reserved, s.reserved-counted)
		}
		switch {
		case !after:
			before = s
		case s.reserved > before.reserved:
			buffered++
		case s.reserved < before.reserved && s.count > before.count:
			moved++
		case s.reserved < before.reserved:
			dropped++
		}
	}
	kinds := func() (int, int, int) {
		mu.Lock()
		defer mu.Unlock()
		return buffered, moved, dropped
	}
	for i := range 2000 {
		put(t, c, fmt.Sprint(i))
	}
	for range 100 {
		get(t, d)
	}
	waitUntil(t, "the feeder moves items", func() bool { _, m, _ := kinds(); return m > 0 })
	d.Shutdown(true)
	waitUntil(t, "the feeder drops its items", func() bool { return c.Len() == 0 })
	if b, m, dr := kinds(); b == 0 || m == 0 || dr == 0 {
		t.Errorf("commits seen: %d buffering, %d moving, %d dropping; the test needs each", b, m, dr)
	}
}

// TestProducerDiesAfterBuffering: a producer that dies just after the
// commit that counts an item it buffers, before the item is even in its
// feeder, is written off: a Get on the queue, shut down, does not wait
// for that item, and Len no longer counts it.
func TestProducerDiesAfterBuffering(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, true)
	d := twin(t, c)
	n := 0
	for {
		ok, err := c.storeLockedForTest([]byte("queued"))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		n++
	}
	type died struct{}
	c.atCommit = func(after bool) {
		if after && c.load().reserved > 0 {
			panic(died{})
		}
	}
	func() {
		defer func() {
			if _, ok := recover().(died); !ok {
				t.Fatal("the Put did not commit a buffered item")
			}
		}()
		c.Put(context.Background(), Item{Data: []byte("buffered")}, true)
	}()
	c.atCommit = nil
	h, ok := c.mySlot()
	if !ok {
		t.Fatal("the producer has no slot")
	}
	h.owner.Store(deadID) // the producer's process is gone
	d.Shutdown(false)
	ctx := ctx10(t)
	for range n {
		get(t, d)
	}
	if _, err := d.take(ctx, true); !errors.Is(err, errs.ErrShutDown) {
		t.Errorf("Get() with only a dead producer's item to come = %v, want ErrShutDown", err)
	}
	if l := d.Len(); l != 0 {
		t.Errorf("Len() = %d, want 0", l)
	}
}

// TestPutWithoutSlotWaits: a producer that finds the holder table full of
// live processes buffers nothing (what it buffered would go uncounted, and
// be waited for forever if it died): like an unbuffered Put, its Put waits
// for room, or fails with ErrFull if it may not wait.
func TestPutWithoutSlotWaits(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, true)
	live := uint64(os.Getppid()) // a live process, named by its pid alone
	for i := range holderSlots {
		c.slot(i).owner.Store(live)
	}
	big := bytes.Repeat([]byte("y"), 100)
	n := 0
	for {
		ok, err := c.storeLockedForTest(big)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		n++
	}
	if err := c.Put(context.Background(), Item{Data: big}, false); !errors.Is(err, errs.ErrFull) {
		t.Fatalf("Put(wait=false) without a slot on a full ring = %v, want ErrFull", err)
	}
	if c.me.Load() != -1 {
		t.Fatalf("claimed slot %d of a table full of live processes", c.me.Load())
	}
	done := make(chan error, 1)
	go func() { done <- c.Put(ctx10(t), Item{Data: big}, true) }()
	waitUntil(t, "the Put sleeps for room", sleeping(c, 0, 1, 0))
	if c.fd.has() {
		t.Error("the Put buffered its item")
	}
	get(t, c)
	if err := <-done; err != nil {
		t.Fatalf("Put() once there is room = %v", err)
	}
	if l := c.Len(); l != n {
		t.Errorf("Len() = %d, want %d", l, n)
	}
}

// TestClaimSlotOnce: goroutines of one process that claim a slot at the
// same time take one between them. The table is full of dead processes,
// so that a claim sweeps it, and the sweep waits for the queue's lock,
// which the test holds until both claims are under way.
func TestClaimSlotOnce(t *testing.T) {
	for range 5 {
		c := newCore(t, FIFO, 0, minCapacity, true)
		for i := range holderSlots {
			c.slot(i).owner.Store(deadID)
		}
		c.lock()
		var wg sync.WaitGroup
		started := make(chan struct{}, 2)
		for range 2 {
			wg.Go(func() {
				started <- struct{}{}
				c.claimSlot()
			})
		}
		<-started
		<-started
		waitUntil(t, "a claim sweeps the table", c.lk.HasWaiters)
		c.unlock()
		wg.Wait()
		var mine []int
		for i := range holderSlots {
			if c.slot(i).owner.Load() == lockcore.Self() {
				mine = append(mine, i)
			}
		}
		if len(mine) != 1 || c.me.Load() != int32(mine[0]+1) {
			t.Fatalf("slots owned after two claims: %v, and the Core's is %d; want one, the Core's", mine, c.me.Load()-1)
		}
	}
}
