package connring

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
	"golang.org/x/sys/unix"
)

// inRing reports whether p lies in e's shared memory.
func inRing(e *End, p []byte) bool {
	mem := e.reg.Bytes()
	start := uintptr(unsafe.Pointer(&mem[0]))
	at := uintptr(unsafe.Pointer(&p[0]))
	return at >= start && at+uintptr(len(p)) <= start+uintptr(len(mem))
}

func TestLendAndBorrowInPlace(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	for i, n := range []int{1, 100, 4000, a.MaxLoan()} {
		l, err := a.Lend(ctx, 2, n)
		if err != nil {
			t.Fatal(err)
		}
		if !inRing(a, l.Bytes()) || len(l.Bytes()) != n {
			t.Fatalf("loan %d: %d bytes, in the ring: %v", i, len(l.Bytes()), inRing(a, l.Bytes()))
		}
		copy(l.Bytes(), payload(i, n))
		if err := l.Send(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.Send(ctx); !errors.Is(err, errs.ErrClosed) {
			t.Fatalf("second Send of a loan = %v", err)
		}
		m, err := b.Borrow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind() != 2 || !bytes.Equal(m.Bytes(), payload(i, n)) || !inRing(b, m.Bytes()) {
			t.Fatalf("borrowed %d: kind %d, %d bytes, in the ring %v", i, m.Kind(), len(m.Bytes()), inRing(b, m.Bytes()))
		}
		m.Release()
		m.Release()
	}
	if _, err := a.Lend(ctx, 2, a.MaxLoan()+1); !errors.Is(err, errs.ErrTooLarge) {
		t.Fatalf("a loan over MaxLoan = %v", err)
	}
}

func TestLoansAndSendsKeepTheirOrder(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	fd := devNull(t)
	const n = 3000
	done := make(chan error, 1)
	go func() {
		for i := range n {
			var err error
			switch i % 3 {
			case 0:
				var l *Loan
				if l, err = a.Lend(ctx, 1, 40+i%300); err == nil {
					copy(l.Bytes(), payload(i, len(l.Bytes())))
					err = l.Send(ctx)
				}
			case 1:
				err = a.Send(ctx, transport.Msg{Kind: 1, Data: payload(i, 40+i%300)})
			case 2:
				err = a.Send(ctx, transport.Msg{Kind: 1, Data: payload(i, 40+i%300), FDs: []int{fd}})
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range n {
		m, err := b.Borrow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Bytes(), payload(i, 40+i%300)) || (i%3 == 2) != (len(m.FDs()) == 1) {
			t.Fatalf("message %d out of order or wrong", i)
		}
		for _, fd := range m.FDs() {
			closeFD(fd)
		}
		m.Release()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCancelledLoanSendsNothing(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	l, err := a.Lend(ctx, 1, 64)
	if err != nil {
		t.Fatal(err)
	}
	copy(l.Bytes(), "never")
	l.Cancel()
	l.Cancel()
	if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	m, err := b.RecvInto(ctx, nil)
	if err != nil || string(m.Data) != "after" {
		t.Fatalf("after a cancelled loan: %q, %v", m.Data, err)
	}
}

func TestCloseWaitsForALoan(t *testing.T) {
	a, _ := pair(t)
	ctx := testCtx(t)
	l, err := a.Lend(ctx, 1, 64)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	waitFor(t, func() bool { return a.closed.Load() })
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with a loan out", err)
	default:
	}
	copy(l.Bytes(), "x")
	if err := l.Send(ctx); err != nil && !errors.Is(err, unix.EPIPE) {
		t.Fatalf("Send of a loan while Close waits = %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// A sender killed while it fills a loan leaves nothing sent and the
// writers' lock to the next sender; a reader killed while it borrows a
// message leaves it for the next reader: nothing is lost.
func TestDeathsDuringLoans(t *testing.T) {
	needRing(t)
	a, b := pair(t)
	ctx := testCtx(t)
	c := startChild(t, a, "lend-then-die")
	if err := c.wait(); !wasKilled(err) {
		t.Fatalf("lender ended with %s", c.why())
	}
	if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	c = startChild(t, b, "borrow-then-die")
	if err := c.wait(); !wasKilled(err) {
		t.Fatalf("borrower ended with %s", c.why())
	}
	m, err := b.RecvInto(ctx, nil)
	if err != nil || string(m.Data) != "first" {
		t.Fatalf("after a lender and a borrower died: %q, %v", m.Data, err)
	}
	if ok, _ := b.Poll(ctxEnded()); ok {
		t.Fatal("something more arrived: the dead lender's half-filled loan")
	}
}

func ctxEnded() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func closeFD(fd int) { (&transport.Msg{FDs: []int{fd}}).Close() }

// closePending reports whether a Close of e waits for live: a new reader
// of live would block now.
func closePending(e *End) bool {
	if e.live.TryRLock() {
		e.live.RUnlock()
		return false
	}
	return true
}

// A goroutine holding a Borrowed (or a Loan) that calls any other method
// of the same End while a Close waits for it blocks for ever in enter
// (sync.RWMutex: RLock waits behind a pending Lock), and Close waits for
// the Borrowed: a deadlock.
func TestBorrowerSendsDuringClose(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("ping")}); err != nil {
		t.Fatal(err)
	}
	m, err := b.Borrow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	waitFor(t, func() bool { return closePending(b) })
	sent := make(chan error, 1)
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	go func() { sent <- b.Send(sctx, transport.Msg{Kind: 1, Data: m.Bytes()}) }() // an echo
	select {
	case err := <-sent:
		m.Release()
		if !errors.Is(err, errs.ErrClosed) {
			t.Errorf("an echo from the borrower during Close = %v, want ErrClosed", err)
		}
	case <-time.After(3 * time.Second):
		m.Release() // unsticks Close, then the Send
		t.Errorf("an echo from the borrower, during Close, still blocked 2s after its ctx ended (it gave %v once released; Close gave %v)", <-sent, <-closed)
	}
}

// Release during a Close, with the state lock held a moment by another
// process (a sender committing), gives up the lock wait (the End's life
// has ended) and so never commits the take: the message, already handed to
// the caller, stays at the head and is received a second time.
func TestReleaseDuringCloseTakesOnce(t *testing.T) {
	a, b := pair(t)
	ctx := testCtx(t)
	other := holderOf(t, b) // another process holding the reading end
	if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("once")}); err != nil {
		t.Fatal(err)
	}
	m, err := b.Borrow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := string(m.Bytes())
	lk := other.in.lk // a sender of another process commits right now
	if !lk.TryFast() {
		t.Fatal("state lock not free")
	}
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	waitFor(t, func() bool { return closePending(b) })
	released := make(chan struct{})
	go func() { m.Release(); close(released) }()
	waitFor(t, func() bool {
		select {
		case <-released:
			return true
		default:
			return lk.HasWaiters()
		}
	})
	lk.Unlock()
	<-released
	<-closed
	deliveries := 1
	for {
		x, err := other.RecvInto(ctxEnded(), nil)
		if err != nil {
			break
		}
		if string(x.Data) == got {
			deliveries++
		}
	}
	t.Logf("message %q received %d times", got, deliveries)
	if deliveries != 1 {
		t.Errorf("a borrowed message released during Close was received %d times", deliveries)
	}
}

// Loans in a small ring wrap: the lent bytes must be where the record is
// placed. Counts the messages that came back wrong.
func TestLoansWrap(t *testing.T) {
	a, b, err := Pair(minRingSize)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	ctx := testCtx(t)
	const n = 400
	done := make(chan error, 1)
	go func() {
		for i := range n {
			size := 1 + (i*37)%a.MaxLoan()
			l, err := a.Lend(ctx, 1, size)
			if err != nil {
				done <- err
				return
			}
			copy(l.Bytes(), payload(i, size))
			if err := l.Send(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	bad := 0
	for i := range n {
		m, err := b.Borrow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		size := 1 + (i*37)%a.MaxLoan()
		if !bytes.Equal(m.Bytes(), payload(i, size)) {
			bad++
		}
		m.Release()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d loans in a %d-byte ring came back wrong", bad, n, minRingSize)
	if bad != 0 {
		t.Fail()
	}
}
