package main

import (
	"context"

	"github.com/mpgo/mp"
)

var noop = mp.Register("bench.noop", func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil })

func init() { addGroup("start", benchStart) }

// benchStart measures starting a process that does nothing and waiting for
// it, median of n runs, for each start method.
func benchStart(ctx context.Context, b *bench) error {
	once := func(m mp.StartMethod) func() error {
		return func() error {
			p := mp.Command(noop, struct{}{})
			p.StartMethod = m
			return p.Run(ctx)
		}
	}
	if err := once(mp.Spawn)(); err != nil {
		return err
	}
	d, err := medianTime(b.n(20), once(mp.Spawn))
	if err != nil {
		return err
	}
	b.emit("process_start_join_spawn", ms(d), "ms")

	// With a warm process ready: the latency of a start when the spare has
	// been replaced since the last one (it is replaced in the background,
	// outside the timed part).
	n := b.n(50)
	times := make([]float64, 0, n)
	for range n {
		if err := mp.WarmUp(ctx, 1); err != nil {
			return err
		}
		d, err := medianTime(1, once(mp.Forkserver))
		if err != nil {
			return err
		}
		times = append(times, ms(d))
	}
	b.emit("process_start_join_forkserver", median(times), "ms")

	// Back to back, each start waits for the spare the previous one is
	// replacing: bounded by how fast a process can be spawned.
	d, err = medianTime(b.n(20), once(mp.Forkserver))
	if err != nil {
		return err
	}
	b.emit("process_start_join_forkserver_back_to_back", ms(d), "ms")
	return nil
}
