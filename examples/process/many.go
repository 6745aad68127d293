package process

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 4, Topic: "process", Name: "process-ten-hello", Title: "ten concurrent processes; wait for the last", Run: tenHello})
	examples.Add(examples.Example{Seed: 8, Topic: "process", Name: "process-output-race", Title: "processes interleave on stdout, line by line", Run: outputRace})
	examples.Add(examples.Example{Seed: 9, Topic: "process", Name: "process-join-serial", Title: "start then wait in a loop runs them in order", Run: joinSerial})
}

var hello = mp.Register("examples.process.hello", func(_ context.Context, n int) (struct{}, error) {
	fmt.Println("hello", n)
	return struct{}{}, nil
})

// tenHello is seed 04. Python waits for every non-daemonic child when the
// program ends; Go has no such hook (and mp's children die with their
// parent), so after waiting for the last one, as the seed does, the rest are
// waited for too.
func tenHello(ctx context.Context, w io.Writer) error {
	procs, err := examples.StartN(10, w, hello, identity)
	if err != nil {
		return err
	}
	if err := procs[9].Wait(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, "exit project")
	return examples.WaitAll(ctx, procs...)
}

// work prints when it starts and ends, with a random pause between (up to
// 300 ms here; the seed's was up to a second).
var work = mp.Register("examples.process.work", func(ctx context.Context, n int) (struct{}, error) {
	fmt.Printf("%d: %d is running\n", n, os.Getpid())
	examples.Sleep(ctx, time.Duration(rand.Int64N(int64(300*time.Millisecond))))
	fmt.Printf("%d:%d is done\n", n, os.Getpid())
	return struct{}{}, nil
})

// outputRace is seed 08: three processes' lines interleave (whole lines:
// mp passes each child's output on line by line).
func outputRace(ctx context.Context, w io.Writer) error {
	procs, err := examples.StartN(3, w, work, identity)
	if err != nil {
		return err
	}
	return examples.WaitAll(ctx, procs...)
}

// joinSerial is seed 09: waiting right after starting serializes them, in
// order.
func joinSerial(ctx context.Context, w io.Writer) error {
	for i := range 5 {
		p := mp.Command(work, i)
		p.Stdout = w
		if err := p.Run(ctx); err != nil {
			return err
		}
	}
	return nil
}

func identity(i int) int { return i }
