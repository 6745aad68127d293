package mp_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// A number out of range in a constructor's options is a programming error:
// the constructor panics, saying which option and why, and starts nothing
// (panicMessage is in unexported_test.go).
func TestOptionsOutOfRange(t *testing.T) {
	mptest.CheckLeaks(t)
	p, err := mp.NewPool(mp.PoolOptions{Processes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Terminate()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		fn   func()
		want string
	}{
		{"Processes", func() { mp.NewPool(mp.PoolOptions{Processes: -1}) }, "mp: NewPool with Processes -1: want 0 (CPUCount) or more"},
		{"MaxTasksPerChild", func() { mp.NewPool(mp.PoolOptions{Processes: 1, MaxTasksPerChild: -1}) }, "mp: NewPool with MaxTasksPerChild -1: want 0 (no limit) or more"},
		{"TaskTimeout", func() { mp.NewPool(mp.PoolOptions{Processes: 1, TaskTimeout: -time.Second}) }, "mp: NewPool with TaskTimeout -1s: want 0 (no limit) or more"},
		{"BarrierParties", func() { mp.NewBarrier(0, mp.BarrierConfig{}) }, "mp: NewBarrier with 0 parties"},
		{"BarrierTimeout", func() { mp.NewBarrier(2, mp.BarrierConfig{Timeout: -time.Millisecond}) }, "mp: NewBarrier with Timeout -1ms: want 0 (no bound) or more"},
		{"Semaphore", func() { mp.NewSemaphore(-1) }, "mp: semaphore value -1 outside 0..MaxInt32"},
		{"MapChunk", func() { mp.Map(ctx, p, cube, []int{1}, -1) }, "mp: chunk size -1: want 0 (the default) or more"},
		{"MapEachChunk", func() { mp.MapEach(ctx, p, cube, []int{1}, -2) }, "mp: chunk size -2: want 0 (the default) or more"},
		{"ImapChunk", func() { mp.Imap(ctx, p, cube, slices.Values([]int{1}), mp.ImapOptions{Chunk: -1}) }, "mp: chunk size -1: want 0 (the default) or more"},
		{"ImapReadAhead", func() { mp.ImapUnordered(ctx, p, cube, slices.Values([]int{1}), mp.ImapOptions{ReadAhead: -1}) }, "mp: ImapOptions ReadAhead -1, Timeout 0s: want 0 (the default) or more"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := panicMessage(c.fn); got != c.want {
				t.Errorf("panic %q, want %q", got, c.want)
			}
		})
	}
}

// A start method is a value a program may read from its configuration: an
// unknown or unsupported one is an error, not a panic.
func TestPoolStartMethodErrors(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, c := range []struct {
		method mp.StartMethod
		want   error
	}{
		{mp.Fork, mp.ErrForkUnsupported},
		{"threads", nil},
	} {
		p, err := mp.NewPool(mp.PoolOptions{Processes: 1, StartMethod: c.method})
		if p != nil || err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), "mp: ") {
			t.Errorf("NewPool with StartMethod %q = %v, %v; want an error matching %v", c.method, p, err, c.want)
		}
	}
}
