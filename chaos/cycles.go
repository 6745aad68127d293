package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/shm"
)

// cycle makes one object of kind i%5, uses it once, and closes it.
func cycle(ctx context.Context, i int) error {
	switch i % 5 {
	case 0:
		p := mp.Command(square, i)
		err := p.Run(ctx)
		if cerr := p.Close(); err == nil {
			err = cerr
		}
		return err
	case 1:
		a, b, err := mp.Pipe(true)
		if err != nil {
			return err
		}
		err = a.Send(ctx, i)
		if err == nil {
			var got int
			err = b.Recv(ctx, &got)
		}
		a.Close()
		b.Close()
		return err
	case 2:
		q, err := mp.NewQueue[int](0)
		if err != nil {
			return err
		}
		if err = q.Put(ctx, i); err == nil {
			_, err = q.Get(ctx)
		}
		q.Close()
		return err
	case 3:
		m, err := mp.NewMutex()
		if err != nil {
			return err
		}
		if err = m.Lock(ctx); err == nil {
			err = m.Unlock()
		}
		m.Close()
		return err
	default:
		v, err := shm.NewValue(int64(i))
		if err != nil {
			return err
		}
		err = v.Update(ctx, func(p *int64) { *p++ })
		v.Close()
		return err
	}
}

// Cycles makes and closes processes, pipes, queues, mutexes and shared
// values, one kind after the other, and compares what this process holds
// after a warm-up tenth of the cycles with what it holds at the end:
// descriptors, goroutines, shared mappings, /dev/shm entries, children, and the
// resident set after a garbage collection (a figure, with a goal of 3 MB).
func Cycles(ctx context.Context, cfg Config) (r Row) {
	n := cfg.pick(1000, 30000)
	warm := n / 10
	var base usage
	start := time.Now()
	for i := range n {
		if i == warm {
			base = measure()
		}
		if err := cycle(ctx, i); err != nil {
			r.fail("cycle %d: %v", i, err)
			return r
		}
	}
	elapsed := time.Since(start)
	var end usage
	// Closing ends some things asynchronously (a reaped child's
	// goroutines); give them their time, and no more.
	settle(ctx, 10*time.Second, func() bool {
		end = measure()
		return end.fds <= base.fds && end.goroutines <= base.goroutines &&
			end.maps <= base.maps && end.shm <= base.shm && end.children <= base.children
	})
	r.count("cycles", n)
	r.expect("fdGrowth", max(0, end.fds-base.fds), 0)
	r.expect("goroutineGrowth", max(0, end.goroutines-base.goroutines), 0)
	r.expect("mapGrowth", max(0, end.maps-base.maps), 0)
	r.expect("shmGrowth", max(0, end.shm-base.shm), 0)
	r.expect("childGrowth", max(0, end.children-base.children), 0)
	growth := end.rssKiB - base.rssKiB
	r.figure("rssWarm", "%dKiB", base.rssKiB)
	r.figure("rssGrowth", "%dKiB", growth)
	r.figure("perCycle", "%v", (elapsed / time.Duration(n)).Round(time.Microsecond))
	if growth > 3<<10 {
		r.Flags = append(r.Flags, fmt.Sprintf("rssGrowth %d KiB > 3072 KiB", growth))
	}
	return r
}
