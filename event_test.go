package mp_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// eventWait waits in a child for an event, then sets another.
var eventWait = mp.Register("test.sync.eventWait", func(ctx context.Context, a struct{ Go, Done *mp.Event }) (struct{}, error) {
	defer a.Go.Close()
	defer a.Done.Close()
	if err := a.Go.Wait(ctx); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, a.Done.Set()
})

// waitUntil polls cond every millisecond until it holds, and fails the
// test if it does not within 20 s. Tests wait for the other side to be
// asleep (see the hooks in export_sync_internal_test.go), not for a
// guessed time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after 20 s", what)
		}
	}
}

func newEvent(t *testing.T) *mp.Event {
	t.Helper()
	e, err := mp.NewEvent()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestEvent(t *testing.T) {
	mptest.CheckLeaks(t)
	e := newEvent(t)
	if e.IsSet() {
		t.Fatal("a new Event is set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := e.Wait(ctx); !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("Wait on a clear event with a deadline = %v, want ErrTimeout", err)
	}
	e.Set()
	e.Set()
	if !e.IsSet() {
		t.Fatal("IsSet = false after Set")
	}
	if err := e.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.Clear()
	if e.IsSet() {
		t.Fatal("IsSet = true after Clear")
	}
}

// Every waiter — goroutines here and a child process — is released by one
// Set, even if Clear follows at once (as Python's Event).
func TestEventSetWakesAll(t *testing.T) {
	mptest.CheckLeaks(t)
	e, done := newEvent(t), newEvent(t)
	p := mp.Command(eventWait, struct{ Go, Done *mp.Event }{e, done})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			errs <- e.Wait(ctx)
		})
	}
	waitUntil(t, "six waiters sleep on the event", func() bool { return mp.EventWaiters(e) >= 6 })
	e.Set()
	e.Clear()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a waiter was not released by Set+Clear: %v", err)
		}
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !done.IsSet() {
		t.Fatal("the child did not see the event")
	}
}
