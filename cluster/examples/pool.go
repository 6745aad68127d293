package examples

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
	mpexamples "github.com/mpgo/mp/examples"
)

func init() {
	mpexamples.Add(mpexamples.Example{Topic: "cluster", Name: "cluster-pool",
		Title: "mp.Map on a cluster Pool whose workers are runs of this binary; a worker killed mid-task, the task runs on the other", Run: clusterPool})
}

// square squares a number, in a process of a worker's local pool.
var square = mp.Register("cluster.examples.square", func(_ context.Context, x int) (int, error) { return x * x, nil })

// slowSquare says on which worker it started, takes half a second, and
// squares its number. A worker's local pool process is a child of the
// worker, so its parent's pid names the worker.
var slowSquare = mp.Register("cluster.examples.slowSquare", func(ctx context.Context, x int) (int, error) {
	fmt.Printf("task %d started on worker %d\n", x, os.Getppid())
	if err := mpexamples.Sleep(ctx, 500*time.Millisecond); err != nil {
		return 0, err
	}
	return x * x, nil
})

// clusterPool runs tasks on two workers that are this program started
// again with cluster.EnvJoin set, as they would be on other machines: Map
// over ten numbers, then a slow task whose worker is killed while it runs.
func clusterPool(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "mp-tour-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keyFile, err := writeKey(dir)
	if err != nil {
		return err
	}
	key, err := cluster.ReadKey(keyFile)
	if err != nil {
		return err
	}
	c, err := cluster.Start(ctx, &cluster.Options{Dir: filepath.Join(dir, "store"), Key: key})
	if err != nil {
		return err
	}
	defer c.Close()
	const ackWait = time.Second
	p, err := cluster.NewPool(ctx, c, &cluster.PoolOptions{Name: "tour", AckWait: ackWait})
	if err != nil {
		return err
	}
	defer p.Terminate()
	out := &lines{w: w, started: make(chan startedOn, 4)}
	var workers []*exec.Cmd
	defer func() { stopWorkers(workers) }()
	for range 2 {
		cmd, err := startWorker(c.URL(), keyFile, out)
		if err != nil {
			return err
		}
		workers = append(workers, cmd)
		fmt.Fprintf(w, "worker %d started: %s with %s=%s\n", cmd.Process.Pid, filepath.Base(os.Args[0]), cluster.EnvJoin, c.URL())
	}

	squares, err := mp.Map(ctx, p, square, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "squares:", squares)

	f := mp.Submit(ctx, p, slowSquare, 7)
	first, err := out.next(ctx)
	if err != nil {
		return err
	}
	killed := workerByPid(workers, first.worker)
	if killed == nil {
		return fmt.Errorf("task started on %d, not a worker of this example", first.worker)
	}
	fmt.Fprintf(w, "killing worker %d (SIGKILL) while it runs task %d\n", first.worker, first.task)
	if err := killed.Process.Kill(); err != nil {
		return err
	}
	v, err := f.Get(ctx)
	if err != nil {
		return err
	}
	again, err := out.next(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "result of task 7: %d — delivered again after the ack wait of %v, it ran on worker %d\n", v, ackWait, again.worker)
	p.Close()
	if err := p.Wait(ctx); err != nil {
		return err
	}
	mpexamples.Note(w, "Python's task worker loses the task it holds when it dies; a cluster Pool's worker confirms its tasks every quarter of the ack wait, and the engine gives a silent worker's tasks to another (up to PoolOptions.Deliveries times)")
	return nil
}

// writeKey writes a random key into a file of dir, as an operator would
// for workers on other machines.
func writeKey(dir string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "key")
	return path, os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}

// startWorker starts this program as a worker of the pool "tour", with two
// local processes, its output going to out.
func startWorker(url, keyFile string, out *lines) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), cluster.EnvJoin+"="+url, cluster.EnvKeyFile+"="+keyFile,
		cluster.EnvPool+"=tour", cluster.EnvProcesses+"=2")
	cmd.Stderr = out.w
	r, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go out.copy(r)
	return cmd, nil
}

// stopWorkers stops the workers still running with SIGTERM (a worker
// then finishes what it holds and exits) and waits for them.
func stopWorkers(workers []*exec.Cmd) {
	for _, cmd := range workers {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, cmd := range workers {
		_ = cmd.Wait()
	}
}

func workerByPid(workers []*exec.Cmd, pid int) *exec.Cmd {
	for _, cmd := range workers {
		if cmd.Process.Pid == pid {
			return cmd
		}
	}
	return nil
}

// startedOn is a task's report that it started on a worker.
type startedOn struct{ task, worker int }

// lines copies the workers' output to w, line by line, and passes on the
// reports of tasks that started.
type lines struct {
	mu      sync.Mutex
	w       io.Writer
	started chan startedOn
}

func (l *lines) copy(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		l.mu.Lock()
		fmt.Fprintln(l.w, line)
		l.mu.Unlock()
		if s, ok := parseStarted(line); ok {
			select {
			case l.started <- s:
			default: // more reports than the example waits for
			}
		}
	}
}

// next waits for the next report of a task that started.
func (l *lines) next(ctx context.Context) (startedOn, error) {
	select {
	case s := <-l.started:
		return s, nil
	case <-ctx.Done():
		return startedOn{}, fmt.Errorf("no task started: %w", ctx.Err())
	}
}

// parseStarted reads "task N started on worker P".
func parseStarted(line string) (startedOn, bool) {
	rest, ok := strings.CutPrefix(line, "task ")
	if !ok {
		return startedOn{}, false
	}
	n, pid, ok := strings.Cut(rest, " started on worker ")
	if !ok {
		return startedOn{}, false
	}
	task, err1 := strconv.Atoi(n)
	worker, err2 := strconv.Atoi(pid)
	if err := errors.Join(err1, err2); err != nil {
		return startedOn{}, false
	}
	return startedOn{task, worker}, true
}
