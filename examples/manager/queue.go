package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/manager"
)

func init() {
	examples.Add(examples.Example{Seed: 62, Topic: "manager", Name: "manager-queue-pool", Title: "a pool's writer and reader tasks share a manager queue", Run: queueWriterReader})
}

const message = "Hello Python"

var write = mp.Register("examples.manager.write", func(ctx context.Context, q *manager.Queue[string]) (struct{}, error) {
	fmt.Printf("write started %d, parent process is %d\n", os.Getpid(), os.Getppid())
	for _, ch := range message {
		if err := q.Put(ctx, string(ch)); err != nil {
			return struct{}{}, err
		}
		fmt.Printf("write puts %c into the queue\n", ch)
	}
	return struct{}{}, nil
})

var read = mp.Register("examples.manager.read", func(ctx context.Context, q *manager.Queue[string]) (struct{}, error) {
	fmt.Printf("read started %d, parent process is %d\n", os.Getpid(), os.Getppid())
	for range len(message) {
		ch, err := q.Get(ctx)
		if err != nil {
			return struct{}{}, err
		}
		fmt.Println("read got from the queue:", ch)
	}
	return struct{}{}, nil
})

// queueWriterReader is seed 62: Pool(3) runs a writer and a reader task
// that share a manager queue. Python needs the Manager here because its
// Pool cannot take a plain Queue as a task argument; a manager queue's proxy
// travels in any argument, to any process (and in mp an mp.Queue would too).
func queueWriterReader(ctx context.Context, w io.Writer) error {
	m, err := manager.Start(ctx, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	q, err := manager.NewQueue[string](ctx, m, 0)
	if err != nil {
		return err
	}
	pool, err := mp.NewPool(mp.PoolOptions{Processes: 3, Stdout: w})
	if err != nil {
		return err
	}
	defer pool.Terminate()
	fw := mp.Submit(ctx, pool, write, q)
	fr := mp.Submit(ctx, pool, read, q)
	pool.Close()
	if err := pool.Wait(ctx); err != nil {
		return err
	}
	_, werr := fw.Get(ctx)
	_, rerr := fr.Get(ctx)
	return errors.Join(werr, rerr)
}
