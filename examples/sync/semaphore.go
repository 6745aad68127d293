package sync

import (
	"context"
	"fmt"
	"io"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/shm"
)

func init() {
	examples.Add(examples.Example{Seed: 38, Topic: "sync", Name: "semaphore-ktv", Title: "a KTV with 4 rooms: Semaphore(4) lets at most 4 of 6 people in", Run: ktv})
	examples.Add(examples.Example{Seed: 87, Topic: "sync", Name: "bounded-semaphore", Title: "BoundedSemaphore(3): 20 processes, at most 3 inside at once", Run: bounded})
}

// guest is what a process gets: its number, the semaphore, and the
// occupancy counters in shared memory (inside now, most ever).
type guest struct {
	I     int
	Sem   *mp.Semaphore
	Count *shm.Array[int32]
}

// enter takes the semaphore and counts the caller in.
func (g guest) enter(ctx context.Context) error {
	if err := g.Sem.Acquire(ctx); err != nil {
		return err
	}
	occupancy(g.Count.Slice()).enter()
	return nil
}

// leave counts the caller out and releases the semaphore.
func (g guest) leave() error {
	occupancy(g.Count.Slice()).leave()
	return g.Sem.Release()
}

func (g guest) close() {
	g.Sem.Close()
	g.Count.Close()
}

var sing = mp.Register("examples.sync.sing", func(ctx context.Context, g guest) (struct{}, error) {
	defer g.close()
	if err := g.enter(ctx); err != nil {
		return struct{}{}, err
	}
	fmt.Printf("person %d came in to sing\n", g.I)
	randomSleep(ctx)
	fmt.Printf("person %d left the ktv\n", g.I)
	return struct{}{}, g.leave()
})

// ktv is seed 38. The counters in shared memory check what the seed only
// claims: never more than four inside.
func ktv(ctx context.Context, w io.Writer) error {
	sem, err := mp.NewSemaphore(4)
	if err != nil {
		return err
	}
	defer sem.Close()
	return guests(ctx, w, 6, sem, sing)
}

// guests runs n processes of fn sharing sem and prints the most that were
// inside at once.
func guests(ctx context.Context, w io.Writer, n int, sem *mp.Semaphore, fn mp.Func[guest, struct{}]) error {
	count, err := shm.NewRawArray(make([]int32, 2))
	if err != nil {
		return err
	}
	defer count.Close()
	ps, err := examples.StartN(n, w, fn, func(i int) guest { return guest{i + 1, sem, count} })
	if err := joinErr(err, waitAll(ctx, ps)); err != nil {
		return err
	}
	fmt.Fprintf(w, "at most %d inside at once\n", occupancy(count.Slice()).most())
	return nil
}

var runThread = mp.Register("examples.sync.runThread", func(ctx context.Context, g guest) (struct{}, error) {
	defer g.close()
	if err := g.enter(ctx); err != nil {
		return struct{}{}, err
	}
	fmt.Printf("running the thread: Thread-%d\n", g.I)
	examples.Sleep(ctx, 2*second)
	return struct{}{}, g.leave()
})

// bounded is seed 87, with processes for Python's threads. Python joins
// only the last thread before it prints "---end"; Go waits for every
// process (the last one first, so "---end" may still come before others
// finish, as in Python).
func bounded(ctx context.Context, w io.Writer) error {
	sem, err := mp.NewBoundedSemaphore(3)
	if err != nil {
		return err
	}
	defer sem.Close()
	count, err := shm.NewRawArray(make([]int32, 2))
	if err != nil {
		return err
	}
	defer count.Close()
	ps, err := examples.StartN(20, w, runThread, func(i int) guest { return guest{i + 1, &sem.Semaphore, count} })
	if err != nil {
		return joinErr(err, waitAll(ctx, ps))
	}
	last := ps[len(ps)-1]
	err = last.Wait(ctx)
	fmt.Fprintln(w, "---end")
	if err := joinErr(err, waitAll(ctx, ps)); err != nil {
		return err
	}
	over := sem.Release()
	if over == nil {
		return fmt.Errorf("a release past the bound succeeded")
	}
	fmt.Fprintf(w, "at most %d inside at once; one more Release fails: %v\n", occupancy(count.Slice()).most(), over)
	return nil
}
