package cluster_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// square is registered at package level, so that every run of the
// program — the submitter, the workers, their processes — knows it.
var square = mp.Register("example.square", func(_ context.Context, x int) (int, error) { return x * x, nil })

// exampleWorker stands for a worker machine. In production it is this
// program started on another host with cluster.EnvJoin set (cluster.Main
// then works until SIGTERM), or any program that calls cluster.Work.
var exampleWorker = mp.Register("example.worker", func(ctx context.Context, url string) (struct{}, error) {
	c, err := cluster.Connect(ctx, url, &cluster.ConnectOptions{Worker: true})
	if err != nil {
		return struct{}{}, err
	}
	defer c.Close()
	return struct{}{}, cluster.Work(ctx, c, &cluster.WorkerOptions{Pool: "squares", Local: mp.PoolOptions{Processes: 2}})
})

func ExampleNewPool() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := cluster.Start(ctx, &cluster.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	p, err := cluster.NewPool(ctx, c, &cluster.PoolOptions{Name: "squares"})
	if err != nil {
		log.Fatal(err)
	}
	w := mp.Command(exampleWorker, c.URL())
	if err := w.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		_ = w.Kill()
		_ = w.Wait(ctx)
	}()

	squares, err := mp.Map(ctx, p, square, []int{1, 2, 3, 4, 5}, 0)
	fmt.Println(squares, err)
	nine, err := mp.Apply(ctx, p, square, 3)
	fmt.Println(nine, err)

	p.Close()
	if err := p.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// [1 4 9 16 25] <nil>
	// 9 <nil>
}
