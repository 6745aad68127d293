package connring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/stacks"
	"github.com/mpgo/mp/internal/transport"
	"golang.org/x/sys/unix"
)

// pair makes a pipe for a test, skipping where the build has no rings.
func pair(t *testing.T) (*End, *End) {
	t.Helper()
	a, b, err := Pair(0)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no ring pipes on this build's mechanisms")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// payload returns n bytes that name message i.
func payload(i, n int) []byte {
	b := bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a}, n/3+1)[:n]
	return b
}

func TestMessagesOfEverySizeKeepTheirOrder(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	sizes := []int{0, 1, 64, 4 << 10, RingSize/4 - recHdr, RingSize/4 + 1, 3 << 20, 9 << 20}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, n := range sizes {
			if err := a.Send(ctx, transport.Msg{Kind: 7, Data: payload(i, n)}); err != nil {
				t.Errorf("send %d bytes: %v", n, err)
				return
			}
		}
	}()
	for i, n := range sizes {
		m, err := b.RecvInto(ctx, nil)
		if err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
		if m.Kind != 7 || !bytes.Equal(m.Data, payload(i, n)) {
			t.Fatalf("message %d: kind %d, %d bytes, want %d", i, m.Kind, len(m.Data), n)
		}
	}
	wg.Wait()
}

func TestDescriptorsKeepTheirPlace(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	const n = 50
	for i := range n {
		m := transport.Msg{Kind: 1, Data: payload(i, 16)}
		var p [2]int
		if i%3 == 0 {
			if err := unix.Pipe(p[:]); err != nil {
				t.Fatal(err)
			}
			unix.Write(p[1], []byte{byte(i)})
			unix.Close(p[1])
			m.FDs = []int{p[0]}
		}
		if err := a.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		if len(m.FDs) > 0 {
			unix.Close(p[0])
		}
	}
	for i := range n {
		m, err := b.RecvInto(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Data, payload(i, 16)) {
			t.Fatalf("message %d out of order", i)
		}
		if (i%3 == 0) != (len(m.FDs) == 1) {
			t.Fatalf("message %d has %d descriptors", i, len(m.FDs))
		}
		if len(m.FDs) == 1 {
			var c [1]byte
			if k, _ := unix.Read(m.FDs[0], c[:]); k != 1 || c[0] != byte(i) {
				t.Fatalf("message %d's descriptor reads %d bytes: %v", i, k, c)
			}
			m.Close()
		}
	}
}

func TestRecvIntoTheCallersBuffer(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	for _, n := range []int{100, RingSize / 2} {
		if err := a.Send(ctx, transport.Msg{Kind: 2, Data: payload(n, n)}); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, n+10)
		m, err := b.RecvInto(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Data) != n || &m.Data[0] != &buf[0] || !bytes.Equal(m.Data, payload(n, n)) {
			t.Fatalf("%d bytes: not received into the buffer whole", n)
		}
	}
}

