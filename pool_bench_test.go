package mp_test

import (
	"context"
	"crypto/sha256"
	"slices"
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

// benchHash hashes 16 KiB made from its item, as a program hashing small
// files would: tens of microseconds of work per item.
var benchHash = mp.Register("test.bench.hash", func(_ context.Context, x int) ([32]byte, error) {
	var buf [16 << 10]byte
	for i := range buf {
		buf[i] = byte(x + i)
	}
	return sha256.Sum256(buf[:]), nil
})

// BenchmarkPoolHash compares Map's default chunks with Imap's, chunk 1
// (Python's default) and adaptive (mp's), over items that take a few tens
// of microseconds each.
func BenchmarkPoolHash(b *testing.B) {
	in := make([]int, 20_000)
	for i := range in {
		in[i] = i
	}
	imap := func(opts mp.ImapOptions) func(*mp.Pool) error {
		return func(p *mp.Pool) error {
			for _, r := range mp.Imap(context.Background(), p, benchHash, slices.Values(in), opts) {
				if r.Err != nil {
					return r.Err
				}
			}
			return nil
		}
	}
	for _, c := range []struct {
		name string
		run  func(*mp.Pool) error
	}{
		{"Map", func(p *mp.Pool) error { _, err := mp.Map(context.Background(), p, benchHash, in, 0); return err }},
		{"MapEach", func(p *mp.Pool) error { mp.MapEach(context.Background(), p, benchHash, in, 0); return nil }},
		{"ImapChunk1", imap(mp.ImapOptions{Chunk: 1})},
		{"Imap", imap(mp.ImapOptions{})},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := benchPool(b, mp.Spawn)
			b.ResetTimer()
			for range b.N {
				if err := c.run(p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "item/s")
		})
	}
}
