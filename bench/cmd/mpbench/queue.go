package main

import (
	"bytes"
	"context"
	"time"

	"github.com/mpgo/mp"
)

func init() { addGroup("queue", benchQueue) }

type queueArg struct {
	Q    *mp.Queue[[]byte]
	N    int
	Size int
}

// queueProducer puts an empty item (ready), N items of Size bytes, then an
// empty item (the end marker).
var queueProducer = mp.Register("bench.queueProducer", func(ctx context.Context, a queueArg) (struct{}, error) {
	item := bytes.Repeat([]byte("x"), a.Size)
	if err := a.Q.Put(ctx, []byte{}); err != nil {
		return struct{}{}, err
	}
	for range a.N {
		if err := a.Q.Put(ctx, item); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, a.Q.Put(ctx, []byte{})
})

func benchQueue(ctx context.Context, b *bench) error {
	if err := queueOneWay(ctx, b, "queue_8B", b.n(400000), 8, false); err != nil {
		return err
	}
	if err := queueOneWay(ctx, b, "queue_1KiB", b.n(200000), 1<<10, false); err != nil {
		return err
	}
	return queueOneWay(ctx, b, "queue_1MiB_bw", b.n(1000), 1<<20, true)
}

// queueOneWay measures items of size bytes put by a child and got by this
// process: from the child's ready item to its end marker.
func queueOneWay(ctx context.Context, b *bench, name string, n, size int, bw bool) error {
	q, err := mp.NewQueue[[]byte](0)
	if err != nil {
		return err
	}
	defer q.Close()
	p := mp.Command(queueProducer, queueArg{Q: q, N: n, Size: size})
	if err := p.Start(); err != nil {
		return err
	}
	if _, err := q.Get(ctx); err != nil {
		return err
	}
	t := time.Now()
	got := 0
	for {
		m, err := q.Get(ctx)
		if err != nil {
			return err
		}
		if len(m) == 0 {
			break
		}
		got++
	}
	dt := time.Since(t).Seconds()
	if bw {
		b.emit(name, float64(got*size)/dt/1e6, "MB/s")
	} else {
		b.emit(name, float64(got)/dt, "msg/s")
	}
	return p.Wait(ctx)
}
