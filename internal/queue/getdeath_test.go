package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// The points inside Get at which a getter is killed by TestGetterDiesInGet.
const (
	// inAccept: in the hand-over, with the item read from shared memory
	// (and a socket item's datagram and blob read), as a decoder would.
	inAccept = "accept"
	// beforeCommit: just before the state without the item becomes
	// current, after the hand-over.
	beforeCommit = "commit"
	// afterCommit: just after it, past the point where the item is the
	// caller's.
	afterCommit = "committed"
	// inBulkCopy: with an item of the bulk ring copied out, the queue's
	// lock let go and the bulk readers' lock held (bulk.go).
	inBulkCopy = "bulkcopy"
)

// dieInGet runs in a child: it gets from the queue whose descriptors it
// inherited, and kills itself at the point named (see the constants
// above).
func dieInGet(point string) {
	c := inherited()
	die := func() {
		unix.Kill(os.Getpid(), unix.SIGKILL)
		select {} // the signal is on its way
	}
	c.atCommit = func(after bool) {
		if (point == beforeCommit && !after) || (point == afterCommit && after) {
			die()
		}
	}
	c.atBulkCopy = func() {
		if point == inBulkCopy {
			die()
		}
	}
	c.Get(context.Background(), true, func(it Item) error {
		if point == inAccept {
			die()
		}
		return nil
	})
	os.Exit(3) // the point was not reached
}

// getDeathItem is an item of the shape that takes one path through a queue.
type getDeathItem struct {
	name string
	size int
	fd   bool
	fifo bool // only a FIFO queue takes it
}

var getDeathItems = []getDeathItem{
	{name: "inline", size: 100},
	{name: "bulk", size: 200 << 10},
	{name: "handle", size: 100, fd: true, fifo: true},
	{name: "blob", size: 3 << 19, fifo: true},
	{name: "blob+handle", size: 3 << 19, fd: true, fifo: true},
}

// A getter killed anywhere inside Get before its commit leaves the item in
// its place, whole, for the next getter: the front of a FIFO queue, the
// top of a LIFO one, the head of a priority queue; with the descriptors it
// carries. Join sees no item lost. One killed after the commit has taken
// the item: Join reports it dead with the item.
func TestGetterDiesInGet(t *testing.T) {
	for _, kind := range []Kind{FIFO, LIFO, Priority} {
		for _, shape := range getDeathItems {
			if shape.fifo && kind != FIFO {
				continue
			}
			points := []string{inAccept, beforeCommit, afterCommit}
			if kind == FIFO && shape.name == "bulk" {
				points = append(points, inBulkCopy)
			}
			for _, point := range points {
				t.Run(fmt.Sprintf("%v/%s/%s", kind, shape.name, point), func(t *testing.T) {
					testGetterDiesInGet(t, kind, shape, point)
				})
			}
		}
	}
}

func testGetterDiesInGet(t *testing.T, kind Kind, shape getDeathItem, point string) {
	c := newCore(t, kind, 0, DefaultCapacity, false)
	c.SetJoinable()
	target := bytes.Repeat([]byte{'t'}, shape.size)
	first := func(e []byte) bool { return true } // the target comes first
	r := -1
	it := Item{Data: target, After: first}
	if shape.fd {
		var w int
		var err error
		r, w, err = pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(r)
		it.FDs = []int{w}
	}
	putBoth := []func(){
		func() { put(t, c, "next") },
		func() {
			if err := c.Put(context.Background(), it, true); err != nil {
				t.Fatal(err)
			}
		},
	}
	if kind == FIFO {
		putBoth[0], putBoth[1] = putBoth[1], putBoth[0]
	}
	putBoth[0]()
	putBoth[1]()

	err := runChild(t, c, "die-in-get:"+point)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the getter ended with %v, want killed at the point", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	want := []string{string(target), "next"}
	if point == afterCommit {
		want = want[1:]
	}
	for _, w := range want {
		got, err := c.take(ctx, true)
		if err != nil {
			t.Fatalf("Get after the death: %v", err)
		}
		checkDeathItem(t, got, w, shape.fd && w == string(target), r)
		if err := c.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.take(ctx, false); !errors.Is(err, errs.ErrEmpty) {
		t.Errorf("Get on the drained queue = %v, want ErrEmpty", err)
	}
	if kind == FIFO {
		// A death after the commit may leave the datagram of the item
		// taken in the socket: the next socket item's Get discards it.
		if err := c.Put(ctx, sockItem(t, "last"), true); err != nil {
			t.Fatal(err)
		}
		if got := get(t, c); got != "last" {
			t.Errorf("Get() = %q, want the last item", got)
		}
		c.TaskDone()
		if _, present, _ := peekSeq(c.sock[1]); present {
			t.Error("a datagram is left in the socket")
		}
		// On a Unix stream, nor is the copy held aside while an item is
		// handed over (sock_stream.go's hold).
		if _, present, _ := peekSeq(c.sock[0]); present {
			t.Error("a held copy of a datagram is left in the socket")
		}
	}
	err = c.Join(ctx)
	if point == afterCommit {
		if !errors.Is(err, errs.ErrConsumerDied) {
			t.Errorf("Join() after a death past the commit = %v, want ErrConsumerDied", err)
		}
	} else if err != nil {
		t.Errorf("Join() = %v, want nil: no item was lost", err)
	}
}

// checkDeathItem checks an item got after the death: its bytes, and its
// descriptor if it carries one (the write end of the pipe whose read end
// is r).
func checkDeathItem(t *testing.T, got Item, want string, fd bool, r int) {
	t.Helper()
	defer descr.Close(got.FDs)
	if string(got.Data) != want {
		t.Fatalf("Get after the death = %d bytes %.8q, want %d bytes %.8q", len(got.Data), got.Data, len(want), want)
	}
	if !fd {
		if len(got.FDs) != 0 {
			t.Errorf("item with %d descriptors, want none", len(got.FDs))
		}
		return
	}
	if len(got.FDs) != 1 {
		t.Fatalf("item with %d descriptors, want 1", len(got.FDs))
	}
	if _, err := unix.Write(got.FDs[0], []byte("!")); err != nil {
		t.Fatalf("the item's descriptor: %v", err)
	}
	var b [1]byte
	if n, _ := unix.Read(r, b[:]); n != 1 || b[0] != '!' {
		t.Error("the item's descriptor does not reach its pipe")
	}
}

// An item that accept refuses, or panics on, is removed all the same, and
// the lock is released.
func TestAcceptFails(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	put(t, c, "bad")
	put(t, c, "worse")
	put(t, c, "good")
	refused := errors.New("refused")
	if err := c.Get(context.Background(), false, func(Item) error { return refused }); err != refused {
		t.Errorf("Get() with accept failing = %v, want its error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("accept's panic did not reach the caller")
			}
		}()
		c.Get(context.Background(), false, func(Item) error { panic("accept") })
	}()
	if got := get(t, c); got != "good" {
		t.Errorf("Get() after two failed hand-overs = %q, want good", got)
	}
	if c.lk.Owner() != 0 {
		t.Error("the lock is still held")
	}
}
