package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/shm"
)

// The words of LockKill's shared array; incrementer i counts its
// increments in word lockDone+i.
const (
	lockCounter   = iota // the count the incrementers raise under the lock
	lockRequest          // 1: the next holder is to stay and be killed
	lockOwnerDead        // ErrOwnerDead seen
	lockRecovered        // CLOCK_MONOTONIC when the last ErrOwnerDead came
	lockVictim           // the pid of the holder that stays
	lockStop             // 1: incrementers return
	lockDone
)

// incrementerArg is what an incrementer of LockKill gets.
type incrementerArg struct {
	M         *mp.Mutex
	A         *shm.Array[int64]
	Slot      int
	Held      *mp.Event // set by the holder that stays to be killed
	Recovered *mp.Event // set by the holder that got ErrOwnerDead
}

// incrementer raises the shared count under the lock until told to stop;
// when asked, it stays holding the lock until it is killed.
var incrementer = mp.Register("chaos.incrementer", func(ctx context.Context, a incrementerArg) (struct{}, error) {
	w := a.A.Slice()
	for atomic.LoadInt64(&w[lockStop]) == 0 {
		err := a.M.Lock(ctx)
		if errors.Is(err, mp.ErrOwnerDead) {
			atomic.StoreInt64(&w[lockRecovered], monotonic())
			atomic.AddInt64(&w[lockOwnerDead], 1)
			a.Recovered.Set()
		} else if err != nil {
			return struct{}{}, err
		}
		// Under the lock: plain loads and stores would do if the lock
		// works; the count tells whether it does.
		w[lockCounter]++
		atomic.AddInt64(&w[lockDone+a.Slot], 1)
		if atomic.CompareAndSwapInt64(&w[lockRequest], 1, 0) {
			atomic.StoreInt64(&w[lockVictim], int64(os.Getpid()))
			a.Held.Set()
			<-ctx.Done() // held until the SIGKILL
			return struct{}{}, nil
		}
		if err := a.M.Unlock(); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

// LockKill runs 4 processes that raise a shared count under one mp.Mutex,
// and SIGKILLs the holder again and again (each replaced). It counts the
// ErrOwnerDead the survivors see (one per kill), checks that the count
// equals the sum of the increments (no two holders at once), and measures
// the time from each SIGKILL to the next holder's ErrOwnerDead.
func LockKill(ctx context.Context, cfg Config) (r Row) {
	kills := cfg.pick(30, 50)
	run, err := newLockRun(kills)
	if err != nil {
		r.fail("%v", err)
		return r
	}
	defer run.close()
	for range 4 {
		if err := run.start(); err != nil {
			r.fail("%v", err)
			return r
		}
	}
	var lat []time.Duration
	for range kills {
		d, err := run.kill(ctx)
		if err != nil {
			r.fail("%v", err)
			break
		}
		lat = append(lat, d)
	}
	w := run.arg.A.Slice()
	atomic.StoreInt64(&w[lockStop], 1)
	for pid, p := range run.procs {
		if err := p.Wait(ctx); err != nil {
			r.fail("incrementer %d: %v", pid, err)
		}
	}
	sum := int64(0)
	for i := range run.next {
		sum += atomic.LoadInt64(&w[lockDone+i])
	}
	r.count("kills", len(lat))
	r.expect("ownerDead", int(atomic.LoadInt64(&w[lockOwnerDead])), kills)
	r.expect("countMismatch", int(atomic.LoadInt64(&w[lockCounter])-sum), 0)
	r.count("increments", int(sum))
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	r.figure("p50", "%v", p50.Round(time.Microsecond))
	r.figure("p99", "%v", p99.Round(time.Microsecond))
	r.goal("p99", p99, 5*time.Millisecond)
	return r
}

// lockRun is the state of one LockKill run.
type lockRun struct {
	arg   incrementerArg
	procs map[int]*mp.Process // the live incrementers, by pid
	next  int
}

func newLockRun(kills int) (*lockRun, error) {
	run := &lockRun{procs: map[int]*mp.Process{}}
	var err error
	if run.arg.M, err = mp.NewMutex(); err != nil {
		return nil, err
	}
	if run.arg.A, err = shm.NewRawArray(make([]int64, lockDone+4+kills)); err != nil {
		run.arg.M.Close()
		return nil, err
	}
	if run.arg.Held, err = mp.NewEvent(); err == nil {
		run.arg.Recovered, err = mp.NewEvent()
	}
	if err != nil {
		run.close()
		return nil, err
	}
	return run, nil
}

func (l *lockRun) close() {
	for _, p := range l.procs {
		p.Kill()
		p.Wait(context.Background())
		p.Close()
	}
	l.arg.M.Close()
	l.arg.A.Close()
	if l.arg.Held != nil {
		l.arg.Held.Close()
	}
	if l.arg.Recovered != nil {
		l.arg.Recovered.Close()
	}
}

func (l *lockRun) start() error {
	a := l.arg
	a.Slot = l.next
	l.next++
	p := mp.Command(incrementer, a)
	if err := p.Start(); err != nil {
		return err
	}
	l.procs[p.Pid()] = p
	return nil
}

// kill has the next holder stay, SIGKILLs it, waits for the next holder's
// ErrOwnerDead, replaces the victim, and returns the time between the
// kill and the ErrOwnerDead.
func (l *lockRun) kill(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w := l.arg.A.Slice()
	atomic.StoreInt64(&w[lockRequest], 1)
	if err := l.arg.Held.Wait(ctx); err != nil {
		return 0, fmt.Errorf("no holder stayed: %w", err)
	}
	l.arg.Held.Clear()
	pid := int(atomic.LoadInt64(&w[lockVictim]))
	p := l.procs[pid]
	if p == nil {
		return 0, fmt.Errorf("the holder %d is not an incrementer", pid)
	}
	t0 := monotonic()
	p.Kill()
	if err := l.arg.Recovered.Wait(ctx); err != nil {
		return 0, fmt.Errorf("no ErrOwnerDead after the holder's kill: %w", err)
	}
	d := time.Duration(atomic.LoadInt64(&w[lockRecovered]) - t0)
	l.arg.Recovered.Clear()
	p.Wait(ctx)
	p.Close()
	delete(l.procs, pid)
	return d, l.start()
}
