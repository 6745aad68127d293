package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/shm"
)

func init() { addGroup("lock", benchLock) }

// incrArg is what each incrementing process gets.
type incrArg struct {
	V     *shm.Value[int64]
	Start *mp.Event
	Done  *mp.Semaphore
	N     int
}

// incrLocked waits for the start, increments V under its lock N times, and
// says it is done.
var incrLocked = mp.Register("bench.incrLocked", func(ctx context.Context, a incrArg) (struct{}, error) {
	defer a.V.Close()
	defer a.Start.Close()
	defer a.Done.Close()
	if err := a.Start.Wait(ctx); err != nil {
		return struct{}{}, err
	}
	if err := incrementN(ctx, a.V, a.N); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, a.Done.Release()
})

func incrementN(ctx context.Context, v *shm.Value[int64], n int) error {
	p := v.Ptr()
	for range n {
		if err := v.Lock(ctx); err != nil {
			return err
		}
		*p++
		v.Unlock()
	}
	return nil
}

func benchLock(ctx context.Context, b *bench) error {
	if err := lockUncontended(ctx, b, b.n(10_000_000)); err != nil {
		return err
	}
	return valueLockedIncr(ctx, b, b.n(500_000))
}

// lockUncontended measures Lock+Unlock of a Mutex in one process: the median
// of five batches of n/5.
func lockUncontended(ctx context.Context, b *bench, n int) error {
	m, err := mp.NewMutex()
	if err != nil {
		return err
	}
	defer m.Close()
	batch := max(n/5, 1)
	d, err := medianTime(5, func() error {
		for range batch {
			if err := m.Lock(ctx); err != nil {
				return err
			}
			m.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.emit("lock_uncontended", float64(d.Nanoseconds())/float64(batch), "ns")
	return nil
}

// valueLockedIncr measures two processes (this one and a child) each
// incrementing a shared Value under its lock n times: total increments over
// the wall time from the start signal to the end of both.
func valueLockedIncr(ctx context.Context, b *bench, n int) error {
	v, err := shm.NewValue(int64(0))
	if err != nil {
		return err
	}
	defer v.Close()
	start, err := mp.NewEvent()
	if err != nil {
		return err
	}
	defer start.Close()
	done, err := mp.NewSemaphore(0)
	if err != nil {
		return err
	}
	defer done.Close()
	p := mp.Command(incrLocked, incrArg{V: v, Start: start, Done: done, N: n})
	if err := p.Start(); err != nil {
		return err
	}
	defer func() {
		p.Wait(ctx)
		p.Close()
	}()
	time.Sleep(50 * time.Millisecond) // let the child reach its Wait
	t := time.Now()
	start.Set()
	if err := incrementN(ctx, v, n); err != nil {
		return err
	}
	if err := done.Acquire(ctx); err != nil {
		return err
	}
	elapsed := time.Since(t)
	if got := v.Load(); got != int64(2*n) {
		return fmt.Errorf("value_locked_incr_2proc: total %d, want %d", got, 2*n)
	}
	b.emit("value_locked_incr_2proc", float64(2*n)/elapsed.Seconds(), "op/s")
	return nil
}
