package chaos

import (
	"context"
	"os"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
)

// idle waits until its context ends: a child that only has to be alive.
var idle = mp.Register("chaos.idle", func(ctx context.Context, _ struct{}) (struct{}, error) {
	<-ctx.Done()
	return struct{}{}, nil
})

// square is a task that proves a pool's workers run.
var square = mp.Register("chaos.square", func(ctx context.Context, x int) (int, error) {
	return x * x, nil
})

// familyHead starts a pool of 8, 4 processes and a manager, sends the pids
// of all its descendants on report, and waits to be killed.
var familyHead = mp.Register("chaos.familyHead", func(ctx context.Context, report *mp.Queue[[]int]) (struct{}, error) {
	pool, err := mp.NewPool(mp.PoolOptions{Processes: 8})
	if err != nil {
		return struct{}{}, err
	}
	defer pool.Close()
	if _, err := mp.Map(ctx, pool, square, make([]int, 64), 1); err != nil {
		return struct{}{}, err
	}
	for range 4 {
		p := mp.Command(idle, struct{}{})
		if err := p.Start(); err != nil {
			return struct{}{}, err
		}
		defer p.Close()
	}
	m, err := manager.Start(ctx, nil)
	if err != nil {
		return struct{}{}, err
	}
	defer m.Close()
	if err := report.Put(ctx, descendants(os.Getpid())); err != nil {
		return struct{}{}, err
	}
	<-ctx.Done()
	return struct{}{}, nil
})

// ParentKill starts a process that starts a pool of 8, 4 processes and a
// manager, SIGKILLs it, and measures how long its descendants outlive it.
// Repeated; the row has the worst time and the descendants left alive 10 s
// after the kill (killed then).
func ParentKill(ctx context.Context, cfg Config) (r Row) {
	rounds := cfg.pick(5, 20)
	var worst time.Duration
	var all []time.Duration
	left, family := 0, 0
	for range rounds {
		d, n, l, err := killFamily(ctx)
		if err != nil {
			r.fail("%v", err)
			break
		}
		all = append(all, d)
		worst = max(worst, d)
		family += n
		left += l
	}
	r.count("rounds", len(all))
	r.count("descendants", family)
	r.expect("left", left, 0)
	r.figure("maxGone", "%v", worst.Round(time.Millisecond))
	r.figure("p50Gone", "%v", percentile(all, 50).Round(time.Millisecond))
	r.goal("maxGone", worst, 400*time.Millisecond)
	return r
}

// killFamily runs one round: it returns the time from the SIGKILL until no
// descendant was alive, how many there were, and how many were still
// alive after 10 s.
func killFamily(ctx context.Context) (time.Duration, int, int, error) {
	report, err := mp.NewQueue[[]int](1)
	if err != nil {
		return 0, 0, 0, err
	}
	defer report.Close()
	head := mp.Command(familyHead, report)
	if err := head.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer head.Close()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	pids, err := report.Get(wctx)
	if err != nil {
		head.Kill()
		head.Wait(context.Background())
		return 0, 0, 0, err
	}
	w := watchProcesses(pids)
	defer w.close()
	start := time.Now()
	head.Kill()
	gctx, gcancel := context.WithTimeout(ctx, 10*time.Second)
	left := w.waitGone(gctx)
	gcancel()
	d := time.Since(start)
	head.Wait(context.Background())
	if left > 0 {
		w.kill()
	}
	return d, w.count(), left, nil
}
