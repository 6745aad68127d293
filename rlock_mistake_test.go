package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/race"
	"github.com/mpgo/mp/mptest"
)

// relockWithOriginal locks, in a child, a ReentrantLock twice with the
// context it was given, instead of the one the first Lock returned.
var relockWithOriginal = mp.Register("test.sync.relockWithOriginal", func(ctx context.Context, l *mp.ReentrantLock) (struct{}, error) {
	defer l.Close()
	owner, err := l.Lock(ctx)
	if err != nil {
		return struct{}{}, err
	}
	defer l.Unlock(owner)
	_, err = l.Lock(ctx)
	return struct{}{}, err
})

// TestReentrantLockWithTheOriginalContext checks that locking again with
// the context given to Lock, not the one it returned, fails at once in a
// race-detector build instead of waiting forever, here and in a child,
// while the right re-entry, and another goroutine's Lock with the same
// context, work as before.
func TestReentrantLockWithTheOriginalContext(t *testing.T) {
	if !race.Enabled {
		t.Skip("the mistake is reported only in race-detector builds (go test -race)")
	}
	mptest.CheckLeaks(t)
	l := newRLock(t)
	// A deadline only so that a failure cannot hang the test: the mistake
	// must be reported at once, and a wait to the deadline fails the test.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	owner, err := l.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(ctx); !errors.Is(err, mp.ErrWouldDeadlock) {
		t.Fatalf("Lock with the original context = %v, want ErrWouldDeadlock", err)
	}
	if _, err := l.Lock(owner); err != nil {
		t.Fatalf("Lock with the returned context = %v", err)
	}
	if err := l.Unlock(owner); err != nil || !l.Owned(owner) {
		t.Fatalf("Unlock of one level = %v, still owned %v; want nil, true", err, l.Owned(owner))
	}

	// Another goroutine with the same context is another owner: it waits.
	got := make(chan error, 1)
	go func() {
		other, err := l.Lock(ctx)
		if err == nil {
			err = l.Unlock(other)
		}
		got <- err
	}()
	waitUntil(t, "the other goroutine waits", func() bool { return mp.ReentrantLockWaiting(l) })
	if err := l.Unlock(owner); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("the other goroutine's Lock and Unlock = %v", err)
	}

	// The same mistake in a child process.
	if _, err := mp.Call(ctx, relockWithOriginal, l); !errors.Is(err, mp.ErrWouldDeadlock) {
		t.Errorf("child's second Lock = %v, want ErrWouldDeadlock", err)
	}
	if l.Locked() {
		t.Error("the lock is still held after the child unlocked it")
	}
}
