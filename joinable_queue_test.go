package mp_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

type takeArgs struct {
	Q    *mp.JoinableQueue[int]
	Took *mp.Queue[int] // told the count once N items are got
	N    int
}

// qTakeAndHold gets N items and does not mark them done; it waits to be
// killed.
var qTakeAndHold = mp.Register("test.qTakeAndHold", func(ctx context.Context, a takeArgs) (int, error) {
	for i := range a.N {
		if _, err := a.Q.Get(ctx); err != nil {
			return i, err
		}
	}
	if err := a.Took.Put(ctx, a.N); err != nil {
		return a.N, err
	}
	<-ctx.Done()
	return a.N, nil
})

// TestJoinableQueueConsumerDied: a consumer gets 3 items and is killed
// while two Joins wait; each returns an error naming it with the 3 items,
// instead of waiting for its deadline, and a later Join succeeds once the
// rest is done.
func TestJoinableQueueConsumerDied(t *testing.T) {
	mptest.CheckLeaks(t)
	q, err := mp.NewJoinableQueue[int](0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	took := newQueue[int](t, 0)
	ctx := timeout(t) // the Join below must end well before this
	for i := range 5 {
		q.Put(ctx, i)
	}
	p := start(t, mp.Command(qTakeAndHold, takeArgs{Q: q, Took: took, N: 3}))
	if _, err := took.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if n := q.Unfinished(); n != 5 {
		t.Errorf("Unfinished() = %d, want 5", n)
	}
	joined := make(chan error, 2)
	for range 2 {
		go func() { joined <- q.Join(ctx) }()
	}
	waitUntil(t, "the Joins sleep", func() bool {
		_, _, j := mp.QueueSleepers(q)
		return j == 2
	})
	pid := p.Pid()
	p.Kill()
	<-p.Done()
	for range 2 {
		err := <-joined
		var died *mp.ConsumerDiedError
		if !errors.As(err, &died) || !errors.Is(err, mp.ErrConsumerDied) {
			t.Fatalf("Join() = %v, want a *ConsumerDiedError", err)
		}
		if died.Pid != pid || died.Unfinished != 3 {
			t.Errorf("Join() = %+v, want pid %d with 3 unfinished", died, pid)
		}
	}
	if n := q.Unfinished(); n != 2 {
		t.Errorf("Unfinished() = %d after the dead consumer's items were written off, want 2", n)
	}
	for range 2 {
		if _, err := q.TryGet(); err != nil {
			t.Fatal(err)
		}
		if err := q.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Join(ctx); err != nil {
		t.Errorf("Join() once the rest is done = %v", err)
	}
}
