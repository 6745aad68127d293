package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// bulkItem is an item of the bulk ring whose bytes say who put it and
// which of theirs it is, in every byte, so that a torn or mixed copy shows.
func bulkItem(who, seq, size int) []byte {
	return bytes.Repeat([]byte{byte(who), byte(seq)}, size/2)
}

// dieInBulkPut runs in a child: it puts an item bound for the bulk ring
// into the queue whose descriptors it inherited, and kills itself once
// the item is copied in, before it is committed: straight from Put
// (where "put"), or from the feeder of a buffered handle (where "feeder").
func dieInBulkPut(where string) {
	c := inherited()
	die := func() {
		unix.Kill(os.Getpid(), unix.SIGKILL)
		select {} // the signal is on its way
	}
	ctx := context.Background()
	if where == "put" {
		c.atBulkCopy = die
		c.Put(ctx, Item{Data: bulkItem(9, 9, 200<<10)}, true)
		os.Exit(3) // the point was not reached
	}
	// Fill the bulk ring through a buffered handle until the next item is
	// kept in this process, then make room with another handle: the
	// feeder moves the item, and dies in its copy.
	fds, err := dupFDs(c)
	if err != nil {
		os.Exit(2)
	}
	b, err := Attach(fds, true)
	if err != nil {
		os.Exit(2)
	}
	// Set before the feeder runs, armed once it does.
	var armed atomic.Bool
	b.atBulkCopy = func() {
		if armed.Load() {
			die()
		}
	}
	for i := 0; !b.fd.has(); i++ {
		if i > 100 || b.Put(ctx, Item{Data: bulkItem(9, i, 200<<10)}, true) != nil {
			os.Exit(2)
		}
	}
	armed.Store(true)
	c.Get(ctx, false, func(Item) error { return nil })
	time.Sleep(10 * time.Second) // the feeder is woken, and dies
	os.Exit(3)
}

