package connring

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
	"golang.org/x/sys/unix"
)

// The tests here each stage an interleaving that once lost a message, hung
// a reader or crashed, and check that it no longer does.

// holderOf makes a second holder of e's end in this process, as another
// process that received it would hold it.
func holderOf(t *testing.T, e *End) *End {
	t.Helper()
	var fds [2]int
	err := e.Control(func(f [2]int) {
		for i := range f {
			d, err := unix.FcntlInt(uintptr(f[i]), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			fds[i] = d
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	x, err := Attach(fds, e.Side())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// devNull is a descriptor to send: a message with one is a ticket.
func devNull(t *testing.T) int {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return int(f.Fd())
}

// Armed (mp.Wait) while a Recv of the same End sleeps must not hold the
// ring's lock waiting for the socket the sleeper waits on.
func TestArmedWhileARecvSleeps(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	b.SetSpin(false)
	got := make(chan error, 1)
	go func() { _, err := b.Recv(ctx, nil); got <- err }()
	waitSleepers(t, &b.in, 1)
	if ready, err := b.Armed(ctx); ready || err != nil {
		t.Fatalf("Armed = %v, %v", ready, err)
	}
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.Send(short, transport.Msg{Kind: 1, Data: []byte("x")}); err != nil {
		t.Fatalf("send while a reader sleeps and another armed: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// A sender that died after its wake and before its commit left the wake
// flag set with an empty ring; the next reader must still be woken.
func TestWakeFlagLeftByADeadSender(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	b.SetSpin(false)
	d := &a.out
	d.polled.Store(1)
	if err := lock(ctx, d); err != nil {
		t.Fatal(err)
	}
	if w, err := a.wakeReaders(d, false); err != nil || !w.done {
		t.Fatal(w, err)
	}
	d.lk.Unlock() // dead before the store of the tail
	d.polled.Store(0)
	got := make(chan error, 1)
	go func() { _, err := b.Recv(ctx, nil); got <- err }()
	waitSleepers(t, &b.in, 1)
	if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// Ticket numbers past 2³¹ and their wrap: a wake in front of the datagram
// is a wake, whatever the numbers.
func TestTicketNumbersWrap(t *testing.T) {
	for _, start := range []uint32{1<<31 - 1, 1 << 31, 1<<32 - 2, 1<<32 - 1} {
		a, b := pair(t)
		ctx := testCtx(t)
		a.out.seq.Store(start)
		b.Fd() // polled: senders send wakes
		fd := devNull(t)
		for i := range 3 {
			a.Send(ctx, transport.Msg{Kind: 1, Data: []byte{byte(i)}})
			if err := a.Send(ctx, transport.Msg{Kind: 2, Data: []byte{byte(i)}, FDs: []int{fd}}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 6 {
			m, err := b.Recv(ctx, nil)
			if err != nil || m.Kind != byte(1+i%2) || m.Data[0] != byte(i/2) {
				t.Fatalf("from %#x, message %d: kind %d data %v, %v", start, i, m.Kind, m.Data, err)
			}
			m.Close()
		}
	}
}

// Tickets that fill the socket, then a record: once the tickets are taken
// the descriptor must stay readable while the record waits.
func TestFullSocketKeepsTheWake(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	b.Fd()
	fd := devNull(t)
	data := make([]byte, 100<<10)
	k := 0
	for {
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		err := a.Send(short, transport.Msg{Kind: 1, Data: data, FDs: []int{fd}})
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		k++
	}
	if err := a.Send(ctx, transport.Msg{Kind: 3, Data: []byte("small")}); err != nil {
		t.Fatal(err)
	}
	for range k {
		m, err := b.Recv(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	if b.in.empty() || !readable(t, b) {
		t.Fatalf("after %d tickets: ring empty %v, readable %v", k, b.in.empty(), readable(t, b))
	}
}

// Fd racing Close must not touch unmapped memory.
func TestFdRacingClose(t *testing.T) {
	for range 2000 {
		a, b, err := Pair()
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip("no ring pipes on this build's mechanisms")
		}
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { b.Fd(); close(done) }()
		b.Close()
		<-done
		a.Close()
	}
}

// A send after one that found the other end closed fails too.
func TestClosedPeerStaysClosed(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	b.Close()
	for i := range 3 {
		if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("x")}); !errors.Is(err, unix.EPIPE) {
			t.Fatalf("send %d to a closed end = %v, want EPIPE", i, err)
		}
	}
}

// A reader that died after taking ticket N leaves datagram N; if that
// datagram cannot be taken (over the next reader's cap), ticket N+1's
// message must not be lost with it.
func TestDeadReadersDatagramOverTheCap(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	fd := devNull(t)
	a.Send(ctx, transport.Msg{Kind: 1, Data: make([]byte, 1000), FDs: []int{fd}})
	a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("next"), FDs: []int{fd}})
	d := &b.in
	if err := lock(ctx, d); err != nil {
		t.Fatal(err)
	}
	_, _, head, _, _ := d.next()
	b.commit(d, head) // the reader dies here
	d.lk.Unlock()
	b.SetMaxSize(100)
	m, err := b.Recv(ctx, nil)
	if err != nil || string(m.Data) != "next" {
		t.Fatalf("after a dead reader's ticket: %q, %v", m.Data, err)
	}
	m.Close()
}

// A wrap record alone before the tail is no record: corrupt, not empty.
func TestTrailingWrapIsCorrupt(t *testing.T) {
	d := testDir(minRingSize)
	d.head.Store(minRingSize - 64)
	d.tail.Store(minRingSize)
	d.writeHdr(minRingSize-64, kindWrap, 0)
	if _, _, _, _, err := d.next(); !errors.Is(err, errs.ErrProtocol) {
		t.Fatalf("next = %v, want ErrProtocol", err)
	}
}

// Close by one holder, with its receive between taking a ticket and
// taking the datagram, must not lose the message for the other holders:
// Close waits for that receive before it closes the socket.
func TestCloseLetsATakenTicketFinish(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	b2 := holderOf(t, b)
	fd := devNull(t)
	for range 50 {
		if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("m"), FDs: []int{fd}}); err != nil {
			t.Fatal(err)
		}
	}
	var took atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			m, err := b.Recv(ctx, nil)
			if err != nil {
				return
			}
			m.Close()
			took.Add(1)
		}
	}()
	waitFor(t, func() bool { return took.Load() > 0 })
	b.Close()
	wg.Wait()
	a.Close()
	n := took.Load()
	for {
		m, err := b2.Recv(ctx, nil)
		if err != nil {
			if !errors.Is(err, errs.ErrClosed) && err.Error() != "EOF" {
				t.Fatal(err)
			}
			break
		}
		m.Close()
		n++
	}
	if n != 50 {
		t.Fatalf("%d of 50 messages received by the two holders", n)
	}
}

// Many holders of each end (separate Ends, as separate processes hold
// them), sending and receiving at once, with tickets among the records:
// nothing lost, nothing twice, each sender's order kept.
func TestManyHolders(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	const holders, each = 3, 2000
	senders, readers := []*End{a}, []*End{b}
	for range holders - 1 {
		senders = append(senders, holderOf(t, a))
		readers = append(readers, holderOf(t, b))
	}
	fd := devNull(t)
	var wg sync.WaitGroup
	for s, e := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := transport.Msg{Kind: 1, Data: []byte{byte(s), byte(i), byte(i >> 8)}}
				if i%7 == 0 {
					m.FDs = []int{fd}
				}
				if i%97 == 0 {
					m.Data = append(m.Data, make([]byte, RingSize/3)...)
				}
				if err := e.Send(ctx, m); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var mu sync.Mutex
	seen := map[[2]int]int{}
	var rg sync.WaitGroup
	for _, e := range readers {
		rg.Add(1)
		go func() {
			defer rg.Done()
			last := map[int]int{}
			for {
				m, err := e.Recv(ctx, nil)
				if err != nil {
					if err.Error() != "EOF" {
						t.Error(err)
					}
					return
				}
				s, i := int(m.Data[0]), int(m.Data[1])|int(m.Data[2])<<8
				if p, ok := last[s]; ok && i <= p {
					t.Errorf("sender %d: message %d after %d", s, i, p)
				}
				last[s] = i
				m.Close()
				mu.Lock()
				seen[[2]int{s, i}]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, e := range senders {
		e.Close()
	}
	rg.Wait()
	lost, dup := 0, 0
	for s := range holders {
		for i := range each {
			switch seen[[2]int{s, i}] {
			case 0:
				lost++
			case 1:
			default:
				dup++
			}
		}
	}
	t.Logf("%d holders of each end, %d messages each: %d lost, %d received twice", holders, each, lost, dup)
	if lost+dup != 0 {
		t.Fatalf("%d lost, %d received twice", lost, dup)
	}
}
