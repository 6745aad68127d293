package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// rlockUnlock tries to unlock, in a child, a ReentrantLock the parent holds.
var rlockUnlock = mp.Register("test.sync.rlockUnlock", func(ctx context.Context, l *mp.ReentrantLock) (string, error) {
	defer l.Close()
	ctx, ok, err := l.TryLock(ctx)
	if ok || err != nil {
		return "", errors.New("the child got a lock the parent holds")
	}
	return errText(l.Unlock(ctx)), nil
})

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func newRLock(t *testing.T) *mp.ReentrantLock {
	t.Helper()
	l, err := mp.NewReentrantLock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestReentrantLock(t *testing.T) {
	mptest.CheckLeaks(t)
	l := newRLock(t)
	bg := context.Background()
	if err := l.Unlock(bg); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Unlock of an unlocked lock = %v, want ErrNotOwner", err)
	}
	ctx, err := l.Lock(bg)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if ctx2, err := l.Lock(ctx); err != nil || ctx2 != ctx {
			t.Fatalf("nested Lock = %v (same context: %v)", err, ctx2 == ctx)
		}
	}
	other := mp.NewOwner(bg)
	if _, ok, _ := l.TryLock(other); ok {
		t.Fatal("another owner got the lock")
	}
	if err := l.Unlock(other); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Unlock by another owner = %v, want ErrNotOwner", err)
	}
	short, cancel := context.WithTimeout(other, 30*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(short); !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("Lock by another owner with a deadline = %v, want ErrTimeout", err)
	}
	for i := range 4 {
		if !l.Owned(ctx) {
			t.Fatalf("not owned after %d of 4 unlocks", i)
		}
		if err := l.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if l.Locked() {
		t.Fatal("locked after as many unlocks as locks")
	}
	if _, ok, _ := l.TryLock(other); !ok {
		t.Fatal("another owner cannot take the free lock")
	}
	l.Unlock(other)
}

// A goroutine that is a different owner waits for the lock.
func TestReentrantLockOtherGoroutine(t *testing.T) {
	mptest.CheckLeaks(t)
	l := newRLock(t)
	ctx, _ := l.Lock(context.Background())
	got := make(chan error)
	go func() {
		c, err := l.Lock(context.Background())
		if err == nil {
			err = l.Unlock(c)
		}
		got <- err
	}()
	// It must wait: once it sleeps on the lock, it did not take it.
	for deadline := time.Now().Add(20 * time.Second); !mp.ReentrantLockWaiting(l); {
		select {
		case err := <-got:
			t.Fatalf("another goroutine took a held lock (%v)", err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the other goroutine's Lock neither returned nor slept in 20 s")
		}
	}
	l.Unlock(ctx)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

func TestReentrantLockUnlockByOtherProcess(t *testing.T) {
	mptest.CheckLeaks(t)
	l := newRLock(t)
	ctx, _ := l.Lock(context.Background())
	defer l.Unlock(ctx)
	msg, err := mp.Call(context.Background(), rlockUnlock, l)
	if err != nil {
		t.Fatal(err)
	}
	if msg != mp.ErrNotOwner.Error() {
		t.Fatalf("Unlock in another process = %q, want %q", msg, mp.ErrNotOwner)
	}
	if !l.Owned(ctx) {
		t.Fatal("the parent lost the lock")
	}
}
