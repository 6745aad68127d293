package queue

import (
	"context"
	"fmt"
	"io"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 92, Topic: "queue", Name: "queue-fifo", Title: "a Queue(5): first in, first out; Empty, Full, Len", Run: fifo})
	examples.Add(examples.Example{Seed: 93, Topic: "queue", Name: "queue-lifo", Title: "a LifoQueue: last in, first out (process-safe, unlike Python's)", Run: lifo})
	examples.Add(examples.Example{Seed: 94, Topic: "queue", Name: "queue-priority", Title: "a PriorityQueue: smallest first (process-safe, unlike Python's)", Run: priority})
}

// fifo is seed 92. Python's queue.Queue works between threads only; mp's
// Queue is the same between goroutines and processes alike.
func fifo(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[int](5)
	if err != nil {
		return err
	}
	defer q.Close()
	for i := range 5 {
		if q.Empty() || q.Len() >= 1 {
			if err := q.Put(ctx, i); err != nil {
				return err
			}
		} else if q.Full() {
			fmt.Fprintln(w, "queue not size")
		}
	}
	fmt.Fprintln(w, "queue is number:", q.Len())
	for range 5 {
		if err := printGet(ctx, w, q); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "......end")
	return nil
}

// lifo is seed 93.
func lifo(ctx context.Context, w io.Writer) error {
	q, err := mp.NewLifoQueue[string](0)
	if err != nil {
		return err
	}
	defer q.Close()
	for _, s := range []string{"hello1", "hello2", "hello3"} {
		if err := q.Put(ctx, s); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, q.Len())
	for range 3 {
		v, err := q.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, v)
	}
	return nil
}

// priority is seed 94.
func priority(ctx context.Context, w io.Writer) error {
	q, err := mp.NewPriorityQueue[int](0)
	if err != nil {
		return err
	}
	defer q.Close()
	for _, v := range []int{7, 5, 3} {
		if err := q.Put(ctx, v); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, q.Len())
	for range 3 {
		v, err := q.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, v)
	}
	return nil
}
