package queue

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 11, Topic: "queue", Name: "queue-start-method-spawn", Title: "choose the spawn start method; a child fills a Queue", Run: startMethodSpawn})
	examples.Add(examples.Example{Seed: 12, Topic: "queue", Name: "queue-start-method-per-process", Title: "a start method per Process; two producers share a Queue", Run: startMethodPerProcess})
	examples.Add(examples.Example{Seed: 22, Topic: "queue", Name: "queue-same-process", Title: "a Queue inside one process is first in, first out", Run: sameProcess})
	examples.Add(examples.Example{Seed: 23, Topic: "queue", Name: "queue-parent-to-child", Title: "the parent puts, the child gets", Run: parentToChild})
	examples.Add(examples.Example{Seed: 24, Topic: "queue", Name: "queue-child-get-pids", Title: "the child gets a value and prints its pids", Run: childGetPids})
	examples.Add(examples.Example{Seed: 25, Topic: "queue", Name: "queue-child-to-child", Title: "one child puts 0..9, another gets them", Run: childToChild})
	examples.Add(examples.Example{Seed: 26, Topic: "queue", Name: "queue-put-objects", Title: "any encodable value goes through a Queue", Run: putObjects})
	examples.Add(examples.Example{Seed: 27, Topic: "queue", Name: "queue-bidirectional", Title: "one Queue used in both directions", Run: bidirectional})
}

