package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
)

func init() { addGroup("manager", benchManager) }

// dictSetArg is the work of the child of manager_dict_set_child: N sets,
// shared by G goroutines (at least one) on the one proxy.
type dictSetArg struct {
	D *manager.Dict[int, int]
	N int
	G int
}

var dictSetter = mp.Register("mpbench.manager.dictSet", func(ctx context.Context, a dictSetArg) (struct{}, error) {
	gs := max(a.G, 1)
	errs := make([]error, gs)
	var wg sync.WaitGroup
	for i := range gs {
		wg.Go(func() { errs[i] = setMany(ctx, a.D, a.N/gs) })
	}
	wg.Wait()
	return struct{}{}, errors.Join(errs...)
})

// queueGetArg is the work of the consumer of manager_queue_put_get_remote.
type queueGetArg struct {
	Addr string
	Key  []byte
	N    int
}

var queueGetter = mp.Register("mpbench.manager.queueGet", func(ctx context.Context, a queueGetArg) (struct{}, error) {
	c, err := manager.Dial(ctx, a.Addr, &manager.DialOptions{AuthKey: a.Key})
	if err != nil {
		return struct{}{}, err
	}
	defer c.Close()
	q, err := manager.Lookup[manager.Queue[int]](ctx, c, "queue")
	if err != nil {
		return struct{}{}, err
	}
	for range a.N {
		if _, err := q.Get(ctx); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

func setMany(ctx context.Context, d *manager.Dict[int, int], n int) error {
	for i := range n {
		if err := d.Set(ctx, i%100, i); err != nil {
			return err
		}
	}
	return nil
}

// benchManager measures as the CPython anchor does: n d[k] = v from the
// parent, then from one child (its start and join included), and a queue
// over TCP loopback between two processes.
func benchManager(ctx context.Context, b *bench) error {
	n := b.n(20000)
	c, err := manager.Start(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	d, err := manager.NewDict[int, int](ctx, c, nil)
	if err != nil {
		return err
	}
	t := time.Now()
	if err := setMany(ctx, d, n); err != nil {
		return err
	}
	b.emit("manager_dict_set_local", float64(n)/time.Since(t).Seconds(), "op/s")
	t = time.Now()
	if err := mp.Command(dictSetter, dictSetArg{D: d, N: n}).Run(ctx); err != nil {
		return err
	}
	b.emit("manager_dict_set_child", float64(n)/time.Since(t).Seconds(), "op/s")
	// Beyond the anchor: the same from 8 goroutines of the child sharing
	// the proxy, whose calls overlap on the one connection.
	t = time.Now()
	if err := mp.Command(dictSetter, dictSetArg{D: d, N: n, G: 8}).Run(ctx); err != nil {
		return err
	}
	b.emit("manager_dict_set_child_8goroutines", float64(n)/time.Since(t).Seconds(), "op/s")
	return benchQueueRemote(ctx, b)
}

// benchQueueRemote puts n items into a manager queue on TCP loopback while
// a child process gets them.
func benchQueueRemote(ctx context.Context, b *bench) error {
	n := b.n(10000)
	key := []byte("mpbench")
	c, err := manager.Start(ctx, &manager.Options{Address: "127.0.0.1:0", AuthKey: key,
		Shared: map[string]manager.Spec{"queue": {Kind: manager.KindQueue}}})
	if err != nil {
		return err
	}
	defer c.Close()
	q, err := manager.Lookup[manager.Queue[int]](ctx, c, "queue")
	if err != nil {
		return err
	}
	t := time.Now()
	p := mp.Command(queueGetter, queueGetArg{Addr: c.Addr(), Key: key, N: n})
	if err := p.Start(); err != nil {
		return err
	}
	defer p.Close()
	for i := range n {
		if err := q.Put(ctx, i); err != nil {
			p.Kill()
			p.Wait(ctx)
			return err
		}
	}
	if err := p.Wait(ctx); err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	b.emit("manager_queue_put_get_remote", float64(n)/time.Since(t).Seconds(), "msg/s")
	return nil
}
