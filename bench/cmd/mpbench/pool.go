package main

import (
	"context"
	"errors"

	"github.com/mpgo/mp"
)

var benchSquare = mp.Register("bench.pool.square", func(_ context.Context, x int) (int, error) { return x * x, nil })

var benchLen = mp.Register("bench.pool.len", func(_ context.Context, b []byte) (int, error) { return len(b), nil })

// bigItem is the size of the items of pool_map_1MiB_bw.
const bigItem = 1 << 20

func init() {
	addGroup("pool", func(ctx context.Context, b *bench) error {
		if err := poolThroughput(ctx, b); err != nil {
			return err
		}
		d, err := medianTime(b.n(20), func() error {
			p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
			if err != nil {
				return err
			}
			return p.Terminate()
		})
		if err != nil {
			return err
		}
		b.emit("pool_create_terminate_2", ms(d), "ms")
		d, err = medianTime(b.n(20), func() error {
			p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
			if err != nil {
				return err
			}
			_, err = mp.Map(ctx, p, benchSquare, ints(100), 0)
			return errors.Join(err, p.Terminate())
		})
		if err != nil {
			return err
		}
		b.emit("pool_create_map_terminate_2", ms(d), "ms")
		return nil
	})
}

// poolThroughput measures a pool of two workers, as CPython's Pool(2).
func poolThroughput(ctx context.Context, b *bench) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
	if err != nil {
		return err
	}
	defer p.Terminate()
	if _, err := mp.Map(ctx, p, benchSquare, ints(100), 0); err != nil { // the workers are up
		return err
	}
	// A rate is the median of three runs: one run is at the mercy of
	// whatever else the machine does.
	rate := func(name string, count int, fn func(int) error) error {
		d, err := medianTime(b.runs(), func() error { return fn(count) })
		if err != nil {
			return err
		}
		b.emit(name, float64(count)/d.Seconds(), "task/s")
		return nil
	}
	mapWith := func(chunk int) func(int) error {
		return func(n int) error {
			_, err := mp.Map(ctx, p, benchSquare, ints(n), chunk)
			return err
		}
	}
	if err := rate("pool_map_default_chunks", b.n(1_000_000), mapWith(0)); err != nil {
		return err
	}
	if err := rate("pool_map_chunksize1", b.n(20_000), mapWith(1)); err != nil {
		return err
	}
	if err := rate("pool_apply_async", b.n(20_000), func(n int) error {
		fs := make([]*mp.Future[int], n)
		for i := range fs {
			fs[i] = mp.Submit(ctx, p, benchSquare, i)
		}
		for _, f := range fs {
			if _, err := f.Get(ctx); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	items := make([][]byte, b.n(256))
	for i := range items {
		items[i] = make([]byte, bigItem)
	}
	d, err := medianTime(b.runs(), func() error {
		_, err := mp.Map(ctx, p, benchLen, items, 1)
		return err
	})
	if err != nil {
		return err
	}
	b.emit("pool_map_1MiB_bw", float64(len(items)*bigItem)/d.Seconds()/1e6, "MB/s")
	d, err = medianTime(b.n(2000), func() error {
		_, err := mp.Apply(ctx, p, benchSquare, 3)
		return err
	})
	if err != nil {
		return err
	}
	b.emit("pool_apply_roundtrip", us(d), "us")
	return nil
}

// runs is how many runs a rate is the median of.
func (b *bench) runs() int {
	if b.quick {
		return 1
	}
	return 3
}

// ints returns 0, 1, …, n-1, as Python's range(n).
func ints(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
