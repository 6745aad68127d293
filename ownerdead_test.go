package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// holdArgs is what a holder process gets: one lock-like object to take,
// and an event to set once it holds it.
type holdArgs struct {
	Mutex   *mp.Mutex
	RLock   *mp.ReentrantLock
	Sem     *mp.Semaphore
	Bounded *mp.BoundedSemaphore
	Held    *mp.Event
}

// holdForever takes whatever it was given, says so, and sleeps until it is
// killed.
var holdForever = mp.Register("test.sync.holdForever", func(ctx context.Context, a holdArgs) (struct{}, error) {
	var err error
	switch {
	case a.Mutex != nil:
		err = a.Mutex.Lock(ctx)
	case a.RLock != nil:
		ctx, err = a.RLock.Lock(ctx)
		if err == nil {
			_, err = a.RLock.Lock(ctx) // two levels deep
		}
	case a.Sem != nil:
		err = a.Sem.Acquire(ctx)
	case a.Bounded != nil:
		err = a.Bounded.Acquire(ctx)
	}
	if err != nil {
		return struct{}{}, err
	}
	a.Held.Set()
	// Not a wait for anything: the holder must keep what it holds until
	// the test kills it, since dying while holding is the case under test.
	time.Sleep(time.Hour)
	return struct{}{}, nil
})

// killHolder starts a process that takes what a holds, waits until it holds
// it, and kills it with SIGKILL.
func killHolder(t *testing.T, a holdArgs) {
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
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := held.Wait(ctx); err != nil {
		p.Kill()
		p.Wait(context.Background())
		t.Fatalf("the holder never held: %v", err)
	}
	p.Kill()
	if err := p.Wait(context.Background()); err == nil {
		t.Fatal("the killed holder exited cleanly")
	}
}

// within fails t unless fn returns within a generous bound.
func within(t *testing.T, what string, fn func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := fn(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: still blocked after 10 s", what)
	}
	return err
}

func TestOwnerDeadMutex(t *testing.T) {
	mptest.CheckLeaks(t)
	m, err := mp.NewMutex()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	killHolder(t, holdArgs{Mutex: m})
	if ok, err := m.TryLock(); !ok || !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("TryLock after the holder died = %v, %v; want true, ErrOwnerDead", ok, err)
	}
	m.Unlock()
	killHolder(t, holdArgs{Mutex: m})
	err = within(t, "Lock", m.Lock)
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Lock after the holder died = %v, want ErrOwnerDead", err)
	}
	if err := m.Unlock(); err != nil {
		t.Fatalf("Unlock after recovery: %v", err)
	}
	if err := m.Lock(context.Background()); err != nil {
		t.Fatalf("Lock after repair = %v, want nil", err)
	}
	m.Unlock()
}

func TestOwnerDeadMutexWhileWaiting(t *testing.T) {
	mptest.CheckLeaks(t)
	m, err := mp.NewMutex()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	held, _ := mp.NewEvent()
	defer held.Close()
	p := mp.Command(holdForever, holdArgs{Mutex: m, Held: held})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	held.Wait(context.Background())
	got := make(chan error, 1)
	go func() {
		// A bound of its own: within would call t.Fatal from this goroutine.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		got <- m.Lock(ctx)
	}()
	waitUntil(t, "the waiter sleeps on the lock", func() bool { return mp.MutexWaiting(m) })
	p.Kill()
	p.Wait(context.Background())
	if err := <-got; !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Lock of a waiter whose holder died = %v, want ErrOwnerDead", err)
	}
	m.Unlock()
}

func TestOwnerDeadReentrantLock(t *testing.T) {
	mptest.CheckLeaks(t)
	l, err := mp.NewReentrantLock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	killHolder(t, holdArgs{RLock: l})
	var ctx context.Context
	err = within(t, "Lock", func(c context.Context) error {
		var err error
		ctx, err = l.Lock(c)
		return err
	})
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Lock after the holder died = %v, want ErrOwnerDead", err)
	}
	// The new owner holds it at depth one, whatever the dead one's depth.
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if l.Locked() {
		t.Fatal("still locked after one Unlock")
	}
}

func TestOwnerDeadSemaphore(t *testing.T) {
	mptest.CheckLeaks(t)
	s, err := mp.NewSemaphore(1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	killHolder(t, holdArgs{Sem: s})
	if err := within(t, "Acquire", s.Acquire); !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Acquire after the holder died = %v, want ErrOwnerDead", err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if v := s.Value(); v != 1 {
		t.Fatalf("Value = %d, want 1", v)
	}
}

func TestOwnerDeadBoundedSemaphore(t *testing.T) {
	mptest.CheckLeaks(t)
	s, err := mp.NewBoundedSemaphore(1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	killHolder(t, holdArgs{Bounded: s})
	if err := within(t, "Acquire", s.Acquire); !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Acquire after the holder died = %v, want ErrOwnerDead", err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(); !errors.Is(err, mp.ErrTooManyReleases) {
		t.Fatalf("second Release = %v, want ErrTooManyReleases", err)
	}
}
