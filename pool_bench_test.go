package mp_test

import (
	"context"
	"testing"

	"github.com/mpgo/mp"
)

func benchPool(b *testing.B, m mp.StartMethod) *mp.Pool {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2, StartMethod: m})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Terminate() })
	if _, err := mp.Map(context.Background(), p, square, make([]int, 100), 1); err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkPoolMapDefaultChunks(b *testing.B) {
	for _, m := range []mp.StartMethod{mp.Spawn, mp.Goroutine} {
		b.Run(string(m), func(b *testing.B) {
			p := benchPool(b, m)
			in := make([]int, 100_000)
			b.ResetTimer()
			for range b.N {
				if _, err := mp.Map(context.Background(), p, square, in, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "task/s")
		})
	}
}

func BenchmarkPoolMapChunk1(b *testing.B) {
	p := benchPool(b, mp.Spawn)
	in := make([]int, 10_000)
	b.ResetTimer()
	for range b.N {
		if _, err := mp.Map(context.Background(), p, square, in, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "task/s")
}

func BenchmarkPoolApply(b *testing.B) {
	p := benchPool(b, mp.Spawn)
	b.ResetTimer()
	for range b.N {
		if _, err := mp.Apply(context.Background(), p, square, 3); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPoolSubmit(b *testing.B) {
	p := benchPool(b, mp.Spawn)
	fs := make([]*mp.Future[int], 10_000)
	b.ResetTimer()
	for range b.N {
		for i := range fs {
			fs[i] = mp.Submit(context.Background(), p, square, i)
		}
		for _, f := range fs {
			if _, err := f.Get(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(fs))/b.Elapsed().Seconds(), "task/s")
}
