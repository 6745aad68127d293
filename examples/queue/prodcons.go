package queue

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 30, Topic: "queue", Name: "queue-producer-consumer-sentinel", Title: "producer and consumer; the producer ends with a nil marker", Run: producerConsumerSentinel})
	examples.Add(examples.Example{Seed: 31, Topic: "queue", Name: "queue-producer-consumer-two-each", Title: "two producers, two consumers; the parent sends one nil per consumer", Run: producerConsumerTwoEach})
	examples.Add(examples.Example{Seed: 32, Topic: "queue", Name: "queue-joinable-producer-consumer", Title: "JoinableQueue: TaskDone and Join instead of markers, daemonic consumers", Run: joinableProducerConsumer})
}

// A *string item plays Python's None-terminated stream: nil is the end.
type baoziArgs struct {
	Q      *mp.Queue[*string]
	Marker bool // the producer puts the end marker itself
}

var (
	consumer = mp.Register("examples.queue.consumer", func(ctx context.Context, q *mp.Queue[*string]) (struct{}, error) {
		for {
			baozi, err := q.Get(ctx)
			if err != nil || baozi == nil {
				return struct{}{}, err
			}
			randomPause(ctx)
			fmt.Printf("%s%d consumed %s%s\n", green, os.Getpid(), *baozi, reset)
		}
	})
	producer = mp.Register("examples.queue.producer", func(ctx context.Context, a baoziArgs) (struct{}, error) {
		for i := 1; i <= 10; i++ {
			randomPause(ctx)
			baozi := fmt.Sprintf("baozi%d", i)
			if err := a.Q.Put(ctx, &baozi); err != nil {
				return struct{}{}, err
			}
			fmt.Printf("%s%d produced %s%s\n", red, os.Getpid(), baozi, reset)
		}
		if a.Marker {
			return struct{}{}, a.Q.Put(ctx, nil)
		}
		return struct{}{}, nil
	})
)

// producerConsumerSentinel is seed 30. The seed's parent does not wait (the
// interpreter does, at exit); here the example waits for both.
func producerConsumerSentinel(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[*string](0)
	if err != nil {
		return err
	}
	defer q.Close()
	p, err := start(producer, baoziArgs{Q: q, Marker: true}, w)
	if err != nil {
		return err
	}
	c, err := start(consumer, q, w)
	if err != nil {
		return err
	}
	return examples.WaitAll(ctx, p, c)
}

// producerConsumerTwoEach is seed 31: the end markers come from the parent,
// once both producers are done, one per consumer.
func producerConsumerTwoEach(ctx context.Context, w io.Writer) error {
	q, err := mp.NewQueue[*string](0)
	if err != nil {
		return err
	}
	defer q.Close()
	var producers, consumers []*mp.Process
	for range 2 {
		p, err := start(producer, baoziArgs{Q: q}, w)
		if err != nil {
			return err
		}
		producers = append(producers, p)
	}
	for range 2 {
		c, err := start(consumer, q, w)
		if err != nil {
			return err
		}
		consumers = append(consumers, c)
	}
	if err := examples.WaitAll(ctx, producers...); err != nil {
		return err
	}
	for range consumers {
		if err := q.Put(ctx, nil); err != nil {
			return err
		}
	}
	return examples.WaitAll(ctx, consumers...)
}

type joinArgs struct {
	Name, Food string
	Q          *mp.JoinableQueue[string]
}

var (
	joinProducer = mp.Register("examples.queue.joinProducer", func(ctx context.Context, a joinArgs) (struct{}, error) {
		for i := 1; i <= 10; i++ {
			randomPause(ctx)
			fmt.Printf("%s%s produced %s%d%s\n", red, a.Name, a.Food, i, reset)
			if err := a.Q.Put(ctx, fmt.Sprintf("%s%s%d", a.Name, a.Food, i)); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, a.Q.Join(ctx)
	})
	joinConsumer = mp.Register("examples.queue.joinConsumer", func(ctx context.Context, a joinArgs) (struct{}, error) {
		for {
			info, err := a.Q.Get(ctx)
			if err != nil {
				return struct{}{}, err
			}
			randomPause(ctx)
			fmt.Printf("%s%s consumed %s%s\n", green, a.Name, info, reset)
			if err := a.Q.TaskDone(); err != nil {
				return struct{}{}, err
			}
		}
	})
)

// joinableProducerConsumer is seed 32. Each producer waits in Join until
// every item put (by both) has been marked done; the consumers are daemons
// that never end on their own. Python kills daemons when the main code
// ends; mp's children die with their parent process, which here (a tour
// running many examples) lives on, so the example stops them itself once
// the producers are done.
func joinableProducerConsumer(ctx context.Context, w io.Writer) error {
	q, err := mp.NewJoinableQueue[string](0)
	if err != nil {
		return err
	}
	defer q.Close()
	var producers []*mp.Process
	for _, a := range []joinArgs{{"alex", "jiaozi", q}, {"egon", "bread", q}} {
		p, err := start(joinProducer, a, w)
		if err != nil {
			return err
		}
		producers = append(producers, p)
	}
	var consumers []*mp.Process
	for _, name := range []string{"aoa", "kuraki"} {
		c := mp.Command(joinConsumer, joinArgs{Name: name, Q: q})
		c.Stdout, c.Daemon = w, true
		if err := c.Start(); err != nil {
			return err
		}
		consumers = append(consumers, c)
	}
	err = examples.WaitAll(ctx, producers...)
	for _, c := range consumers {
		c.Kill()
		<-c.Done()
	}
	return err
}
