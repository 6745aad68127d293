package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

var (
	double = mp.Register("cluster_test.double", func(_ context.Context, x int) (int, error) { return 2 * x, nil })
	// failOdd fails odd numbers with an error that wraps fs.ErrNotExist.
	failOdd = mp.Register("cluster_test.failOdd", func(_ context.Context, x int) (int, error) {
		if x%2 == 1 {
			return 0, fmt.Errorf("odd %d: %w", x, fs.ErrNotExist)
		}
		return x, nil
	})
	// handles takes a File, which cannot go to another machine.
	handles = mp.Register("cluster_test.handles", func(_ context.Context, f mp.File) (int, error) {
		f.Close()
		return 0, nil
	})
)

// workerArg is what a test's worker process is started with.
type workerArg struct {
	URL       string
	Pool      string
	Processes int
	Name      string
}

// testWorker is a worker machine: a process that connects with the worker
// identity and works until it is killed or its parent dies.
var testWorker = mp.Register("cluster_test.worker", func(ctx context.Context, a workerArg) (struct{}, error) {
	c, err := cluster.Connect(ctx, a.URL, &cluster.ConnectOptions{Worker: true})
	if err != nil {
		return struct{}{}, err
	}
	defer c.Close()
	return struct{}{}, cluster.Work(ctx, c, &cluster.WorkerOptions{Pool: a.Pool, Name: a.Name, Local: mp.PoolOptions{Processes: a.Processes}})
})

// startWorker starts a worker process for pool, killed at the end of the
// test.
func startWorker(t *testing.T, c *cluster.Cluster, pool, name string, processes int) *mp.Process {
	t.Helper()
	p := mp.Command(testWorker, workerArg{URL: c.URL(), Pool: pool, Processes: processes, Name: name})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Kill()
		_ = p.Wait(context.Background())
	})
	return p
}

// newPool makes a pool on c, terminated at the end of the test.
func newPool(t *testing.T, c *cluster.Cluster, o *cluster.PoolOptions) *cluster.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := cluster.NewPool(ctx, c, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Terminate()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Wait(ctx); err != nil {
			t.Errorf("Wait: %v", err)
		}
	})
	return p
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPoolRunsTasks(t *testing.T) {
	c := start(t, nil)
	p := newPool(t, c, &cluster.PoolOptions{Name: "runs", AckWait: time.Second})
	startWorker(t, c, "runs", "w1", 2)
	ctx := testCtx(t)

	// The worker announces its two processes.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for p.Parallelism() != 2 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("Parallelism = %d, want 2", p.Parallelism())
		}
	}
	if s := p.Stats(); s.Workers != 1 || s.Processes != 2 {
		t.Errorf("Stats = %+v; want 1 worker with 2 processes", s)
	}

	if got, err := mp.Apply(ctx, p, double, 21); err != nil || got != 42 {
		t.Fatalf("Apply = %d, %v; want 42", got, err)
	}
	f := mp.Submit(ctx, p, double, 5)
	if got, err := f.Get(ctx); err != nil || got != 10 {
		t.Fatalf("Submit = %d, %v; want 10", got, err)
	}
	in := make([]int, 100)
	want := make([]int, 100)
	for i := range in {
		in[i], want[i] = i, 2*i
	}
	for _, chunk := range []int{0, 1, 7} {
		got, err := mp.Map(ctx, p, double, in, chunk)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("Map chunk %d = %v, %v", chunk, got, err)
		}
		got, err = mp.MapAsync(ctx, p, double, in, chunk).Get(ctx)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("MapAsync chunk %d = %v, %v", chunk, got, err)
		}
	}
	var ordered []int
	for i, o := range mp.Imap(ctx, p, double, slices.Values(in), mp.ImapOptions{}) {
		if o.Err != nil || o.Value != 2*i {
			t.Fatalf("Imap item %d = %v, %v", i, o.Value, o.Err)
		}
		ordered = append(ordered, o.Value)
	}
	if !slices.Equal(ordered, want) {
		t.Fatalf("Imap = %v", ordered)
	}
	seen := map[int]bool{}
	for i, o := range mp.ImapUnordered(ctx, p, double, slices.Values(in), mp.ImapOptions{Chunk: 3}) {
		if o.Err != nil || o.Value != 2*i || seen[i] {
			t.Fatalf("ImapUnordered item %d = %v, %v (seen %v)", i, o.Value, o.Err, seen[i])
		}
		seen[i] = true
	}
	if len(seen) != len(in) {
		t.Fatalf("ImapUnordered gave %d items, want %d", len(seen), len(in))
	}
}

func TestPoolErrors(t *testing.T) {
	c := start(t, nil)
	p := newPool(t, c, &cluster.PoolOptions{Name: "errors", AckWait: time.Second})
	startWorker(t, c, "errors", "w1", 2)
	ctx := testCtx(t)

	_, err := mp.Apply(ctx, p, failOdd, 3)
	var re *mp.RemoteError
	if !errors.As(err, &re) || !errors.Is(err, fs.ErrNotExist) || re.Func != "cluster_test.failOdd" {
		t.Fatalf("Apply(failOdd, 3) = %v; want a RemoteError matching fs.ErrNotExist", err)
	}
	outs := mp.MapEach(ctx, p, failOdd, []int{0, 1, 2, 3}, 2)
	for i, o := range outs {
		if (i%2 == 1) != errors.Is(o.Err, fs.ErrNotExist) || (o.Err == nil && o.Value != i) {
			t.Errorf("MapEach item %d = %v, %v", i, o.Value, o.Err)
		}
	}
	if _, err := mp.Map(ctx, p, failOdd, []int{0, 2, 5}, 1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Map = %v; want fs.ErrNotExist", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := mp.Apply(ctx, p, handles, mp.File{File: w}); !errors.Is(err, mp.ErrHandles) {
		t.Errorf("Apply with a File = %v; want ErrHandles", err)
	}
}
