package cluster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// holdArg tells hold what to do.
type holdArg struct {
	X int
	// Report, if set, is a FIFO to which the task writes the pid of its
	// worker machine before it blocks.
	Report string
	// Once, if set, is a file: the task blocks only if it does not exist
	// yet, and creates it.
	Once string
	// UntilCancelled makes the task return when its context ends, instead
	// of blocking for ever.
	UntilCancelled bool
	// Gate, if set, is a FIFO: after reporting, the task waits for a line
	// from it, then returns 2*X.
	Gate string
}

var (
	// hold returns 2*X, or blocks as a says.
	hold = mp.Register("cluster_test.hold", func(ctx context.Context, a holdArg) (int, error) {
		if a.Report == "" {
			return 2 * a.X, nil
		}
		if a.Once != "" {
			if _, err := os.Stat(a.Once); err == nil {
				return 2 * a.X, nil
			}
			if err := os.WriteFile(a.Once, nil, 0o600); err != nil {
				return 0, err
			}
		}
		f, err := os.OpenFile(a.Report, os.O_WRONLY, 0)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(f, "%d\n", os.Getppid())
		f.Close()
		if a.Gate != "" {
			g, err := os.Open(a.Gate)
			if err != nil {
				return 0, err
			}
			defer g.Close()
			_, err = bufio.NewReader(g).ReadString('\n')
			return 2 * a.X, err
		}
		if a.UntilCancelled {
			<-ctx.Done()
			return 0, ctx.Err()
		}
		select {}
	})
	// crash exits with code 3, unless the file once exists (then it
	// returns 1), creating it.
	crash = mp.Register("cluster_test.crash", func(_ context.Context, once string) (int, error) {
		if once != "" {
			if _, err := os.Stat(once); err == nil {
				return 1, nil
			}
			if err := os.WriteFile(once, nil, 0o600); err != nil {
				return 0, err
			}
		}
		os.Exit(3)
		return 0, nil
	})
	// sleepForever ignores its context.
	sleepForever = mp.Register("cluster_test.sleepForever", func(context.Context, int) (int, error) { select {} })
)

// reporter is a FIFO through which held tasks say which worker machine
// runs them.
type reporter struct {
	path string
	pids chan int
}

func newReporter(t *testing.T) *reporter {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// Opened to read and write, a FIFO does not wait for a writer, and
	// reads wait for lines until it is closed: the tasks' lines queue in
	// it, and closing it ends the reader wherever it is.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := &reporter{path: path, pids: make(chan int)}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		rd := bufio.NewReader(f)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			pid, err := strconv.Atoi(line[:len(line)-1])
			if err != nil {
				continue
			}
			select {
			case r.pids <- pid:
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		f.Close()
		<-done
	})
	return r
}

// next waits for a held task to report its worker machine.
func (r *reporter) next(t *testing.T, ctx context.Context) int {
	t.Helper()
	select {
	case pid := <-r.pids:
		return pid
	case <-ctx.Done():
		t.Fatal("no task reported")
		return 0
	}
}

// kill kills the worker among ws whose pid is pid.
func kill(t *testing.T, ws []*mp.Process, pid int) {
	t.Helper()
	for _, w := range ws {
		if w.Pid() == pid {
			if err := w.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = w.Wait(context.Background())
			return
		}
	}
	t.Fatalf("no worker has pid %d", pid)
}

// waitDrained waits until pool's stream holds no task and no delivered
// task waits for its acknowledgement, and returns how many deliveries the
// workers' consumer made.
func waitDrained(t *testing.T, ctx context.Context, c *cluster.Cluster, pool string) uint64 {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s, err := c.JetStream().Stream(ctx, cluster.TaskStream(pool))
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.CachedInfo(), error(nil)
		cons, err := s.Consumer(ctx, "mp-workers")
		if err != nil {
			t.Fatal(err)
		}
		ci := cons.CachedInfo()
		// The stream keeps one message of its own (see keep in pool_keep.go).
		if info.State.Msgs <= 1 && ci.NumAckPending == 0 && ci.NumPending == 0 {
			return ci.Delivered.Consumer
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("stream of %s not drained: %d messages, %d delivered and not acknowledged", pool, info.State.Msgs, ci.NumAckPending)
		}
	}
}

