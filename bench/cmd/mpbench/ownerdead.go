package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
)

func init() { addGroup("ownerdead", benchOwnerDead) }

// holdArg is what a holder process gets: one object to take (or, for a
// barrier, to wait at), and an event to set once it has.
type holdArg struct {
	Mutex  *mp.Mutex
	Sem    *mp.Semaphore
	Cond   *mp.Cond
	Party  *mp.Barrier
	Remote *manager.Mutex
	Held   *mp.Event
}

// holdUntilKilled takes what it was given and keeps it until it is killed.
var holdUntilKilled = mp.Register("mpbench.ownerdead.hold", func(ctx context.Context, a holdArg) (struct{}, error) {
	var err error
	switch {
	case a.Mutex != nil:
		err = a.Mutex.Lock(ctx)
	case a.Sem != nil:
		err = a.Sem.Acquire(ctx)
	case a.Cond != nil:
		if _, err = a.Cond.Lock(ctx); err == nil {
			err = a.Cond.NotifyAll()
		}
	case a.Remote != nil:
		err = a.Remote.Lock(ctx)
	case a.Party != nil:
		a.Held.Set()
		_, err = a.Party.Wait(ctx)
		return struct{}{}, err
	}
	if err != nil {
		return struct{}{}, err
	}
	a.Held.Set()
	time.Sleep(time.Hour) // held until the kill, which is what is measured
	return struct{}{}, nil
})

// victim is one kind of object whose holder dies: how a holder takes it,
// how the waiter in this process waits for it, and what the waiter must
// get when the holder dies.
type victim struct {
	name string
	arg  holdArg
	want error
	// wait is the waiter's call; ready, if set, says that the holder is
	// where it must be before the waiter starts (a party at the barrier).
	wait  func(ctx context.Context) error
	ready func() bool
	// waitFirst starts the waiter before the holder (a Cond's waiter,
	// whom the holder notifies).
	waitFirst bool
	// after repairs the object for the next round.
	after func()
}

// benchOwnerDead kills the holder of each kind of lock n times while a
// goroutine of this process waits for it, and reports the time from the
// SIGKILL to the waiter's return (with ErrOwnerDead, or ErrBrokenBarrier
// for a barrier): its median and 99th percentile; the same from the
// holder's exit (see exitTime) to the waiter's return
// (mp's part); and the time the kernel took to end the holders (the
// kernel's part, the same for every kind).
func benchOwnerDead(ctx context.Context, b *bench) error {
	n := b.n(50)
	vs, done, err := victims(ctx)
	defer done()
	if err != nil {
		return err
	}
	var exits []time.Duration
	for _, v := range vs {
		took, exit, err := takeovers(ctx, v, n)
		if err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		after := make([]time.Duration, len(took))
		for i := range took {
			after[i] = took[i] - exit[i]
		}
		emitPercentiles(b, "ownerdead_"+v.name, took)
		emitPercentiles(b, "ownerdead_"+v.name+"_after_exit", after)
		exits = append(exits, exit...)
	}
	// How long the kernel took to end the holders, over all kinds: the
	// floor under every figure above.
	emitPercentiles(b, "ownerdead_exit", exits)
	return nil
}

// emitPercentiles prints the median and the 99th percentile (nearest rank)
// of ds in milliseconds.
func emitPercentiles(b *bench, name string, ds []time.Duration) {
	slices.Sort(ds)
	b.emit(name+"_p50", ms(ds[len(ds)/2]), "ms")
	b.emit(name+"_p99", ms(ds[(len(ds)*99+99)/100-1]), "ms")
}

