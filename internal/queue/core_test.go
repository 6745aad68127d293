package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

func newCore(t *testing.T, kind Kind, maxsize, capacity int, buffered bool) *Core {
	t.Helper()
	c, err := New(kind, maxsize, capacity, buffered)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// twin returns a second handle on c's queue, as another process would get.
func twin(t *testing.T, c *Core) *Core {
	t.Helper()
	dups, err := dupFDs(c)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Attach(dups, c.buffered)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// dupFDs returns copies of c's descriptors.
func dupFDs(c *Core) ([]int, error) {
	var dups []int
	err := c.FDs(func(fds []int) error {
		for _, fd := range fds {
			d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				return err
			}
			dups = append(dups, d)
		}
		return nil
	})
	return dups, err
}

func put(t *testing.T, c *Core, s string) {
	t.Helper()
	if err := c.Put(context.Background(), Item{Data: []byte(s)}, true); err != nil {
		t.Fatalf("Put(%q): %v", s, err)
	}
}

// take gets an item with Get, keeping it as it was handed over.
func (c *Core) take(ctx context.Context, wait bool) (Item, error) {
	var it Item
	err := c.Get(ctx, wait, func(got Item) error {
		it = got
		return nil
	})
	return it, err
}

func get(t *testing.T, c *Core) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it, err := c.take(ctx, true)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	descr.Close(it.FDs)
	return string(it.Data)
}

// waitUntil polls cond every millisecond until it holds, and fails the
// test if it does not within 20 s: tests wait for a condition, not for a
// guessed time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after 20 s", what)
		}
	}
}

// sleeping returns a condition that holds once c's queue has the given
// numbers of registered getters, putters and joiners (see Sleepers).
func sleeping(c *Core, getters, putters, joiners int) func() bool {
	return func() bool {
		g, p, j := c.Sleepers()
		return g == getters && p == putters && j == joiners
	}
}

func TestOrders(t *testing.T) {
	less := func(x string) func([]byte) bool {
		return func(e []byte) bool { return x < string(e) }
	}
	for _, tc := range []struct {
		kind Kind
		want string
	}{{FIFO, "dbcae"}, {LIFO, "eacbd"}, {Priority, "abcde"}} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			c := newCore(t, tc.kind, 0, 0, false)
			for _, s := range []string{"d", "b", "c", "a", "e"} {
				if err := c.Put(context.Background(), Item{Data: []byte(s), After: less(s)}, true); err != nil {
					t.Fatal(err)
				}
			}
			if c.Len() != 5 {
				t.Errorf("Len() = %d, want 5", c.Len())
			}
			var got string
			for range 5 {
				got += get(t, c)
			}
			if got != tc.want {
				t.Errorf("order %q, want %q", got, tc.want)
			}
			if _, err := c.take(context.Background(), false); !errors.Is(err, errs.ErrEmpty) {
				t.Errorf("Get on empty = %v, want ErrEmpty", err)
			}
		})
	}
}

