package mp_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/shm"
)

// tally is the argument of addUnderLock: a lock and the counter it guards.
type tally struct {
	Lock  *mp.Mutex
	Count *shm.Value[int64] // raw: the Mutex is what guards it
}

var (
	// addUnderLock adds one to the counter 1000 times, each time under the
	// lock, as Python's with lock: counter.value += 1.
	addUnderLock = mp.Register("example.addUnderLock", func(ctx context.Context, t tally) (struct{}, error) {
		for range 1000 {
			if err := t.Lock.Lock(ctx); err != nil {
				return struct{}{}, err
			}
			t.Count.Store(t.Count.Load() + 1)
			if err := t.Lock.Unlock(); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	// waitForEvent waits until the event is set.
	waitForEvent = mp.Register("example.waitForEvent", func(ctx context.Context, e *mp.Event) (bool, error) {
		err := e.Wait(ctx)
		return e.IsSet(), err
	})
	// meetAtBarrier waits at the barrier and returns its arrival index.
	meetAtBarrier = mp.Register("example.meetAtBarrier", func(ctx context.Context, b *mp.Barrier) (int, error) {
		return b.Wait(ctx)
	})
)

// Four processes add to one counter in shared memory; the Mutex makes each
// read-modify-write whole, so no addition is lost.
func ExampleMutex() {
	ctx := context.Background()
	lock, err := mp.NewMutex()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lock.Close()
	count, err := shm.NewRawValue[int64](0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer count.Close()
	var procs []*mp.Process
	for range 4 {
		p := mp.Command(addUnderLock, tally{Lock: lock, Count: count})
		if err := p.Start(); err != nil {
			fmt.Println(err)
			return
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		if err := p.Wait(ctx); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println(count.Load())
	// Output: 4000
}

// The owner of a ReentrantLock is named by the context Lock returns: lock
// again with that context. The context given to Lock names no owner, so a
// Lock with it waits for the lock like any other owner would, here forever;
// TryLock shows it without waiting.
func ExampleReentrantLock() {
	ctx := context.Background()
	lock, err := mp.NewReentrantLock()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lock.Close()

	owner, err := lock.Lock(ctx) // Python: with rlock:
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = lock.Lock(owner) // Python: with rlock: again, inside the first
	fmt.Println("again with the returned context:", err)
	lock.Unlock(owner)

	_, ok, err := lock.TryLock(ctx)
	fmt.Println("again with the original context:", ok, err)

	fmt.Println("unlock:", lock.Unlock(owner), "locked:", lock.Locked())
	// Output:
	// again with the returned context: <nil>
	// again with the original context: false <nil>
	// unlock: <nil> locked: false
}

// A child process waits for an Event that the parent sets: Python's
// event.wait() and event.set().
func ExampleEvent() {
	ctx := context.Background()
	e, err := mp.NewEvent()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	p := mp.Command(waitForEvent, e)
	if err := p.Start(); err != nil {
		fmt.Println(err)
		return
	}
	e.Set()
	if err := p.Wait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(mp.Result[bool](p))
	// Output: true <nil>
}

// Two child processes and the parent meet at a Barrier; each gets its
// arrival index, from 0 for the first to 2 for the last.
func ExampleBarrier() {
	ctx := context.Background()
	b, err := mp.NewBarrier(3, mp.BarrierConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	var procs []*mp.Process
	for range 2 {
		p := mp.Command(meetAtBarrier, b)
		if err := p.Start(); err != nil {
			fmt.Println(err)
			return
		}
		procs = append(procs, p)
	}
	mine, err := b.Wait(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	indexes := []int{mine}
	for _, p := range procs {
		if err := p.Wait(ctx); err != nil {
			fmt.Println(err)
			return
		}
		i, _ := mp.Result[int](p)
		indexes = append(indexes, i)
	}
	slices.Sort(indexes)
	fmt.Println(indexes)
	// Output: [0 1 2]
}