func TestEOFComesAfterEveryMessage(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	for i := range 10 {
		if err := a.Send(ctx, transport.Msg{Kind: 1, Data: payload(i, 10)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Send(ctx, transport.Msg{Kind: 1, Data: payload(10, RingSize)}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	for i := range 11 {
		if _, err := b.RecvInto(ctx, nil); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if _, err := b.RecvInto(ctx, nil); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last message: %v, want EOF", err)
	}
	if err := b.Send(ctx, transport.Msg{Kind: 1}); !errors.Is(err, unix.EPIPE) {
		t.Fatalf("send to a closed end = %v, want EPIPE", err)
	}
}

func TestSleepingReaderWakes(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	got := make(chan error)
	go func() {
		m, err := b.RecvInto(ctx, nil)
		if err == nil && string(m.Data) != "late" {
			err = fmt.Errorf("got %q", m.Data)
		}
		got <- err
	}()
	waitSleepers(t, &b.in, 1)
	if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// The wake was taken out with the last record.
	if b.in.wake.Load() != 0 || readable(t, b) {
		t.Fatal("the socket stays readable with the ring empty")
	}
	go func() { _, err := b.RecvInto(ctx, nil); got <- err }()
	waitSleepers(t, &b.in, 1)
	a.Close()
	if err := <-got; !errors.Is(err, io.EOF) {
		t.Fatalf("sleeping reader after the other end closed: %v, want EOF", err)
	}
}

// waitSleepers waits until n readers are registered as sleeping on d and
// as many goroutines of this process sleep in the poller for it.
func waitSleepers(t *testing.T, d *dir, n uint32) {
	t.Helper()
	waitFor(t, func() bool {
		return d.sleepers.Load() == n && stacks.Count("IO wait", "transport.(*Conn).WaitReadable") >= int(n)
	})
}

// readable polls e's descriptor without waiting.
func readable(t *testing.T, e *End) bool {
	t.Helper()
	var ready bool
	e.sock.Control(func(fd int) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 0)
		ready = err == nil && n > 0
	})
	return ready
}

func TestDescriptorIsReadableWhileAMessageWaits(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	if ready, err := b.Armed(ctx); ready || err != nil {
		t.Fatalf("Armed on an empty pipe = %v, %v", ready, err)
	}
	if readable(t, b) {
		t.Fatal("readable with nothing sent")
	}
	for i := range 3 {
		a.Send(ctx, transport.Msg{Kind: 1, Data: []byte{byte(i)}})
	}
	// A ticket behind the wake, then a record: the ticket's reader takes
	// the wake in front of its datagram, and the one sent behind it keeps
	// the socket readable.
	a.Send(ctx, transport.Msg{Kind: 1, Data: payload(3, RingSize/2)})
	a.Send(ctx, transport.Msg{Kind: 1, Data: []byte{4}})
	for i := range 5 {
		if !readable(t, b) {
			t.Fatalf("not readable with message %d waiting", i)
		}
		if _, err := b.RecvInto(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if readable(t, b) {
		t.Fatal("readable with every message taken")
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if ok, err := b.Poll(ended); ok || err != nil {
		t.Fatalf("Poll on an empty pipe = %v, %v", ok, err)
	}
	a.Close()
	if ok, err := b.Poll(ended); !ok || err != nil {
		t.Fatalf("Poll after the other end closed = %v, %v", ok, err)
	}
}

func TestFullRingHoldsTheSender(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	msg := transport.Msg{Kind: 1, Data: make([]byte, 60<<10)}
	sent := 0
	for {
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		err := a.Send(short, msg)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sent++
	}
	if sent < 4 || sent > RingSize/len(msg.Data) {
		t.Fatalf("%d messages of 60 KiB went in before the sender waited", sent)
	}
	done := make(chan error)
	go func() { done <- a.Send(ctx, msg) }()
	waitFor(t, func() bool { return a.out.space.Load() == 1 && stacks.Count("", "connring.(*End).await") == 1 })
	if _, err := b.RecvInto(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("sender after a receive made room: %v", err)
	}
	if n := a.out.space.Load(); n != 0 {
		t.Fatalf("%d senders still registered as waiting", n)
	}
	// A reader that goes away lets a waiting sender go.
	go func() { done <- a.Send(ctx, msg) }()
	waitFor(t, func() bool { return a.out.space.Load() == 1 && stacks.Count("", "connring.(*End).await") == 1 })
	b.Close()
	if err := <-done; !errors.Is(err, unix.EPIPE) {
		t.Fatalf("waiting sender after the reader closed: %v, want EPIPE", err)
	}
}

// waitFor waits until cond holds: another goroutine gets there by itself,
// and the test only yields to it.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never came")
		}
		runtime.Gosched()
	}
}

func TestCloseEndsBlockedCalls(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	got := make(chan error)
	go func() { _, err := b.RecvInto(ctx, nil); got <- err }()
	waitSleepers(t, &b.in, 1)
	b.Close()
	if err := <-got; !errors.Is(err, errs.ErrClosed) {
		t.Fatalf("Recv across Close = %v, want ErrClosed", err)
	}
	if _, err := b.RecvInto(ctx, nil); !errors.Is(err, errs.ErrClosed) {
		t.Fatalf("Recv after Close = %v", err)
	}
	if err := b.Close(); !errors.Is(err, errs.ErrClosed) {
		t.Fatalf("second Close = %v", err)
	}
	_ = a
}

func TestContextEndsAWait(t *testing.T) {
	_, b := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := b.RecvInto(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv past its deadline = %v", err)
	}
	if n := b.in.sleepers.Load(); n != 0 {
		t.Fatalf("%d sleepers left registered", n)
	}
}

func TestReservedKindsAndSizeCap(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	if err := a.Send(ctx, transport.Msg{Kind: kindWake}); err == nil {
		t.Fatal("a message of the package's own kind was sent")
	}
	b.SetMaxSize(100)
	a.Send(ctx, transport.Msg{Kind: 1, Data: make([]byte, 101)})
	a.Send(ctx, transport.Msg{Kind: 1, Data: make([]byte, 100)})
	if _, err := b.RecvInto(ctx, nil); !errors.Is(err, errs.ErrTooLarge) {
		t.Fatalf("receive over the cap = %v", err)
	}
	if m, err := b.RecvInto(ctx, nil); err != nil || len(m.Data) != 100 {
		t.Fatalf("receive after = %d bytes, %v", len(m.Data), err)
	}
}

func TestNoDescriptorLeaks(t *testing.T) {
	before := openFDs(t)
	a, b := pair(t)
	ctx := testCtx(t)
	var p [2]int
	unix.Pipe(p[:])
	a.Send(ctx, transport.Msg{Kind: 1, FDs: []int{p[0]}})
	unix.Close(p[0])
	unix.Close(p[1])
	m, _ := b.RecvInto(ctx, nil)
	m.Close()
	a.Close()
	b.Close()
	if after := openFDs(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}
