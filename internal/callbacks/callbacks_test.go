package callbacks

import (
	"context"
	"errors"
	"testing"
)

func TestRunsInOrderThenInline(t *testing.T) {
	stop := make(chan struct{})
	r := New(stop)
	var got []int
	block := make(chan struct{})
	r.Add(func() { <-block })
	for i := range 100 {
		r.Add(func() { got = append(got, i) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with the runner busy and ctx done = %v, want context.Canceled", err)
	}
	close(block)
	close(stop)
	if err := r.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("callback %d ran as number %d: %v", v, i, got)
		}
	}
	if len(got) != 100 {
		t.Fatalf("%d callbacks ran, want 100", len(got))
	}
	ran := false
	r.Add(func() { ran = true }) // after the end: runs in this goroutine
	if !ran {
		t.Fatal("a callback added after the runner ended did not run at once")
	}
}