func TestPoolWorkerMachineDies(t *testing.T) {
	c := start(t, nil)
	p := newPool(t, c, &cluster.PoolOptions{Name: "dies", AckWait: 500 * time.Millisecond})
	ws := []*mp.Process{startWorker(t, c, "dies", "a", 2), startWorker(t, c, "dies", "b", 2)}
	rep := newReporter(t)
	ctx := testCtx(t)

	in := make([]holdArg, 20)
	want := make([]int, len(in))
	for i := range in {
		in[i], want[i] = holdArg{X: i}, 2*i
	}
	in[7] = holdArg{X: 7, Report: rep.path, Once: filepath.Join(t.TempDir(), "once")}
	f := mp.MapAsync(ctx, p, hold, in, 1)
	kill(t, ws, rep.next(t, ctx))
	got, err := f.Get(ctx)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Map = %v, %v; want %v", got, err, want)
	}
	if s := p.Stats(); s.Done != int64(len(in)) || s.Pending != 0 || s.Failed != 0 {
		t.Errorf("Stats = %+v; want %d done, none pending or failed", s, len(in))
	}
}

func TestPoolDeliveriesSpent(t *testing.T) { testDeliveriesSpent(t, nil) }
func testDeliveriesSpent(t *testing.T, c0 *cluster.Cluster) {
	for _, missAdvisory := range []bool{false, true} {
		t.Run(fmt.Sprintf("missAdvisory=%v", missAdvisory), func(t *testing.T) {
			c := c0
			if c == nil {
				c = start(t, nil)
			}
			p := newPool(t, c, &cluster.PoolOptions{Name: "spent", AckWait: 300 * time.Millisecond, Deliveries: 2})
			if missAdvisory {
				p.DropAdvisories()
			}
			// Two workers die holding the task; the engine gives up on it
			// when it would deliver it a third time, to the third.
			ws := []*mp.Process{startWorker(t, c, "spent", "a", 1), startWorker(t, c, "spent", "b", 1), startWorker(t, c, "spent", "c", 1)}
			rep := newReporter(t)
			ctx := testCtx(t)

			f := mp.Submit(ctx, p, hold, holdArg{Report: rep.path})
			first := rep.next(t, ctx)
			kill(t, ws, first)
			if second := rep.next(t, ctx); second == first {
				t.Fatalf("delivered twice to worker %d", first)
			} else {
				kill(t, ws, second)
			}
			_, err := f.Get(ctx)
			var de *cluster.DeliveryError
			if !errors.Is(err, mp.ErrWorkerDied) || !errors.As(err, &de) || de.Deliveries != 2 {
				t.Fatalf("Get = %v; want a DeliveryError of 2 deliveries", err)
			}
			if n := waitDrained(t, ctx, c, "spent"); n != 2 {
				t.Errorf("%d deliveries, want 2", n)
			}
		})
	}
}

func TestPoolTaskDeadline(t *testing.T) {
	c := start(t, nil)
	p := newPool(t, c, &cluster.PoolOptions{Name: "deadline", AckWait: 300 * time.Millisecond})
	startWorker(t, c, "deadline", "a", 1)
	ctx := testCtx(t)

	tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err := mp.Apply(tctx, p, sleepForever, 1)
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply = %v; want ErrTimeout and DeadlineExceeded", err)
	}
	// The worker's local pool kills the task at its deadline and
	// acknowledges it: one delivery, none again.
	if n := waitDrained(t, ctx, c, "deadline"); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	if got, err := mp.Apply(ctx, p, double, 4); err != nil || got != 8 {
		t.Errorf("Apply after a deadline = %d, %v", got, err)
	}
}

func TestPoolTaskProcessCrashes(t *testing.T) {
	c := start(t, nil)
	ctx := testCtx(t)
	t.Run("no retry", func(t *testing.T) {
		p := newPool(t, c, &cluster.PoolOptions{Name: "crash", AckWait: 300 * time.Millisecond})
		startWorker(t, c, "crash", "a", 1)
		_, err := mp.Apply(ctx, p, crash, "")
		var died *mp.WorkerDiedError
		if !errors.Is(err, mp.ErrWorkerDied) || !errors.As(err, &died) || died.Exit == nil || died.Exit.Code != 3 {
			t.Fatalf("Apply = %v; want a WorkerDiedError with code 3", err)
		}
		if n := waitDrained(t, ctx, c, "crash"); n != 1 {
			t.Errorf("%d deliveries, want 1", n)
		}
	})
	t.Run("one retry", func(t *testing.T) {
		p := newPool(t, c, &cluster.PoolOptions{Name: "retry", AckWait: 300 * time.Millisecond, Retries: 1})
		startWorker(t, c, "retry", "a", 1)
		got, err := mp.Apply(ctx, p, crash, filepath.Join(t.TempDir(), "once"))
		if err != nil || got != 1 {
			t.Fatalf("Apply = %d, %v; want 1 after a retry", got, err)
		}
		if s := p.Stats(); s.Retried != 1 {
			t.Errorf("Stats = %+v; want 1 retried", s)
		}
	})
}

