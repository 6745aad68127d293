package mp_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

var (
	actionRuns atomic.Int32
	// countAction counts its runs in the process that runs it.
	countAction = mp.Register("test.sync.countAction", func(context.Context, struct{}) (struct{}, error) {
		actionRuns.Add(1)
		return struct{}{}, nil
	})
	failAction = mp.Register("test.sync.failAction", func(context.Context, struct{}) (struct{}, error) {
		return struct{}{}, errors.New("action failed on purpose")
	})
	panicAction = mp.Register("test.sync.panicAction", func(context.Context, struct{}) (struct{}, error) {
		panic("action panicked on purpose")
	})
	// barrierParty waits at a barrier in a child and returns its index.
	barrierParty = mp.Register("test.sync.barrierParty", func(ctx context.Context, b *mp.Barrier) (int, error) {
		defer b.Close()
		return b.Wait(ctx)
	})
)

func newBarrier(t *testing.T, parties int, cfg mp.BarrierConfig) *mp.Barrier {
	t.Helper()
	b, err := mp.NewBarrier(parties, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// waitAll runs n parties as goroutines and returns their indices and errors.
func waitAll(b *mp.Barrier, n int, ctx context.Context) ([]int, []error) {
	idx := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { idx[i], errs[i] = b.Wait(ctx) })
	}
	wg.Wait()
	return idx, errs
}

func TestBarrierRounds(t *testing.T) {
	mptest.CheckLeaks(t)
	actionRuns.Store(0)
	b := newBarrier(t, 3, mp.BarrierConfig{Action: countAction})
	if b.Parties() != 3 {
		t.Fatalf("Parties = %d", b.Parties())
	}
	for round := range 4 {
		idx, errs := waitAll(b, 3, context.Background())
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		slices.Sort(idx)
		if !slices.Equal(idx, []int{0, 1, 2}) {
			t.Fatalf("round %d: indices %v, want 0, 1, 2", round, idx)
		}
	}
	if n := actionRuns.Load(); n != 4 {
		t.Fatalf("the action ran %d times in 4 rounds", n)
	}
}

func TestBarrierAcrossProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	b := newBarrier(t, 3, mp.BarrierConfig{Timeout: 30 * time.Second})
	var wg sync.WaitGroup
	idx := make([]int, 3)
	errs := make([]error, 3)
	for i := range 2 {
		wg.Go(func() { idx[i], errs[i] = mp.Call(context.Background(), barrierParty, b) })
	}
	idx[2], errs[2] = b.Wait(context.Background())
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(idx)
	if !slices.Equal(idx, []int{0, 1, 2}) {
		t.Fatalf("indices %v, want 0, 1, 2", idx)
	}
}

func TestBarrierAbortAndReset(t *testing.T) {
	mptest.CheckLeaks(t)
	b := newBarrier(t, 3, mp.BarrierConfig{})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { _, errs[i] = b.Wait(context.Background()) })
	}
	waitUntil(t, "two parties wait", func() bool { return b.NWaiting() == 2 })
	b.Abort()
	wg.Wait()
	for _, err := range errs {
		if !errors.Is(err, mp.ErrBrokenBarrier) {
			t.Fatalf("Wait on an aborted barrier = %v, want ErrBrokenBarrier", err)
		}
	}
	if !b.Broken() {
		t.Fatal("Broken = false after Abort")
	}
	if _, err := b.Wait(context.Background()); !errors.Is(err, mp.ErrBrokenBarrier) {
		t.Fatalf("Wait after Abort = %v, want ErrBrokenBarrier", err)
	}
	b.Reset()
	if b.Broken() {
		t.Fatal("Broken = true after Reset")
	}
	if _, errs := waitAll(b, 3, context.Background()); errors.Join(errs...) != nil {
		t.Fatalf("a round after Reset: %v", errors.Join(errs...))
	}
}

// Reset while parties wait breaks their wait; the barrier then works.
func TestBarrierResetWhileWaiting(t *testing.T) {
	mptest.CheckLeaks(t)
	b := newBarrier(t, 3, mp.BarrierConfig{})
	got := make(chan error)
	go func() { _, err := b.Wait(context.Background()); got <- err }()
	waitUntil(t, "a party waits", func() bool { return b.NWaiting() == 1 })
	b.Reset()
	if err := <-got; !errors.Is(err, mp.ErrBrokenBarrier) {
		t.Fatalf("Wait interrupted by Reset = %v, want ErrBrokenBarrier", err)
	}
	if _, errs := waitAll(b, 3, context.Background()); errors.Join(errs...) != nil {
		t.Fatalf("a round after Reset: %v", errors.Join(errs...))
	}
}

