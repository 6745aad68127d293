package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// eventWait waits for the event Name, then sets the event "answer".
var eventWait = mp.Register("cluster.test.eventWait", func(ctx context.Context, j dictJob) (int, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	e, err := cluster.NewEvent(ctx, c, j.Name)
	if err != nil {
		return 0, err
	}
	answer, err := cluster.NewEvent(ctx, c, "answer")
	if err != nil {
		return 0, err
	}
	if err := e.Wait(ctx); err != nil {
		return 0, err
	}
	return 1, answer.Set(ctx)
})

func TestEventAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	e, err := cluster.NewEvent(ctx, c, "go")
	if err != nil {
		t.Fatal(err)
	}
	answer, err := cluster.NewEvent(ctx, c, "answer")
	if err != nil {
		t.Fatal(err)
	}
	if set, err := e.IsSet(ctx); err != nil || set {
		t.Fatalf("IsSet() of a new event = %v, %v", set, err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = e.Wait(short)
	cancel()
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a clear event = %v, want ErrTimeout", err)
	}
	p := startChild(t, mp.Command(eventWait, dictJob{URL: c.URL(), Name: "go"}))
	if err := e.Set(ctx); err != nil {
		t.Fatal(err)
	}
	if err := answer.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	childResult[int](t, ctx, p)
	if set, err := e.IsSet(ctx); err != nil || !set {
		t.Fatalf("IsSet() after Set = %v, %v", set, err)
	}
	if err := e.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if set, err := e.IsSet(ctx); err != nil || set {
		t.Fatalf("IsSet() after Clear = %v, %v", set, err)
	}
}