func TestPoolCancel(t *testing.T) {
	c := start(t, nil)
	p := newPool(t, c, &cluster.PoolOptions{Name: "cancel", AckWait: 300 * time.Millisecond})
	startWorker(t, c, "cancel", "a", 1)
	rep := newReporter(t)
	ctx := testCtx(t)

	tctx, cancel := context.WithCancel(ctx)
	f := mp.Submit(tctx, p, hold, holdArg{Report: rep.path, UntilCancelled: true})
	rep.next(t, ctx)
	cancel()
	if _, err := f.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v; want Canceled", err)
	}
	// The task waits for its context: only the worker's cancellation ends
	// it, and then the worker acknowledges it.
	if n := waitDrained(t, ctx, c, "cancel"); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}

func TestPoolTerminate(t *testing.T) {
	c := start(t, nil)
	ctx := testCtx(t)
	p, err := cluster.NewPool(ctx, c, &cluster.PoolOptions{Name: "terminate", AckWait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, c, "terminate", "a", 1)
	rep := newReporter(t)

	var fs []*mp.Future[int]
	for range 5 {
		fs = append(fs, mp.Submit(ctx, p, hold, holdArg{Report: rep.path, UntilCancelled: true}))
	}
	rep.next(t, ctx) // one runs; one waits on the worker, three in the stream
	if err := p.Terminate(); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		if _, err := f.Get(ctx); !errors.Is(err, mp.ErrPoolClosed) {
			t.Errorf("task %d: %v; want ErrPoolClosed", i, err)
		}
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	waitDrained(t, ctx, c, "terminate")
	if _, err := mp.Apply(ctx, p, double, 1); !errors.Is(err, mp.ErrPoolClosed) {
		t.Errorf("Apply after Terminate = %v; want ErrPoolClosed", err)
	}
}

func TestPoolCloseWaits(t *testing.T) {
	c := start(t, nil)
	ctx := testCtx(t)
	p, err := cluster.NewPool(ctx, c, &cluster.PoolOptions{Name: "close"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); !errors.Is(err, mp.ErrPoolRunning) {
		t.Fatalf("Wait on an open pool = %v; want ErrPoolRunning", err)
	}
	var order []int
	fs := make([]*mp.Future[int], 10)
	for i := range fs {
		fs[i] = mp.Submit(ctx, p, double, i, mp.Callback[int]{Result: func(int) { order = append(order, i) }})
	}
	startWorker(t, c, "close", "a", 2)
	p.Close()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		if got, err := f.Get(ctx); err != nil || got != 2*i {
			t.Errorf("task %d = %d, %v", i, got, err)
		}
	}
	if len(order) != len(fs) {
		t.Errorf("%d callbacks ran, want %d", len(order), len(fs))
	}
}

// TestWorkerHandsBack stops a worker that runs a task, with no time to
// drain: it hands the task back, and another worker runs it.
func TestWorkerHandsBack(t *testing.T) {
	c := start(t, nil)
	p := newPool(t, c, &cluster.PoolOptions{Name: "handback", AckWait: 10 * time.Second})
	rep := newReporter(t)
	ctx := testCtx(t)

	// The first worker works in this process, with a local pool of one
	// process, until its context ends.
	wc, err := cluster.Connect(ctx, c.URL(), &cluster.ConnectOptions{Worker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- cluster.Work(wctx, wc, &cluster.WorkerOptions{Pool: "handback", Local: mp.PoolOptions{Processes: 1}})
	}()

	f := mp.Submit(ctx, p, hold, holdArg{X: 4, Report: rep.path, Once: filepath.Join(t.TempDir(), "once")})
	if pid := rep.next(t, ctx); pid != os.Getpid() {
		t.Fatalf("task ran under %d, want this process %d", pid, os.Getpid())
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Work = %v", err)
	}
	// Handed back, not left to AckWait (10 s): the next worker runs it.
	startWorker(t, c, "handback", "b", 1)
	if got, err := f.Get(ctx); err != nil || got != 8 {
		t.Fatalf("Get = %d, %v; want 8", got, err)
	}
}

// TestWorkerOutlivesItsConsumer deletes the workers' consumer under a
// running worker: once a submitter makes it again, the worker takes tasks
// from it.
func TestWorkerOutlivesItsConsumer(t *testing.T) {
	c := start(t, nil)
	ctx := testCtx(t)
	p := newPool(t, c, &cluster.PoolOptions{Name: "gone"})
	startWorker(t, c, "gone", "a", 1)
	if got, err := mp.Apply(ctx, p, double, 1); err != nil || got != 2 {
		t.Fatalf("Apply = %d, %v", got, err)
	}
	if err := c.JetStream().DeleteConsumer(ctx, cluster.TaskStream("gone"), "mp-workers"); err != nil {
		t.Fatal(err)
	}
	p2 := newPool(t, c, &cluster.PoolOptions{Name: "gone"})
	if got, err := mp.Apply(ctx, p2, double, 2); err != nil || got != 4 {
		t.Fatalf("Apply after the consumer was made again = %d, %v", got, err)
	}
}