// victims makes one object of each kind; done closes them.
func victims(ctx context.Context) (vs []victim, done func(), err error) {
	var closers []func() error
	done = func() {
		for _, c := range slices.Backward(closers) {
			c()
		}
	}
	m, err := mp.NewMutex()
	if err != nil {
		return nil, done, err
	}
	closers = append(closers, m.Close)
	vs = append(vs, victim{name: "mutex", arg: holdArg{Mutex: m}, want: mp.ErrOwnerDead,
		wait: m.Lock, after: func() { m.Unlock() }})
	s, err := mp.NewSemaphore(1)
	if err != nil {
		return nil, done, err
	}
	closers = append(closers, s.Close)
	vs = append(vs, victim{name: "semaphore", arg: holdArg{Sem: s}, want: mp.ErrOwnerDead,
		wait: s.Acquire, after: func() { s.Release() }})
	bar, err := mp.NewBarrier(3, mp.BarrierConfig{})
	if err != nil {
		return nil, done, err
	}
	closers = append(closers, bar.Close)
	vs = append(vs, victim{name: "barrier", arg: holdArg{Party: bar}, want: mp.ErrBrokenBarrier,
		wait:  func(ctx context.Context) error { _, err := bar.Wait(ctx); return err },
		ready: func() bool { return bar.NWaiting() == 1 },
		after: func() { bar.Reset() }})
	cm, err := mp.NewMutex()
	if err != nil {
		return nil, done, err
	}
	closers = append(closers, cm.Close)
	c, err := mp.NewCond(cm)
	if err != nil {
		return nil, done, err
	}
	closers = append(closers, c.Close)
	vs = append(vs, victim{name: "cond", arg: holdArg{Cond: c}, want: mp.ErrOwnerDead,
		wait: func(ctx context.Context) error {
			// The holder's Lock waits until this Wait releases the lock.
			lctx, err := c.Lock(ctx)
			if err != nil {
				return err
			}
			return c.Wait(lctx)
		},
		waitFirst: true,
		after:     func() { cm.Unlock() }})
	mc, err := manager.Start(ctx, nil)
	if err != nil {
		return nil, done, err
	}
	closers = append(closers, mc.Close)
	rm, err := manager.NewMutex(ctx, mc)
	if err != nil {
		return nil, done, err
	}
	vs = append(vs, victim{name: "manager_mutex", arg: holdArg{Remote: rm}, want: mp.ErrOwnerDead,
		wait: rm.Lock, after: func() { rm.Unlock(ctx) }})
	return vs, done, nil
}

// takeovers measures n deaths of v's holder: the times from the kills to
// the waiter's returns, and to the holders' exits.
func takeovers(ctx context.Context, v victim, n int) (took, exit []time.Duration, err error) {
	held, err := mp.NewEvent()
	if err != nil {
		return nil, nil, err
	}
	defer held.Close()
	v.arg.Held = held
	for range n {
		held.Clear()
		d, e, err := takeover(ctx, v)
		if err != nil {
			return nil, nil, err
		}
		took, exit = append(took, d), append(exit, e)
	}
	return took, exit, nil
}

// takeover starts a holder, has a goroutine wait for what it holds, kills
// the holder, and returns the time from the kill to the waiter's return,
// and to the holder's exit (the kernel's part of it).
func takeover(ctx context.Context, v victim) (took, exit time.Duration, err error) {
	type result struct {
		at  time.Time
		err error
	}
	got := make(chan result, 1)
	waiter := func() {
		err := v.wait(ctx)
		got <- result{time.Now(), err}
	}
	if v.waitFirst {
		go waiter()
	}
	p := mp.Command(holdUntilKilled, v.arg)
	if err := p.Start(); err != nil {
		return 0, 0, err
	}
	defer p.Close()
	if err := v.arg.Held.Wait(ctx); err != nil {
		return 0, 0, err
	}
	for v.ready != nil && !v.ready() {
		time.Sleep(time.Millisecond)
	}
	if !v.waitFirst {
		go waiter()
	}
	// The waiter is asleep long before this: what is measured is how soon
	// a sleeping waiter learns of the death.
	time.Sleep(20 * time.Millisecond)
	exited, err := exitTime(p.Pid())
	if err != nil {
		return 0, 0, err
	}
	killed := time.Now()
	p.Kill()
	r := <-got
	p.Wait(ctx)
	if !errors.Is(r.err, v.want) {
		return 0, 0, fmt.Errorf("the waiter got %v, want %v", r.err, v.want)
	}
	v.after()
	return r.at.Sub(killed), (<-exited).Sub(killed), nil
}
