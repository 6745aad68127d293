//go:build !linux || mpportable

package queue

import (
	"context"
	"errors"
	"testing"

	"github.com/mpgo/mp/internal/descr"
	"golang.org/x/sys/unix"
)

// A frame whose length no queue writes (bytes from anywhere but a Put, in
// a socket shared with processes that may run anything) puts the stream
// out of step: a Get says the queue is corrupt, at once, instead of
// allocating what the length says or looping on a frame it cannot take.
func TestStreamOutOfStep(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	// A length of 4 GiB and a sequence number of zero, below every ticket's.
	bogus := []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, err := unix.Write(c.sock[0], bogus); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(context.Background(), sockItem(t, "one"), true); err != nil {
		t.Fatal(err)
	}
	_, err := c.take(context.Background(), false)
	if !errors.Is(err, errCorrupt) {
		t.Fatalf("Get behind a bogus frame: %v, want errCorrupt", err)
	}
}

// A Get holds a copy of a socket item aside until it commits, and drops it
// then: nothing is left either way in the pair after the item is taken.
func TestStreamHoldsUntilCommit(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	if err := c.Put(context.Background(), sockItem(t, "one"), true); err != nil {
		t.Fatal(err)
	}
	var held bool
	err := c.Get(context.Background(), false, func(it Item) error {
		defer descr.Close(it.FDs)
		_, held, _ = peekSeq(c.sock[0])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !held {
		t.Error("no copy of the item was held aside while it was handed over")
	}
	if _, present, _ := peekSeq(c.sock[0]); present {
		t.Error("the held copy is left after the commit")
	}
}
