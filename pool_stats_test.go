package mp_test

import (
	"context"
	"errors"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// Stats counts each task and each worker once, by how it ended: tasks
// that returned, failed, were cancelled while queued or ran past their
// deadline; a worker killed from outside and one the pool killed.
func TestPoolStats(t *testing.T) {
	mptest.CheckLeaks(t)
	t.Cleanup(mp.SetKillGrace(10 * time.Millisecond))
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	if got, want := p.Stats(), (mp.PoolStats{Workers: 1, Started: 1}); got != want {
		t.Fatalf("Stats() of a new pool = %+v, want %+v", got, want)
	}
	if _, err := mp.Map(ctx, p, square, []int{1, 2, 3}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.Apply(ctx, p, failOdd, 1); err == nil {
		t.Fatal("failOdd(1) succeeded")
	}

	// One task runs, one waits behind it and is cancelled; the running
	// one's worker is killed from outside.
	f, wpid, _ := startHang(t, ctx, p, "sleep", false)
	cctx, cancel := context.WithCancel(ctx)
	queued := mp.Submit(cctx, p, square, 4)
	want := mp.PoolStats{Workers: 1, Started: 1, Queued: 1, Running: 1, Done: 3, Failed: 1}
	if got := p.Stats(); got != want {
		t.Errorf("Stats() with a task running and one queued = %+v, want %+v", got, want)
	}
	cancel()
	if _, err := queued.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled task: %v", err)
	}
	// mp tells the pool of the cancellation after the task has ended.
	waitUntil(t, "the pool counts the cancelled task", func() bool { return p.Stats().Cancelled == 1 })
	syscall.Kill(wpid, syscall.SIGKILL)
	if _, err := f.Get(ctx); !errors.Is(err, mp.ErrWorkerDied) {
		t.Fatalf("task whose worker was killed: %v", err)
	}

	// A task past its deadline has its worker killed.
	dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
	defer dcancel()
	f, _, _ = startHang(t, dctx, p, "sleep", false)
	if _, err := f.Get(ctx); !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("task past its deadline: %v", err)
	}
	// The kill comes a grace period after the deadline, and the
	// replacement after the kill.
	waitUntil(t, "the pool replaces the killed worker", func() bool {
		s := p.Stats()
		return s.Killed == 1 && s.Started == 3 && s.Workers == 1
	})
	want = mp.PoolStats{Workers: 1, Started: 3, Died: 1, Killed: 1, Done: 3, Failed: 2, TimedOut: 1, Cancelled: 1}
	if got := p.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	p.Close()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	want.Workers = 0
	if got := p.Stats(); got != want {
		t.Errorf("Stats() after Wait = %+v, want %+v", got, want)
	}
}

// A worker that has run MaxTasksPerChild tasks is counted as recycled,
// not as died.
func TestPoolStatsRecycled(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1, MaxTasksPerChild: 2})
	rec := newRecorder(t)
	mp.SetLogger(slog.New(rec))
	defer mp.SetLogger(nil)
	for i := range 5 {
		if _, err := mp.Apply(ctx, p, square, i); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// Workers of 2, 2 and 1 tasks; the last one stops as the pool closes.
	want := mp.PoolStats{Started: 3, Recycled: 2, Done: 5}
	if got := p.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	for _, w := range []string{"PoolWorker-1", "PoolWorker-2"} {
		rec.want(t, slog.LevelDebug, "mp: pool worker exited: it ran its most tasks", map[string]any{"worker": w, "tasks": int64(2)})
	}
}
