package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/lockcore"
	"golang.org/x/sys/unix"
)

// kinds are the queues that share the core, as package mp makes them.
var kinds = []struct {
	name     string
	kind     Kind
	buffered bool
}{
	{"Queue", FIFO, true},
	{"SimpleQueue", FIFO, false},
	{"LifoQueue", LIFO, false},
	{"PriorityQueue", Priority, false},
}

// item makes an item that a priority queue orders by its bytes.
func item(s string) Item {
	return Item{Data: []byte(s), After: func(e []byte) bool { return s < string(e) }}
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestShutdownDrains(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			c := newCore(t, k.kind, 0, 0, k.buffered)
			d := twin(t, c)
			ctx := ctx10(t)
			for _, s := range []string{"b", "a", "c"} {
				if err := c.Put(ctx, item(s), true); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Shutdown(false); err != nil {
				t.Fatalf("Shutdown() = %v", err)
			}
			if err := d.Shutdown(false); err != nil {
				t.Fatalf("second Shutdown() = %v", err)
			}
			for _, wait := range []bool{true, false} {
				if err := c.Put(ctx, item("x"), wait); !errors.Is(err, errs.ErrShutDown) {
					t.Errorf("Put(wait=%v) after Shutdown = %v, want ErrShutDown", wait, err)
				}
			}
			got := ""
			for range 3 {
				it, err := c.take(ctx, true)
				if err != nil {
					t.Fatalf("Get() of an item left = %v", err)
				}
				got += string(it.Data)
			}
			want := map[Kind]string{FIFO: "bac", LIFO: "cab", Priority: "abc"}[k.kind]
			if got != want {
				t.Errorf("items left came out as %q, want %q", got, want)
			}
			for _, wait := range []bool{true, false} {
				if _, err := c.take(ctx, wait); !errors.Is(err, errs.ErrShutDown) {
					t.Errorf("Get(wait=%v) on a drained queue = %v, want ErrShutDown", wait, err)
				}
			}
			// A handle made after the shutdown, as a process that receives
			// the queue then gets it, sees it too.
			e := twin(t, c)
			if _, err := e.take(ctx, true); !errors.Is(err, errs.ErrShutDown) {
				t.Errorf("Get() on a later handle = %v, want ErrShutDown", err)
			}
			if c.Len() != 0 || c.Unfinished() != 3 {
				t.Errorf("Len() = %d, Unfinished() = %d; want 0, 3", c.Len(), c.Unfinished())
			}
		})
	}
}

func TestShutdownWakesSleepers(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := ctx10(t)
			empty := newCore(t, k.kind, 1, 0, k.buffered)
			full := newCore(t, k.kind, 1, 0, k.buffered)
			if err := full.Put(ctx, item("kept"), true); err != nil {
				t.Fatal(err)
			}
			getter, putter := twin(t, empty), twin(t, full)
			errc := make(chan error, 2)
			go func() {
				_, err := getter.take(ctx, true)
				errc <- err
			}()
			go func() { errc <- putter.Put(ctx, item("late"), true) }()
			waitUntil(t, "the Get sleeps", sleeping(empty, 1, 0, 0))
			waitUntil(t, "the Put sleeps", sleeping(full, 0, 1, 0))
			empty.Shutdown(false)
			full.Shutdown(false)
			for range 2 {
				if err := <-errc; !errors.Is(err, errs.ErrShutDown) {
					t.Errorf("blocked call after Shutdown = %v, want ErrShutDown", err)
				}
			}
			if it, err := full.take(ctx, true); err != nil || string(it.Data) != "kept" {
				t.Errorf("Get() = %q, %v; want the item put before the shutdown", it.Data, err)
			}
		})
	}
}

func TestShutdownNowDiscards(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			c := newCore(t, k.kind, 0, 0, k.buffered)
			d := twin(t, c)
			ctx := ctx10(t)
			for _, s := range []string{"b", "a", "c"} {
				if err := c.Put(ctx, item(s), true); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.take(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- d.Join(ctx) }()
			waitUntil(t, "the Join sleeps", sleeping(c, 0, 0, 1))
			if err := d.Shutdown(true); err != nil {
				t.Fatalf("Shutdown(immediate) = %v", err)
			}
			if _, err := c.take(ctx, true); !errors.Is(err, errs.ErrShutDown) {
				t.Errorf("Get() after an immediate shutdown = %v, want ErrShutDown", err)
			}
			// The two discarded items count as done, the one got does not.
			if c.Len() != 0 || c.Unfinished() != 1 {
				t.Errorf("Len() = %d, Unfinished() = %d; want 0, 1", c.Len(), c.Unfinished())
			}
			select {
			case err := <-done:
				t.Fatalf("Join() = %v with the item %q not done", err, got.Data)
			default:
			}
			if err := c.TaskDone(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Errorf("Join() = %v", err)
			}
		})
	}
}

