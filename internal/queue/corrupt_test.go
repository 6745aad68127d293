package queue

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"
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
					_, err := c.Get(context.Background(), false)
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
	time.Sleep(200 * time.Millisecond) // b sleeps on maxsize
	a.CancelFlush()
	a.Close() // drops a's buffered items: slots are free
	if err := <-errc; err != nil {
		t.Errorf("Put waiting for a slot freed by dropBuffered: %v", err)
	}
}

// A Put that entered before Close, and waits for the shared lock (held by
// another handle, as another process would hold it), buffers its item and
// starts the feeder after Close's fd.stop(): Close then unmaps the region
// under the running feeder.
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
		time.Sleep(5 * time.Millisecond) // Put entered and waits for the lock
		closed := make(chan struct{})
		go func() { c.Close(); close(closed) }()
		time.Sleep(5 * time.Millisecond) // Close stopped the (idle) feeder and waits for Put
		other.unlock()
		if err := <-putDone; err != nil {
			t.Fatalf("Put: %v", err)
		}
		<-closed
	}
	time.Sleep(100 * time.Millisecond) // a feeder started late would fault here
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
