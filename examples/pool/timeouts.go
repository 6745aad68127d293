package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 58, Topic: "pool", Name: "pool-async-result-timeout", Title: "Get with a timeout, Map, Imap with a timeout per item, and a Get that times out", Run: asyncResultTimeout})
	examples.Add(examples.Example{Seed: 59, Topic: "pool", Name: "pool-map-imap-timeout", Title: "Map, ImapUnordered, the pids of four workers, and a timeout caught", Run: mapImapTimeout})
}

var f = mp.Register("examples.pool.f", func(_ context.Context, x int) (int, error) { return x * x, nil })

// sleepFor is Python's time.sleep as a task: it returns nothing.
var sleepFor = mp.Register("examples.pool.sleep", func(ctx context.Context, d time.Duration) (struct{}, error) {
	examples.Sleep(ctx, d)
	return struct{}{}, nil
})

// getpid is Python's os.getpid as a task. It naps first, so that four
// calls given at once land on four different workers.
var getpid = mp.Register("examples.pool.getpid", func(ctx context.Context, nap time.Duration) (int, error) {
	examples.Sleep(ctx, nap)
	return os.Getpid(), nil
})

// within returns a context that ends after d, Python's timeout=d.
func within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// asyncResultTimeout is seed 58. Python's with-block terminates the pool;
// the deferred Terminate does here. The seed's last Get raises an uncaught
// TimeoutError, which ends the Python program with a traceback; the Go
// program prints the error instead.
func asyncResultTimeout(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 4, Stdout: w}) // four worker processes
	if err != nil {
		return err
	}
	defer p.Terminate()
	result := mp.Submit(ctx, p, f, 10) // asynchronous
	fmt.Fprintf(w, "%T\n", result)
	examples.Note(w, "Python prints the AsyncResult object, <multiprocessing.pool.ApplyResult object at 0x...>; Go prints the Future's type")
	one, cancel := within(ctx, time.Second)
	v, err := result.Get(one) // at most a second
	cancel()
	if err != nil {
		return err
	}
	fmt.Fprintln(w, v)
	squares, err := mp.Map(ctx, p, f, ints(10), 0) // in parallel, waits for every result
	if err != nil {
		return err
	}
	fmt.Fprintln(w, pyList(squares))
	// next(it), next(it), it.next(2): a pulled Imap, its third wait bounded.
	next, stop := iter.Pull2(mp.Imap(ctx, p, f, slices.Values(ints(10)), mp.ImapOptions{Timeout: 2 * time.Second}))
	for range 3 {
		_, r, _ := next()
		if r.Err != nil {
			stop()
			return r.Err
		}
		fmt.Fprintln(w, r.Value)
	}
	stop()
	sleeper := mp.Submit(ctx, p, sleepFor, 10*time.Second)
	one, cancel = within(ctx, 3*tick) // the seed waits one second
	defer cancel()
	if _, err := sleeper.Get(one); err != nil {
		fmt.Fprintln(w, "TimeoutError:", err)
		examples.Note(w, "the seed does not catch this TimeoutError: Python ends with a traceback and exit status 1; the port prints the error and goes on")
	}
	return nil
}

// mapImapTimeout is seed 59.
func mapImapTimeout(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 4, Stdout: w}) // four worker processes
	if err != nil {
		return err
	}
	defer p.Terminate()
	squares, err := mp.Map(ctx, p, f, ints(10), 0)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, pyList(squares))
	// The same numbers, in any order (Python's print(i, end=' ')).
	var line strings.Builder
	for _, r := range mp.ImapUnordered(ctx, p, f, slices.Values(ints(10)), mp.ImapOptions{}) {
		if r.Err != nil {
			return r.Err
		}
		fmt.Fprint(&line, r.Value, " ")
	}
	fmt.Fprint(w, line.String())
	one, cancel := within(ctx, time.Second)
	defer cancel()
	v, err := mp.Submit(ctx, p, f, 20).Get(one) // runs in one worker
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n", v)
	pid, err := mp.Submit(ctx, p, getpid, 0).Get(one) // the worker that ran it
	if err != nil {
		return err
	}
	fmt.Fprintln(w, pid)
	var multiple []*mp.Future[int]
	for range 4 {
		multiple = append(multiple, mp.Submit(ctx, p, getpid, tick/2))
	}
	var pids []int
	for _, r := range multiple {
		pid, err := r.Get(one)
		if err != nil {
			return err
		}
		pids = append(pids, pid)
	}
	fmt.Fprintln(w, pyList(pids))
	// The task sleeps ten seconds; Get gives up first (the seed after a
	// second).
	short, cancelShort := within(ctx, 3*tick)
	defer cancelShort()
	if _, err := mp.Submit(ctx, p, sleepFor, 10*time.Second).Get(short); errors.Is(err, mp.ErrTimeout) {
		fmt.Fprintln(w, "We lacked patience and got a mp.ErrTimeout")
	} else {
		return fmt.Errorf("the ten-second task: %v", err)
	}
	return nil
}