var fillThree = mp.Register("examples.queue.fillThree", func(ctx context.Context, q *mp.Queue[string]) (struct{}, error) {
	for _, s := range []string{"hello", "123", "python"} {
		if err := q.Put(ctx, s); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

// startMethodSpawn is seed 11. Python's set_start_method('spawn') is
// SetStartMethod(mp.Spawn) (Spawn is already the default; Python's Linux
// default, fork, cannot work in Go). The Len line is racy, as in Python:
// 0, 1 or 2, depending on how far the child got (Python's feeder thread
// makes 0 rare there; mp's Put writes to the queue at once).
func startMethodSpawn(ctx context.Context, w io.Writer) error {
	if err := mp.SetStartMethod(mp.Spawn); err != nil {
		return err
	}
	q, err := mp.NewQueue[string](0)
	if err != nil {
		return err
	}
	defer q.Close()
	p := mp.Command(fillThree, q)
	p.Stdout = w
	if err := p.Start(); err != nil {
		return err
	}
	for i, show := range []func() error{
		func() error { return printGet(ctx, w, q) },
		func() error { fmt.Fprintln(w, q.Len()); return nil },
		func() error { return printGet(ctx, w, q) },
	} {
		if err := show(); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return p.Wait(ctx)
}

func printGet[T any](ctx context.Context, w io.Writer, q *mp.Queue[T]) error {
	v, err := q.Get(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, v)
	return nil
}

// producerArg is what each producer of seed 12 gets: the queue, its
// number, and when the parent asked for it.
type producerArg struct {
	Q      *mp.Queue[string]
	N      int
	Method mp.StartMethod
	Asked  time.Time
}

// booted is when this process's Go code started to run: in a child, when
// the child was started, which is not when it was given work if it was a
// warm spare.
var booted = time.Now()

var putTen = mp.Register("examples.queue.putTen", func(ctx context.Context, a producerArg) (struct{}, error) {
	how := "this process was started after the parent asked for it: a new run of the program"
	if booted.Before(a.Asked) {
		how = "this process was already running when the parent asked for it: a warm spare"
	}
	fmt.Printf("producer %d (%s), pid %d: %s\n", a.N, a.Method, os.Getpid(), how)
	for i := range 10 {
		if err := a.Q.Put(ctx, fmt.Sprintf("python%d", i)); err != nil {
			return struct{}{}, err
		}
		examples.Sleep(ctx, 100*time.Millisecond)
	}
	return struct{}{}, nil
})

// startMethodPerProcess is seed 12. Python's get_context('spawn') binds a
// start method to the objects it makes; in mp, a queue works with every
// start method, and each Process names its own in StartMethod. Here the
// first producer is spawned (a new run of the program) and the second
// taken from the forkserver's warm spares, which each says. The producers
// pause 100 ms between items (the seed: a second), so the items arrive in
// pairs.
func startMethodPerProcess(ctx context.Context, w io.Writer) error {
	examples.Note(w, "Python binds a start method to a context object (get_context); in Go each Process names its own, and these two differ")
	if err := mp.WarmUp(ctx, 1); err != nil { // a spare booted and waiting
		return err
	}
	q, err := mp.NewQueue[string](0)
	if err != nil {
		return err
	}
	defer q.Close()
	var procs []*mp.Process
	for i, m := range []mp.StartMethod{mp.Spawn, mp.Forkserver} {
		p := mp.Command(putTen, producerArg{Q: q, N: i + 1, Method: m, Asked: time.Now()})
		p.StartMethod, p.Stdout = m, w
		if err := p.Start(); err != nil {
			examples.WaitAll(ctx, procs...)
			return err
		}
		procs = append(procs, p)
	}
	for range 10 {
		if err := printGet(ctx, w, q); err != nil {
			return err
		}
	}
	return examples.WaitAll(ctx, procs...)
}

// sameProcess is seed 22: a Queue works inside one process too.
func sameProcess(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[any](0)
	if err != nil {
		return err
	}
	defer q.Close()
	for _, v := range []any{1, 2, "aaa"} {
		if err := q.Put(ctx, v); err != nil {
			return err
		}
	}
	return printGet(ctx, w, q)
}

var readOne = mp.Register("examples.queue.readOne", func(ctx context.Context, q *mp.Queue[int]) (struct{}, error) {
	v, err := q.Get(ctx)
	if err == nil {
		fmt.Println(v)
	}
	return struct{}{}, err
})

// parentToChild is seed 23: the child's Get waits for the parent's Put.
func parentToChild(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[int](0)
	if err != nil {
		return err
	}
	defer q.Close()
	p, err := start(readOne, q, w)
	if err != nil {
		return err
	}
	if err := q.Put(ctx, 100); err != nil {
		return err
	}
	return p.Wait(ctx)
}

var wahaha = mp.Register("examples.queue.wahaha", func(ctx context.Context, q *mp.Queue[int]) (struct{}, error) {
	v, err := q.Get(ctx)
	if err == nil {
		fmt.Println(v, os.Getpid(), mp.ParentPID())
	}
	return struct{}{}, err
})

// childGetPids is seed 24. Python's interpreter waits for the child at
// exit; Go does not, so the example waits for it.
func childGetPids(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[int](0)
	if err != nil {
		return err
	}
	defer q.Close()
	p, err := start(wahaha, q, w)
	if err != nil {
		return err
	}
	if err := q.Put(ctx, 1); err != nil {
		return err
	}
	fmt.Fprintln(w, os.Getpid())
	return p.Wait(ctx)
}

var (
	getTen = mp.Register("examples.queue.getTen", func(ctx context.Context, q *mp.Queue[int]) (struct{}, error) {
		for range 10 {
			v, err := q.Get(ctx)
			if err != nil {
				return struct{}{}, err
			}
			fmt.Printf("q get %d in queue\n", v)
		}
		return struct{}{}, nil
	})
	putInts = mp.Register("examples.queue.putInts", func(ctx context.Context, q *mp.Queue[int]) (struct{}, error) {
		for i := range 10 {
			if err := q.Put(ctx, i); err != nil {
				return struct{}{}, err
			}
			fmt.Printf("q put %d in queue\n", i)
		}
		return struct{}{}, nil
	})
)

// childToChild is seed 25: two children talk through the parent's Queue.
func childToChild(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[int](0)
	if err != nil {
		return err
	}
	defer q.Close()
	getter, err := start(getTen, q, w)
	if err != nil {
		return err
	}
	putter, err := start(putInts, q, w)
	if err != nil {
		return err
	}
	return examples.WaitAll(ctx, putter, getter)
}

var putObjectsFn = mp.Register("examples.queue.putObjects", func(ctx context.Context, q *mp.Queue[any]) (struct{}, error) {
	for _, v := range []any{[]any{42, nil, "hello"}, "python", "python3"} {
		if err := q.Put(ctx, v); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

// putObjects is seed 26: Python pickles any object; mp encodes any value
// of its codec (here a list with a nil inside, and strings), and prints
// them the way Python would.
func putObjects(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[any](0)
	if err != nil {
		return err
	}
	defer q.Close()
	p, err := start(putObjectsFn, q, w)
	if err != nil {
		return err
	}
	for range 3 {
		v, err := q.Get(ctx)
		if err != nil {
			return err
		}
		if s, ok := v.(string); ok {
			fmt.Fprintln(w, s)
		} else {
			fmt.Fprintln(w, repr(v))
		}
	}
	return p.Wait(ctx)
}

var answerAaa = mp.Register("examples.queue.answerAaa", func(ctx context.Context, q *mp.Queue[any]) (struct{}, error) {
	v, err := q.Get(ctx)
	if err != nil {
		return struct{}{}, err
	}
	fmt.Println(v)
	return struct{}{}, q.Put(ctx, "aaa")
})

// bidirectional is seed 27: racy by design, as in Python: the parent
// gives the child half a second to take the 1 before it gets from the same
// queue (starting a child takes a few milliseconds).
func bidirectional(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[any](0)
	if err != nil {
		return err
	}
	defer q.Close()
	p, err := start(answerAaa, q, w)
	if err != nil {
		return err
	}
	if err := q.Put(ctx, 1); err != nil {
		return err
	}
	examples.Sleep(ctx, 500*time.Millisecond)
	if err := printGet(ctx, w, q); err != nil {
		return err
	}
	return p.Wait(ctx)
}
