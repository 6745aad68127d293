package cluster_test

import (
	"context"
	"testing"

	"github.com/mpgo/mp/cluster"
)

// The benchmarks run against an engine embedded in this process, over
// loopback TCP: every operation is at least one request to the engine.

func BenchmarkQueuePutGet(b *testing.B) {
	c := startBench(b)
	ctx := context.Background()
	q, err := cluster.NewQueue[[]byte](ctx, c, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	item := make([]byte, 64)
	for b.Loop() {
		if err := q.Put(ctx, item); err != nil {
			b.Fatal(err)
		}
		if _, err := q.Get(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQueuePut(b *testing.B) {
	c := startBench(b)
	ctx := context.Background()
	q, err := cluster.NewQueue[[]byte](ctx, c, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	item := make([]byte, 64)
	for b.Loop() {
		if err := q.Put(ctx, item); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDictSet(b *testing.B) {
	c := startBench(b)
	ctx := context.Background()
	d, err := cluster.NewDict[string, int](ctx, c, "bench")
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if err := d.Set(ctx, "k", i); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkValueAdd(b *testing.B) {
	c := startBench(b)
	ctx := context.Background()
	v, err := cluster.NewValue[int64](ctx, c, "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := v.Add(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLockUnlock(b *testing.B) {
	c := startBench(b)
	ctx := context.Background()
	l, err := cluster.NewLock(ctx, c, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := l.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		if err := l.Unlock(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// startBench runs an engine for one benchmark (start is for tests).
func startBench(b *testing.B) *cluster.Cluster {
	b.Helper()
	c, err := cluster.Start(context.Background(), &cluster.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := c.Close(); err != nil {
			b.Error(err)
		}
	})
	return c
}