func TestPriorityStableAndCompaction(t *testing.T) {
	c := newCore(t, Priority, 0, minCapacity, false)
	// Keys repeat; items of equal key come out in the order put. Taking
	// items out of the middle leaves holes that later puts compact.
	seq := 0
	mk := func(k int) Item {
		seq++
		d := []byte(fmt.Sprintf("%03d:%05d:%s", k, seq, bytes.Repeat([]byte("x"), 40)))
		return Item{Data: d, After: func(e []byte) bool { return string(d[:3]) < string(e[:3]) }}
	}
	for round := range 20 {
		for k := range 10 {
			if err := c.Put(context.Background(), mk((k*7+round)%5), false); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		prev := ""
		for range 8 {
			s := get(t, c)
			if s[:9] < prev {
				t.Fatalf("round %d: %q after %q", round, s[:9], prev)
			}
			prev = s[:9]
		}
	}
}

func TestBoundedFullAndWait(t *testing.T) {
	c := newCore(t, FIFO, 2, 0, true)
	put(t, c, "a")
	put(t, c, "b")
	if !c.Full() {
		t.Error("Full() = false with 2 of 2")
	}
	if err := c.Put(context.Background(), Item{Data: []byte("c")}, false); !errors.Is(err, errs.ErrFull) {
		t.Errorf("TryPut on full = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Put(ctx, Item{Data: []byte("c")}, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Put on full with deadline = %v", err)
	}
	d := twin(t, c)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- d.Put(ctx, Item{Data: []byte("c")}, true)
	}()
	waitUntil(t, "the Put sleeps for a slot", sleeping(c, 0, 1, 0))
	if got := get(t, c); got != "a" {
		t.Errorf("got %q", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := get(t, c) + get(t, c); got != "bc" {
		t.Errorf("got %q", got)
	}
}

func TestBufferedOverflowKeepsOrder(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, true)
	const n = 2000
	for i := range n {
		put(t, c, fmt.Sprint(i))
	}
	if c.Len() != n {
		t.Errorf("Len() = %d, want %d", c.Len(), n)
	}
	d := twin(t, c)
	for i := range n {
		if got := get(t, d); got != fmt.Sprint(i) {
			t.Fatalf("item %d = %q", i, got)
		}
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestUnbufferedWaitsForRoom(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, false)
	big := bytes.Repeat([]byte("y"), 100)
	n := 0
	for c.Put(context.Background(), Item{Data: big}, false) == nil {
		n++
	}
	if n == 0 || n > minCapacity/100 {
		t.Fatalf("%d items of 100 bytes fitted in %d", n, minCapacity)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- c.Put(ctx, Item{Data: big}, true)
	}()
	waitUntil(t, "the Put sleeps for room", sleeping(c, 0, 1, 0))
	get(t, c)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSocketItems(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, true)
	d := twin(t, c)
	r, w, err := pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(r)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	put(t, c, "first")
	if err := c.Put(context.Background(), Item{Data: []byte("with fd"), FDs: []int{w}}, true); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(context.Background(), Item{Data: big}, true); err != nil {
		t.Fatal(err)
	}
	put(t, c, "last")
	if got := get(t, d); got != "first" {
		t.Errorf("got %q", got)
	}
	it, err := d.take(context.Background(), true)
	if err != nil || string(it.Data) != "with fd" || len(it.FDs) != 1 {
		t.Fatalf("got %q %v %v", it.Data, it.FDs, err)
	}
	unix.Write(it.FDs[0], []byte("!"))
	descr.Close(it.FDs)
	var b [1]byte
	if n, _ := unix.Read(r, b[:]); n != 1 || b[0] != '!' {
		t.Error("the descriptor did not arrive working")
	}
	if got := get(t, d); got != string(big) {
		t.Errorf("big item: %d bytes", len(got))
	}
	if got := get(t, d); got != "last" {
		t.Errorf("got %q", got)
	}
}

func pipe() (int, int, error) {
	p, err := descr.Pipe()
	return p[0], p[1], err
}

func TestManyGoroutines(t *testing.T) {
	c := newCore(t, FIFO, 16, minCapacity, true)
	d := twin(t, c)
	const producers, per = 4, 500
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range per {
				if err := c.Put(context.Background(), Item{Data: []byte(fmt.Sprintf("%d:%d", p, i))}, true); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var mu sync.Mutex
	seen := map[string]int{}
	last := map[string]int{}
	for range 3 {
		wg.Go(func() {
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				it, err := d.take(ctx, true)
				cancel()
				if err != nil {
					return
				}
				var p, i int
				fmt.Sscanf(string(it.Data), "%d:%d", &p, &i)
				mu.Lock()
				seen[string(it.Data)]++
				_ = last
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != producers*per {
		t.Errorf("%d distinct items, want %d", len(seen), producers*per)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s got %d times", k, n)
		}
	}
}

func TestJoin(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, true)
	if err := c.TaskDone(); !errors.Is(err, errs.ErrTooManyReleases) {
		t.Errorf("TaskDone on empty = %v", err)
	}
	put(t, c, "a")
	put(t, c, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := c.Join(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Join with pending work = %v", err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- c.Join(ctx)
	}()
	waitUntil(t, "Join sleeps", sleeping(c, 0, 0, 1))
	get(t, c)
	get(t, c)
	epoch := c.r.u64(offEpochHint).Load()
	c.TaskDone()
	// A sleeping Join returns only once the count of times the work ran
	// out moves (or its context ends): that count must not have moved.
	if e := c.r.u64(offEpochHint).Load(); e != epoch || c.Unfinished() != 1 {
		t.Fatalf("after one of two TaskDones: epoch %d (was %d), %d unfinished", e, epoch, c.Unfinished())
	}
	select {
	case <-done:
		t.Fatal("Join returned with one task unfinished")
	default:
	}
	c.TaskDone()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWaitFD(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, true)
	fd := c.WaitFD()
	readable := func() bool {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, _ := unix.Poll(p, 0)
		return n > 0
	}
	if readable() {
		t.Error("readable while empty")
	}
	put(t, c, "a")
	if !readable() {
		t.Error("not readable with an item")
	}
	get(t, c)
	if readable() {
		t.Error("readable after the last item was taken")
	}
}

func TestCloseWakesGetter(t *testing.T) {
	c, err := New(FIFO, 0, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.take(context.Background(), true)
		done <- err
	}()
	waitUntil(t, "the Get sleeps", sleeping(c, 1, 0, 0))
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, errs.ErrClosed) {
			t.Errorf("Get after Close = %v, want errs.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake the sleeping Get")
	}
}

func TestCorruptMemory(t *testing.T) {
	for _, kind := range []Kind{FIFO, LIFO} {
		c := newCore(t, kind, 0, 0, false)
		put(t, c, "hello")
		// Scribble over the record's length.
		copy(c.data[0:4], []byte{0xff, 0xff, 0xff, 0x7f})
		if _, err := c.take(context.Background(), false); err == nil {
			t.Errorf("%v: Get on corrupt memory gave no error", kind)
		}
	}
}

func TestBufferLimit(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, true)
	d := twin(t, c)
	// 40 MiB through a queue whose producer may buffer 16 MiB: Put must
	// wait for the feeder now and then, and every item arrive in order.
	const n, size = 10000, 4 << 10
	done := make(chan error, 1)
	go func() {
		item := make([]byte, size)
		for i := range n {
			item[0], item[1] = byte(i), byte(i>>8)
			if err := c.Put(context.Background(), Item{Data: item, Raw: true}, true); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		it, err := d.take(ctx, true)
		cancel()
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		if len(it.Data) != size || int(it.Data[0])|int(it.Data[1])<<8 != i&0xffff || !it.Raw {
			t.Fatalf("item %d: %d bytes, tag %d", i, len(it.Data), int(it.Data[0])|int(it.Data[1])<<8)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An item a queue cannot hold, or a handle a LIFO queue cannot carry, is
// refused with its own sentinel: not a protocol error, which is for bytes
// from a peer.
func TestPutRefusals(t *testing.T) {
	c := newCore(t, LIFO, 0, minCapacity, false)
	err := c.Put(context.Background(), Item{Data: make([]byte, 2*minCapacity)}, false)
	if !errors.Is(err, errs.ErrItemTooLarge) || errors.Is(err, errs.ErrProtocol) {
		t.Errorf("Put of an item larger than the queue = %v, want ErrItemTooLarge alone", err)
	}
	fd, derr := unix.Dup(0)
	if derr != nil {
		t.Fatal(derr)
	}
	err = c.Put(context.Background(), Item{Data: []byte("x"), FDs: []int{fd}}, false)
	if !errors.Is(err, errs.ErrHandles) {
		t.Errorf("Put of a handle on a LIFO queue = %v, want ErrHandles", err)
	}
}

// Bulk items of changing sizes come out whole and in order: a Get makes
// memory of the last bulk item's size before it takes the lock, and uses
// it only for an item of that size.
func TestBulkSizesChange(t *testing.T) {
	c := newCore(t, FIFO, 0, DefaultCapacity, false)
	d := twin(t, c)
	sizes := []int{300 << 10, 300 << 10, 1 << 20, 100, 1 << 20, 1<<20 - 8, 64<<10 + 1, 2 << 20, 300 << 10}
	ctx := context.Background()
	go func() {
		for i, n := range sizes {
			c.Put(ctx, Item{Data: bytes.Repeat([]byte{byte(i + 1)}, n), Raw: i%2 == 0}, true)
		}
	}()
	for i, n := range sizes {
		it, err := d.take(ctx, true)
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		descr.Close(it.FDs)
		if !bytes.Equal(it.Data, bytes.Repeat([]byte{byte(i + 1)}, n)) || it.Raw != (i%2 == 0) {
			t.Fatalf("item %d: %d bytes (raw %v), want %d bytes of %d", i, len(it.Data), it.Raw, n, i+1)
		}
	}
}

// Putters in two processes wait for room in a full queue while a consumer
// empties it: every one of them is woken, though a Get rings the space
// bell only once for the sleepers registered before it.
func TestSpaceSleepersAllWake(t *testing.T) {
	c := newCore(t, FIFO, 0, minCapacity, false)
	d := twin(t, c)
	e := twin(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	item := bytes.Repeat([]byte("x"), 1000)
	for c.Put(ctx, Item{Data: item}, false) == nil {
	}
	const each = 50
	var wg sync.WaitGroup
	for _, p := range []*Core{c, d} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := p.Put(ctx, Item{Data: item}, true); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	got := 0
	for {
		_, err := e.take(ctx, got < 2*each)
		if errors.Is(err, errs.ErrEmpty) {
			break
		}
		if err != nil {
			t.Fatalf("after %d items: %v", got, err)
		}
		got++
	}
	wg.Wait()
	if got < 2*each {
		t.Fatalf("got %d items, want at least %d", got, 2*each)
	}
}
