package connring

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
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
	go func() { _, err := b.RecvInto(ctx, nil); got <- err }()
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
	if err := lock(ctx, d.lk); err != nil {
		t.Fatal(err)
	}
	if w, err := a.wakeReaders(d, false); err != nil || !w.done {
		t.Fatal(w, err)
	}
	d.lk.Unlock() // dead before the store of the tail
	d.polled.Store(0)
	got := make(chan error, 1)
	go func() { _, err := b.RecvInto(ctx, nil); got <- err }()
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
			m, err := b.RecvInto(ctx, nil)
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
		m, err := b.RecvInto(ctx, nil)
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
		a, b, err := Pair(0)
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
	if err := lock(ctx, d.rlk); err != nil {
		t.Fatal(err)
	}
	if err := lock(ctx, d.lk); err != nil {
		t.Fatal(err)
	}
	_, _, head, _, _ := d.next()
	b.commit(d, head) // the reader dies here
	d.lk.Unlock()
	d.rlk.Unlock()
	b.SetMaxSize(100)
	m, err := b.RecvInto(ctx, nil)
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
			m, err := b.RecvInto(ctx, nil)
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
		m, err := b2.RecvInto(ctx, nil)
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
				m, err := e.RecvInto(ctx, nil)
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

// a wake sent for a sleeper, in front of a ticket's datagram sent
// when nobody slept or polled, is eaten by the reader of that ticket; the
// flag still says a wake is in the socket, so once the descriptor is
// handed out no sender sends one while records wait.
func TestFdAfterASleepersWake(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	fd := devNull(t)
	d := &b.in
	send := func(m transport.Msg) {
		t.Helper()
		if err := a.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	d.sleepers.Add(1) // a reader of another process sleeps
	send(transport.Msg{Kind: 1, Data: []byte("r1")})
	d.sleepers.Add(^uint32(0)) // its poll returned: it unregisters, not yet at the lock
	send(transport.Msg{Kind: 1, Data: []byte("t2"), FDs: []int{fd}})
	b.Fd() // handed out for polling from now on
	send(transport.Msg{Kind: 1, Data: []byte("r3")})
	for range 2 { // the woken reader takes r1 and t2
		m, err := b.RecvInto(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	send(transport.Msg{Kind: 1, Data: []byte("r4")})
	t.Logf("ring empty %v, wake flag %d, descriptor readable %v", d.empty(), d.wake.Load(), readable(t, b))
	if !d.empty() && !readable(t, b) {
		t.Fatalf("r3 and r4, sent after Fd, wait in the ring; the descriptor is not readable")
	}
}

// a receiver out of descriptor slots gets the ticket's datagram with
// MSG_CTRUNC; the error carries no header, so the ticket's receive skips
// it as an older orphan and takes (and drops) the next ticket's datagram,
// and so on down the line.
func TestTruncatedRightsLoseOneMessage(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	fd := devNull(t)
	// Warm up the receiving side (its spill region is a descriptor).
	a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("w"), FDs: []int{fd}})
	if m, err := b.RecvInto(ctx, nil); err != nil {
		t.Fatal(err)
	} else {
		m.Close()
	}
	const n = 4
	for i := range n {
		if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte{byte(i)}, FDs: []int{fd}}); err != nil {
			t.Fatal(err)
		}
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	low := old
	low.Cur = 3
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	_, probe := unix.Dup(0)
	m, err1 := b.RecvInto(ctx, nil) // message 0: its descriptor cannot be installed
	unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	if probe != unix.EMFILE {
		t.Skipf("could not exhaust the descriptor table: dup gave %v", probe)
	}
	m.Close()
	t.Logf("receive at the descriptor limit: %v", err1)
	got := 0
	var errsSeen []string
	for range n - 1 {
		m, err := b.RecvInto(ctx, nil)
		if err != nil {
			errsSeen = append(errsSeen, err.Error())
			continue
		}
		m.Close()
		got++
	}
	t.Logf("after one receive at the descriptor limit: %d of %d later messages received, errors %q", got, n-1, errsSeen)
	if got != n-1 {
		t.Fatalf("one truncated datagram lost %d later messages", n-1-got)
	}
}

// Close must end an operation that waits for the ring's lock (held by
// a process that is stopped, or scribbled by a hostile one).
func TestCloseWhileTheLockIsHeld(t *testing.T) {
	_, b := pair(t)
	d := &holderOf(t, b).in // another holder's mapping: a process that holds the lock
	if !d.lk.TryFast() {
		t.Fatal("lock not free")
	}
	released := false
	release := func() {
		if !released {
			released = true
			d.lk.Unlock()
		}
	}
	defer release()
	got := make(chan error, 1)
	go func() { _, err := b.RecvInto(context.Background(), nil); got <- err }()
	waitFor(t, func() bool { return d.lk.HasWaiters() })
	_ = b.in
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		t.Logf("Close returned %v", err)
	case <-time.After(2 * time.Second):
		release()
		<-closed
		t.Fatalf("Close did not return within 2s while a Recv waited for the ring's lock (Recv gave %v once released)", <-got)
	}
}

