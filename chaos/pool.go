package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpgo/mp"
)

// poolTaskArg is one task of PoolKill: its index, the execution log to
// append it to, and how long to work.
type poolTaskArg struct {
	I     int
	Log   string
	Sleep time.Duration
}

// poolTask logs its index with one append (so that a kill leaves the line
// whole or absent), works for a while, and returns a function of the index.
var poolTask = mp.Register("chaos.poolTask", func(ctx context.Context, a poolTaskArg) (int, error) {
	f, err := os.OpenFile(a.Log, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return 0, err
	}
	_, err = f.Write([]byte(strconv.Itoa(a.I) + "\n"))
	f.Close()
	if err != nil {
		return 0, err
	}
	t := time.NewTimer(a.Sleep)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return poolAnswer(a.I), nil
})

func poolAnswer(i int) int { return i*i + 7 }

// PoolKill runs many short tasks on a pool of 4 while it SIGKILLs random
// workers, and counts: results wrong, tasks with no outcome, tasks run
// twice (from a log each run appends to), failures that are not
// *mp.WorkerDiedError, workers at the end, zombies.
func PoolKill(ctx context.Context, cfg Config) (r Row) {
	tasks, kills := cfg.pick(4000, 20000), cfg.pick(40, 100)
	dir, cleanup, err := tempDir(cfg)
	if err != nil {
		r.fail("%v", err)
		return r
	}
	defer cleanup()
	log := filepath.Join(dir, "pool-executions")
	if err := os.WriteFile(log, nil, 0o600); err != nil {
		r.fail("%v", err)
		return r
	}
	defer os.Remove(log)
	pool, err := mp.NewPool(mp.PoolOptions{Processes: 4})
	if err != nil {
		r.fail("NewPool: %v", err)
		return r
	}
	defer pool.Close()
	res := runPoolTasks(ctx, pool, log, tasks, kills)
	counts, err := readLog(log, tasks)
	if err != nil {
		r.fail("%v", err)
		return r
	}
	var twice, ran, wrongRuns int
	for i, n := range counts {
		if n > 1 {
			twice++
		}
		if res.ok[i] && n != 1 {
			wrongRuns++ // a result from a task that did not run once
		}
		if n > 0 {
			ran++
		}
	}
	settle(ctx, 20*time.Second, func() bool { return pool.Stats().Workers == 4 })
	workers := pool.Stats().Workers
	died := pool.Stats().Died
	closeErr := pool.Close()
	settle(ctx, 5*time.Second, func() bool { return zombies() == 0 })
	r.count("tasks", tasks)
	r.count("kills", res.kills)
	r.expect("wrong", res.wrong+wrongRuns, 0)
	r.expect("lost", res.lost, 0)
	r.expect("twice", twice, 0)
	r.count("workerDied", res.died)
	r.expect("otherErrors", res.other, 0)
	r.expect("workers", workers, 4)
	r.expect("zombies", zombies(), 0)
	r.figure("diedPerStats", "%d", died)
	r.figure("tasksPerSec", "%.0f", float64(tasks)/res.elapsed.Seconds())
	if res.died > res.kills {
		r.fail("%d tasks failed with WorkerDiedError after %d kills", res.died, res.kills)
	}
	if res.kills < kills {
		r.fail("only %d of %d kills found a worker", res.kills, kills)
	}
	if res.firstOther != nil {
		r.fail("first other error: %v", res.firstOther)
	}
	if closeErr != nil {
		r.fail("Close: %v", closeErr)
	}
	return r
}

// poolRun is what runPoolTasks saw.
type poolRun struct {
	ok                              []bool
	kills, wrong, lost, died, other int
	firstOther                      error
	elapsed                         time.Duration
}

// runPoolTasks runs the tasks, killing a random worker after every
// tasks/(kills+1) results.
func runPoolTasks(ctx context.Context, pool *mp.Pool, log string, tasks, kills int) poolRun {
	res := poolRun{ok: make([]bool, tasks)}
	seen := make([]int, tasks)
	every := max(1, tasks/(kills+1))
	in := func(yield func(poolTaskArg) bool) {
		for i := range tasks {
			if !yield(poolTaskArg{I: i, Log: log, Sleep: time.Duration(rand.IntN(2001)) * time.Microsecond}) {
				return
			}
		}
	}
	start := time.Now()
	n := 0
	for i, o := range mp.ImapUnordered(ctx, pool, poolTask, in, mp.ImapOptions{Chunk: 1}) {
		seen[i]++
		var wd *mp.WorkerDiedError
		switch {
		case o.Err == nil && o.Value == poolAnswer(i):
			res.ok[i] = true
		case o.Err == nil:
			res.wrong++
		case errors.As(o.Err, &wd):
			res.died++
		default:
			res.other++
			if res.firstOther == nil {
				res.firstOther = o.Err
			}
		}
		n++
		if n%every == 0 && res.kills < kills && killWorker() {
			res.kills++
		}
	}
	res.elapsed = time.Since(start)
	for _, s := range seen {
		if s != 1 {
			res.lost++ // no outcome, or more than one
		}
	}
	return res
}

// killWorker SIGKILLs a random pool worker of this process.
func killWorker() bool {
	ws := poolWorkers()
	if len(ws) == 0 {
		return false
	}
	return unix.Kill(ws[rand.IntN(len(ws))], unix.SIGKILL) == nil
}

// readLog counts the lines of each index in an execution log.
func readLog(path string, n int) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	counts := make([]int, n)
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		i, err := strconv.Atoi(string(line))
		if err != nil || i < 0 || i >= n {
			return nil, fmt.Errorf("execution log: bad line %q", line)
		}
		counts[i]++
	}
	return counts, nil
}
