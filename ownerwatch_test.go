package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// The tests here make waiters look for dead owners by themselves only once
// an hour (SetOwnerBackstop): a death that a waiter notices within its
// 30 s bound was told to it by its watch on the holder, the moment the
// holder exited.

// watchBound is how long a waiter waits in these tests: far more than a
// watch takes, far less than the backstop.
const watchBound = 30 * time.Second

// waitForOwnerDeath runs wait in a goroutine, kills p once asleep says the
// waiter sleeps, and returns wait's error. If wait is still blocked after
// watchBound, it restores the backstop so that wait returns, and fails.
func waitForOwnerDeath(t *testing.T, p *mp.Process, restore func(), asleep func() bool, wait func(ctx context.Context) error) error {
	t.Helper()
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), watchBound)
		defer cancel()
		got <- wait(ctx)
	}()
	waitUntil(t, "the waiter sleeps", asleep)
	p.Kill()
	p.Wait(context.Background())
	select {
	case err := <-got:
		return err
	case <-time.After(2 * watchBound):
		restore()
		<-got
		t.Fatal("the waiter was still blocked after the holder's death")
		return nil
	}
}

// startHolder starts a process that takes what a holds and waits until it
// holds it.
func startHolder(t *testing.T, a holdArgs) *mp.Process {
	t.Helper()
	held, err := mp.NewEvent()
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	a.Held = held
	p := mp.Command(holdForever, a)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Wait(context.Background())
		p.Close()
	})
	if err := held.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOwnerDeathWatchedMutex(t *testing.T) {
	mptest.CheckLeaks(t)
	restore := mp.SetOwnerBackstop(time.Hour)
	defer restore()
	m, err := mp.NewMutex()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p := startHolder(t, holdArgs{Mutex: m})
	err = waitForOwnerDeath(t, p, restore, func() bool { return mp.MutexWaiting(m) }, m.Lock)
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Lock whose holder was killed = %v, want ErrOwnerDead", err)
	}
	m.Unlock()
}

func TestOwnerDeathWatchedReentrantLock(t *testing.T) {
	mptest.CheckLeaks(t)
	restore := mp.SetOwnerBackstop(time.Hour)
	defer restore()
	l, err := mp.NewReentrantLock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := startHolder(t, holdArgs{RLock: l})
	var ctx context.Context
	err = waitForOwnerDeath(t, p, restore, func() bool { return mp.ReentrantLockWaiting(l) }, func(c context.Context) error {
		var err error
		ctx, err = l.Lock(c)
		return err
	})
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Lock whose holder was killed = %v, want ErrOwnerDead", err)
	}
	l.Unlock(ctx)
}

func TestOwnerDeathWatchedSemaphore(t *testing.T) {
	mptest.CheckLeaks(t)
	restore := mp.SetOwnerBackstop(time.Hour)
	defer restore()
	s, err := mp.NewSemaphore(1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := startHolder(t, holdArgs{Sem: s})
	err = waitForOwnerDeath(t, p, restore, func() bool { return mp.SemaphoreWaiters(s) == 1 }, s.Acquire)
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Acquire whose holder was killed = %v, want ErrOwnerDead", err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
}

// A party killed while it waits breaks the barrier for the party beside it
// as soon as it dies.
func TestOwnerDeathWatchedBarrier(t *testing.T) {
	mptest.CheckLeaks(t)
	restore := mp.SetOwnerBackstop(time.Hour)
	defer restore()
	b := newBarrier(t, 3, mp.BarrierConfig{})
	p := partyAtBarrier(t, b)
	err := waitForOwnerDeath(t, p, restore, func() bool { return b.NWaiting() == 2 }, func(ctx context.Context) error {
		_, err := b.Wait(ctx)
		return err
	})
	if !errors.Is(err, mp.ErrBrokenBarrier) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait beside a killed party = %v, want ErrBrokenBarrier before the deadline", err)
	}
}

// notifyAndHold takes a Cond's lock, notifies its waiters, and keeps the
// lock until it is killed.
var notifyAndHold = mp.Register("test.sync.notifyAndHold", func(ctx context.Context, a struct {
	C    *mp.Cond
	Held *mp.Event
}) (struct{}, error) {
	if _, err := a.C.Lock(ctx); err != nil {
		return struct{}{}, err
	}
	if err := a.C.NotifyAll(); err != nil {
		return struct{}{}, err
	}
	a.Held.Set()
	// Not a wait for anything: the holder keeps the lock until the test
	// kills it, since dying while holding is the case under test.
	time.Sleep(time.Hour)
	return struct{}{}, nil
})

// A waiter notified by a process that then dies holding the Cond's lock
// takes the lock over as soon as it dies: Wait returns ErrOwnerDead.
func TestOwnerDeathWatchedCond(t *testing.T) {
	mptest.CheckLeaks(t)
	restore := mp.SetOwnerBackstop(time.Hour)
	defer restore()
	m, err := mp.NewMutex()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := newCond(t, m)
	held := newEvent(t)
	ctx, err := c.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := mp.Command(notifyAndHold, struct {
		C    *mp.Cond
		Held *mp.Event
	}{c, held})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = waitForOwnerDeath(t, p, restore, func() bool { return held.IsSet() && mp.MutexWaiting(m) }, func(context.Context) error {
		// Wait takes the lock again with no bound of its own: the
		// bound is the test's.
		return c.Wait(ctx)
	})
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Wait whose notifier died holding the lock = %v, want ErrOwnerDead", err)
	}
	c.Unlock(ctx)
}