// a Send that failed with EPIPE from the socket (not from the look
// at the peer) does not set gone: the next Send within the millisecond is
// accepted into the ring and lost; and a peer that died with our
// datagrams unread fails a send with ECONNRESET, not EPIPE.
func TestRefusedSendStaysRefused(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	fd := devNull(t)
	a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("unread"), FDs: []int{fd}})
	b.Close()
	var errs []string
	a.checked.Store(since()) // the last look was just now
	err1 := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("t"), FDs: []int{fd}})
	a.checked.Store(since())
	err2 := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("t"), FDs: []int{fd}})
	a.checked.Store(since())
	err3 := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("r")})
	for _, e := range []error{err1, err2, err3} {
		errs = append(errs, fmt.Sprint(e, " EPIPE=", errors.Is(e, unix.EPIPE)))
	}
	t.Logf("sends after the peer closed: %q", errs)
	for i, e := range []error{err1, err2, err3} {
		if !errors.Is(e, unix.EPIPE) {
			t.Errorf("send %d after the peer closed: %v, want EPIPE", i, e)
		}
	}
}

// Poll with a deadline on an empty pipe returns false, nil, never
// the deadline as an error.
func TestPollDeadlineIsNoError(t *testing.T) {
	_, b := pair(t)
	b.SetSpin(false)
	bad := 0
	var last error
	for range 3000 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Microsecond)
		ok, err := b.Poll(ctx)
		cancel()
		if ok || err != nil {
			bad++
			last = err
		}
	}
	t.Logf("3000 polls of an empty pipe with a deadline: %d answered other than false, nil (last %v)", bad, last)
	if bad != 0 {
		t.Fatalf("%d of 3000 Polls reported %v", bad, last)
	}
}

// A ticket's size is a hint for the reader's memory, never trusted: a
// scribbled one, too small, too large or absurd, still gives the message
// whole.
func TestTicketSizeIsOnlyAHint(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	n := RingSize / 2 // over a quarter of the ring: a ticket
	// A believable size makes memory of that size for a short buffer;
	// a larger buffer, or a size past the limits, leaves buf as it is.
	short, long := make([]byte, 10), make([]byte, n)
	if got := b.ticketBuf(short, n); len(got) != n || &got[0] == &short[0] {
		t.Fatalf("ticketBuf(10 bytes, %d) gave %d bytes, the same memory: %v", n, len(got), len(got) > 0 && &got[0] == &short[0])
	}
	if got := b.ticketBuf(long, n-1); &got[0] != &long[0] {
		t.Fatal("ticketBuf made memory for a size the buffer holds")
	}
	if got := b.ticketBuf(nil, transport.MaxInline+1); got != nil {
		t.Fatalf("ticketBuf believed a size past MaxInline: %d bytes", len(got))
	}
	for i, size := range []uint32{uint32(n), 0, uint32(n - 1), uint32(n / 2), uint32(n + 1000), transport.MaxInline + 1, ^uint32(0)} {
		want := payload(i, n)
		if err := a.Send(ctx, transport.Msg{Kind: 3, Data: want}); err != nil {
			t.Fatal(err)
		}
		d := &b.in
		off := d.head.Load() % d.size
		kind, length := d.data[off+4], binary.LittleEndian.Uint32(d.data[off:])
		if kind != kindTicket || length != ticketLen {
			t.Fatalf("record at the head is of kind %#x, %d bytes: not a ticket", kind, length)
		}
		if got := binary.LittleEndian.Uint32(d.data[off+recHdr+4:]); i == 0 && got != uint32(n) {
			t.Fatalf("the ticket announces %d bytes for %d", got, n)
		}
		binary.LittleEndian.PutUint32(d.data[off+recHdr+4:], size)
		for _, buf := range [][]byte{nil, make([]byte, 10)} {
			if buf != nil {
				if err := a.Send(ctx, transport.Msg{Kind: 3, Data: want}); err != nil {
					t.Fatal(err)
				}
				binary.LittleEndian.PutUint32(d.data[d.head.Load()%d.size+recHdr+4:], size)
			}
			m, err := b.RecvInto(ctx, buf)
			if err != nil {
				t.Fatalf("announced %d bytes: %v", size, err)
			}
			if m.Kind != 3 || !bytes.Equal(m.Data, want) {
				t.Fatalf("announced %d bytes: received kind %d, %d bytes, not the message", size, m.Kind, len(m.Data))
			}
		}
	}
}