// A putter killed with its item copied into the bulk ring and not
// committed leaves the queue as it was: the bytes past the tail are never
// read, and the next bulk putter takes the bulk writers' lock over and
// writes its own item there.
func TestPutterDiesInBulkCopy(t *testing.T) {
	c := newCore(t, FIFO, 0, DefaultCapacity, false)
	put(t, c, "before")
	err := runChild(t, c, "die-in-bulk-put:put")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the putter ended with %v, want killed in its copy", err)
	}
	if c.blk.Owner() == 0 {
		t.Fatal("the putter did not die holding the bulk writers' lock")
	}
	if n := c.Len(); n != 1 {
		t.Fatalf("Len() = %d after the death, want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mine := bulkItem(1, 1, 200<<10)
	if err := c.Put(ctx, Item{Data: mine}, true); err != nil {
		t.Fatal(err)
	}
	if got := get(t, c); got != "before" {
		t.Fatalf("Get() = %.8q, want before", got)
	}
	it, err := c.take(ctx, true)
	if err != nil || !bytes.Equal(it.Data, mine) {
		t.Fatalf("Get() = %d bytes %.8q, %v; want the item put after the death", len(it.Data), it.Data, err)
	}
	if _, err := c.take(ctx, false); !errors.Is(err, errs.ErrEmpty) {
		t.Errorf("Get() on the drained queue = %v, want ErrEmpty", err)
	}
}

// A feeder killed in its copy of a buffered item into the bulk ring
// leaves the items put before, whole and in order, and the rest of the
// queue usable; the item it was moving is written off with its process.
func TestFeederDiesInBulkCopy(t *testing.T) {
	c := newCore(t, FIFO, 0, DefaultCapacity, false)
	err := runChild(t, c, "die-in-bulk-put:feeder")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the feeder ended with %v, want killed in its copy", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The child put items 0 to full-1 into the bulk ring, buffered item
	// full, took item 0, and died moving item full: items 1 to full-1
	// are in the queue, in order, and item full is not.
	full := DefaultBulk / (recHdr + pad8(200<<10))
	n := 0
	for want := 1; ; want++ {
		it, err := c.take(ctx, false)
		if errors.Is(err, errs.ErrEmpty) {
			break
		}
		if err != nil || !bytes.Equal(it.Data, bulkItem(9, want, 200<<10)) {
			t.Fatalf("Get() = %d bytes %.8q, %v; want the child's item %d", len(it.Data), it.Data, err, want)
		}
		n++
	}
	if n != full-1 {
		t.Fatalf("%d of the child's items left in the queue, want %d", n, full-1)
	}
	mine := bulkItem(1, 1, 200<<10)
	if err := c.Put(ctx, Item{Data: mine}, true); err != nil {
		t.Fatal(err)
	}
	if it, err := c.take(ctx, true); err != nil || !bytes.Equal(it.Data, mine) {
		t.Fatalf("Get() = %d bytes, %v; want the item put after the death", len(it.Data), err)
	}
	// Its buffered item is counted until it is written off: a Get of the
	// queue shut down does so, rather than wait for it.
	if err := c.Shutdown(false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.take(ctx, true); !errors.Is(err, errs.ErrShutDown) {
		t.Fatalf("Get() of the queue shut down = %v, want ErrShutDown", err)
	}
	if n := c.Len(); n != 0 {
		t.Errorf("Len() = %d, want 0: the dead feeder's item is written off", n)
	}
}

// Putters and getters of bulk and small items on one queue, through
// several handles: every item arrives once and whole, and each getter
// sees each putter's items in the order they were put.
func TestBulkConcurrent(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		t.Run(fmt.Sprintf("buffered=%v", buffered), func(t *testing.T) {
			testBulkConcurrent(t, buffered)
		})
	}
}

func testBulkConcurrent(t *testing.T, buffered bool) {
	const putters, getters, each = 3, 2, 60
	c := newCore(t, FIFO, 0, DefaultCapacity, buffered)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sizeOf := func(seq int) int {
		if seq%3 == 2 {
			return 16 // a small item between bulk ones
		}
		return (100 + 97*seq%400) << 10
	}
	var wg sync.WaitGroup
	errc := make(chan error, putters+getters)
	for p := range putters {
		h := twin(t, c)
		wg.Go(func() {
			for seq := range each {
				if err := h.Put(ctx, Item{Data: bulkItem(p, seq, sizeOf(seq))}, true); err != nil {
					errc <- err
					return
				}
			}
			errc <- h.Flush(ctx)
		})
	}
	got := make([][][2]int, getters)
	var mu sync.Mutex
	taken := 0
	for g := range getters {
		h := twin(t, c)
		wg.Go(func() {
			for {
				mu.Lock()
				done := taken == putters*each
				if !done {
					taken++
				}
				mu.Unlock()
				if done {
					errc <- nil
					return
				}
				it, err := h.take(ctx, true)
				if err != nil {
					errc <- err
					return
				}
				who, seq := int(it.Data[0]), int(it.Data[1])
				if !bytes.Equal(it.Data, bulkItem(who, seq, sizeOf(seq))) {
					errc <- fmt.Errorf("item %d of putter %d: %d bytes, torn or mixed", seq, who, len(it.Data))
					return
				}
				got[g] = append(got[g], [2]int{who, seq})
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[[2]int]bool{}
	for g, items := range got {
		last := map[int]int{}
		for _, id := range items {
			if seen[id] {
				t.Fatalf("item %v got twice", id)
			}
			seen[id] = true
			if prev, ok := last[id[0]]; ok && id[1] <= prev {
				t.Fatalf("getter %d got putter %d's item %d after its item %d", g, id[0], id[1], prev)
			}
			last[id[0]] = id[1]
		}
	}
	if len(seen) != putters*each {
		t.Fatalf("%d items got, want %d", len(seen), putters*each)
	}
	if c.blk.Owner() != 0 || c.rbl.Owner() != 0 || c.lk.Owner() != 0 {
		t.Error("a lock is still held")
	}
}

// A shutdown with immediate while a getter copies a bulk item out makes
// the getter look again, and find the queue shut down: it does not hand
// over an item the queue no longer holds.
func TestBulkGetMeetsShutdown(t *testing.T) {
	c := newCore(t, FIFO, 0, DefaultCapacity, false)
	if err := c.Put(context.Background(), Item{Data: bulkItem(1, 1, 200<<10)}, true); err != nil {
		t.Fatal(err)
	}
	d := twin(t, c)
	d.atBulkCopy = func() {
		if err := c.Shutdown(true); err != nil {
			t.Error(err)
		}
	}
	err := d.Get(context.Background(), false, func(it Item) error {
		t.Errorf("an item of %d bytes was handed over after the shutdown", len(it.Data))
		return nil
	})
	if !errors.Is(err, errs.ErrShutDown) {
		t.Errorf("Get() = %v, want ErrShutDown", err)
	}
}

// A feeder with only small items buffered moves them while a bulk putter
// copies in: it does not wait for the bulk writers' lock.
func TestSmallFeederIgnoresBulkLock(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, true)
	d := twin(t, c)
	d.lockBulk() // a bulk putter, in its copy
	defer d.unlockBulk()
	n := 0
	for ; !c.fd.has(); n++ {
		put(t, c, fmt.Sprint(n))
	}
	for i := range n {
		if got := get(t, d); got != fmt.Sprint(i) {
			t.Fatalf("item %d = %q", i, got)
		}
	}
}