// The default timeout breaks the barrier for every waiter.
func TestBarrierTimeout(t *testing.T) {
	mptest.CheckLeaks(t)
	b := newBarrier(t, 3, mp.BarrierConfig{Timeout: 100 * time.Millisecond})
	_, errs := waitAll(b, 2, context.Background())
	timedOut := 0
	for _, err := range errs {
		if !errors.Is(err, mp.ErrBrokenBarrier) {
			t.Fatalf("Wait = %v, want ErrBrokenBarrier", err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			timedOut++
		}
	}
	if timedOut == 0 {
		t.Fatal("no waiter reports its deadline")
	}
	if !b.Broken() {
		t.Fatal("Broken = false after a timeout")
	}
}

func TestBarrierActionFails(t *testing.T) {
	mptest.CheckLeaks(t)
	b := newBarrier(t, 2, mp.BarrierConfig{Action: failAction})
	_, errs := waitAll(b, 2, context.Background())
	broken, failed := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, mp.ErrBrokenBarrier):
			broken++
		case err != nil:
			failed++
		}
	}
	if broken != 1 || failed != 1 {
		t.Fatalf("errors %v: want one broken barrier and one action error", errs)
	}
}

// An action that panics fails the Wait that ran it with a *RemoteError
// that carries the stack.
func TestBarrierActionPanics(t *testing.T) {
	mptest.CheckLeaks(t)
	b := newBarrier(t, 1, mp.BarrierConfig{Action: panicAction})
	_, err := b.Wait(context.Background())
	var re *mp.RemoteError
	if !errors.As(err, &re) || !re.Panic || re.Stack == "" || re.Message != "action panicked on purpose" {
		t.Fatalf("Wait whose action panicked = %v, want a *RemoteError with the panic", err)
	}
}

// A party killed while it waits breaks the barrier for the others at once,
// instead of leaving them to their timeouts (Python's Barrier waits); after
// Reset, the barrier works for live parties again.
func TestBarrierPartyDies(t *testing.T) {
	mptest.CheckLeaks(t)
	b := newBarrier(t, 3, mp.BarrierConfig{})
	p := partyAtBarrier(t, b)
	errc := make(chan error, 1)
	go func() {
		_, err := b.Wait(context.Background())
		errc <- err
	}()
	waitUntil(t, "a party waits beside the child", func() bool { return b.NWaiting() == 2 })
	p.Kill()
	if err := p.Wait(context.Background()); err == nil {
		t.Fatal("the killed party exited cleanly")
	}
	select {
	case err := <-errc:
		if !errors.Is(err, mp.ErrBrokenBarrier) {
			t.Fatalf("Wait beside a dead party = %v, want ErrBrokenBarrier", err)
		}
	case <-time.After(10 * time.Second):
		b.Abort()
		<-errc
		t.Fatal("Wait beside a dead party did not end")
	}
	if !b.Broken() {
		t.Fatal("the barrier is not broken after a party died")
	}
	if err := b.Reset(); err != nil {
		t.Fatal(err)
	}
	idx, errs := waitAll(b, 3, context.Background())
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
	slices.Sort(idx)
	if !slices.Equal(idx, []int{0, 1, 2}) {
		t.Fatalf("after Reset: indices %v, want 0, 1, 2", idx)
	}
}

// partyAtBarrier starts a child that waits at b, and returns once it does.
func partyAtBarrier(t *testing.T, b *mp.Barrier) *mp.Process {
	t.Helper()
	p := mp.Command(barrierParty, b)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	for deadline := time.Now().Add(20 * time.Second); b.NWaiting() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			p.Kill()
			p.Wait(context.Background())
			t.Fatal("the child never reached the barrier")
		}
	}
	return p
}

// The last party to arrive does not complete a round with a party that died
// waiting: it finds the barrier broken.
func TestBarrierLastPartyFindsDeadOne(t *testing.T) {
	mptest.CheckLeaks(t)
	b := newBarrier(t, 2, mp.BarrierConfig{})
	p := partyAtBarrier(t, b)
	p.Kill()
	if err := p.Wait(context.Background()); err == nil {
		t.Fatal("the killed party exited cleanly")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Wait(ctx); !errors.Is(err, mp.ErrBrokenBarrier) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("last party beside a dead one: %v, want ErrBrokenBarrier at once", err)
	}
}