// TestShutdownNowClosesDescriptors: the descriptors of discarded items, in
// the queue's socket, are closed, and so are large items' memfds.
func TestShutdownNowClosesDescriptors(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	ctx := ctx10(t)
	var p [2]int
	if err := pipeNonblock(&p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	big := bytes.Repeat([]byte("z"), 2<<20) // through the socket, in a memfd
	for _, it := range []Item{{Data: []byte("inline")}, {Data: []byte("fd"), FDs: []int{p[1]}}, {Data: big}, {Data: bytes.Repeat([]byte("b"), 100<<10)}} {
		if err := c.Put(ctx, it, true); err != nil {
			t.Fatal(err)
		}
	}
	c.Shutdown(true)
	var b [1]byte
	if n, err := unix.Read(p[0], b[:]); n != 0 || err != nil {
		t.Errorf("read of the pipe = %d, %v: its write end, in a discarded item, is still open", n, err)
	}
	if peek, present, err := peekSeq(c.sock[1]); present || err != nil {
		t.Errorf("the socket still holds datagram %d (%v)", peek, err)
	}
}

// TestShutdownWaitsForBufferedItems: items a producer accepted before the
// shutdown, and still buffers, reach the consumers after it.
func TestShutdownWaitsForBufferedItems(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, true)
	d := twin(t, c)
	const n = 2000
	for i := range n {
		put(t, c, fmt.Sprint(i))
	}
	if c.fd.n.Load() == 0 {
		t.Fatal("no item is buffered: the test tests nothing")
	}
	c.lock()
	h, ok := c.mySlot()
	if !ok || h.reserved.Load() != uint64(c.fd.n.Load()) || h.owner.Load() != lockcore.Self() {
		t.Errorf("this process's holder slot (%v) does not count the %d items it buffers", ok, c.fd.n.Load())
	}
	c.unlock()
	d.Shutdown(false)
	if err := c.Put(context.Background(), Item{Data: []byte("late")}, true); !errors.Is(err, errs.ErrShutDown) {
		t.Errorf("Put() after Shutdown = %v, want ErrShutDown", err)
	}
	ctx := ctx10(t)
	for i := range n {
		it, err := d.take(ctx, true)
		if err != nil || string(it.Data) != fmt.Sprint(i) {
			t.Fatalf("item %d = %q, %v", i, it.Data, err)
		}
	}
	if _, err := d.take(ctx, true); !errors.Is(err, errs.ErrShutDown) {
		t.Errorf("Get() after the last item = %v, want ErrShutDown", err)
	}
}

// TestShutdownNowDropsBuffered: feeders drop what they buffer, in the
// process that holds them, and the counts follow.
func TestShutdownNowDropsBuffered(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, true)
	d := twin(t, c)
	for i := range 2000 {
		put(t, c, fmt.Sprint(i))
	}
	if c.fd.n.Load() == 0 {
		t.Fatal("no item is buffered: the test tests nothing")
	}
	d.Shutdown(true)
	if _, err := d.take(context.Background(), true); !errors.Is(err, errs.ErrShutDown) {
		t.Errorf("Get() = %v, want ErrShutDown", err)
	}
	waitUntil(t, "the feeder drops its items", func() bool { return c.Len() == 0 && c.Unfinished() == 0 })
	if err := d.Join(ctx10(t)); err != nil {
		t.Errorf("Join() = %v", err)
	}
	if err := c.Flush(ctx10(t)); err != nil {
		t.Errorf("Flush() = %v", err)
	}
}

// TestShutdownWakesPutterOverBufferLimit: a Put waiting for its own feeder
// to drain the buffer fails once the queue is shut down.
func TestShutdownWakesPutterOverBufferLimit(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, true)
	chunk := bytes.Repeat([]byte("c"), 512<<10)
	ctx := ctx10(t)
	errc := make(chan error, 1)
	go func() {
		for {
			if err := c.Put(ctx, Item{Data: chunk}, true); err != nil {
				errc <- err
				return
			}
		}
	}()
	waitUntil(t, "a Put waits for the buffer", func() bool {
		over, _ := c.fd.overLimit()
		return over
	})
	twin(t, c).Shutdown(false)
	if err := <-errc; !errors.Is(err, errs.ErrShutDown) {
		t.Errorf("Put() over the buffer limit after Shutdown = %v, want ErrShutDown", err)
	}
	c.CancelFlush()
}

func TestShutdownMakesWaitFDReady(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	fd := c.WaitFD()
	ready := func() bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, _ := unix.Poll(pfd, 0)
		return n == 1
	}
	if ready() {
		t.Fatal("the wait descriptor of an empty queue is ready")
	}
	twin(t, c).Shutdown(false)
	if !ready() {
		t.Error("the wait descriptor of a queue shut down is not ready")
	}
}

// pipeNonblock makes *p a new close-on-exec, non-blocking pipe.
func pipeNonblock(p *[2]int) (err error) {
	if *p, err = descr.Pipe(); err != nil {
		return err
	}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			return err
		}
	}
	return nil
}
