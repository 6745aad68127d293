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
	examples.Add(examples.Example{Seed: 28, Topic: "queue", Name: "queue-batch-put-get", Title: "ten putters and ten getters share a Queue(3)", Run: batchPutGet})
	examples.Add(examples.Example{Seed: 29, Topic: "queue", Name: "queue-write-read-terminate", Title: "a writer and an endless reader, terminated after the writer ends", Run: writeReadTerminate})
}

var (
	inpQue = mp.Register("examples.queue.inpQue", func(ctx context.Context, q *mp.Queue[string]) (struct{}, error) {
		info := fmt.Sprintf("%d(put):%s", os.Getpid(), time.Now().Format("Mon Jan _2 15:04:05 2006"))
		if err := q.Put(ctx, info); err != nil {
			return struct{}{}, err
		}
		fmt.Println(info)
		return struct{}{}, nil
	})
	getQue = mp.Register("examples.queue.getQue", func(ctx context.Context, q *mp.Queue[string]) (struct{}, error) {
		info, err := q.Get(ctx)
		if err != nil {
			return struct{}{}, err
		}
		fmt.Printf("\033[32m%d(get):%s\033[0m\n", os.Getpid(), info)
		return struct{}{}, nil
	})
)

// batchPutGet is seed 28: a bounded queue blocks putters while it holds
// three items; every message put is got exactly once.
func batchPutGet(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[string](3)
	if err != nil {
		return err
	}
	defer q.Close()
	var procs []*mp.Process
	for _, fn := range []mp.Func[*mp.Queue[string], struct{}]{inpQue, getQue} {
		for range 10 {
			p, err := start(fn, q, w)
			if err != nil {
				return err
			}
			procs = append(procs, p)
		}
	}
	return examples.WaitAll(ctx, procs...)
}

var (
	writeABC = mp.Register("examples.queue.writeABC", func(ctx context.Context, q *mp.Queue[string]) (struct{}, error) {
		fmt.Printf("Process to write: %d\n", os.Getpid())
		for _, v := range []string{"A", "B", "C"} {
			fmt.Printf("Put %s to queue...\n", v)
			if err := q.Put(ctx, v); err != nil {
				return struct{}{}, err
			}
			randomPause(ctx)
		}
		return struct{}{}, nil
	})
	readForever = mp.Register("examples.queue.readForever", func(ctx context.Context, q *mp.Queue[string]) (struct{}, error) {
		fmt.Printf("Process to read %d\n", os.Getpid())
		for {
			v, err := q.Get(ctx)
			if err != nil {
				return struct{}{}, err
			}
			if v == "" {
				continue // the parent's probe: see writeReadTerminate
			}
			fmt.Printf("Get %s from queue.\n", v)
		}
	})
)

// writeReadTerminate is seed 29. As in Python, the reader never ends on its
// own: the parent waits for the writer, then terminates the reader. Before
// that it makes sure the reader has printed every value, which the seed
// left to luck: it puts a probe (an empty string, which the reader passes
// over) and waits until the queue is empty again. The reader takes the
// probe only after it has printed the value before it.
func writeReadTerminate(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[string](0)
	if err != nil {
		return err
	}
	defer q.Close()
	pw, err := start(writeABC, q, w)
	if err != nil {
		return err
	}
	pr, err := start(readForever, q, w)
	if err != nil {
		return err
	}
	defer func() { pr.Terminate(); <-pr.Done() }()
	if err := pw.Wait(ctx); err != nil {
		return err
	}
	if err := q.Put(ctx, ""); err != nil {
		return err
	}
	for !q.Empty() && ctx.Err() == nil {
		examples.Sleep(ctx, 10*time.Millisecond)
	}
	return ctx.Err()
}
