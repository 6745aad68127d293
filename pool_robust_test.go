package mp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// hang is what a robustness task does once it has told the test its pid.
type hang struct {
	Conn *mp.Conn // the task sends its pid (and its grandchild's) here
	How  string   // "sleep" (ignores its context), "exit", "crash", "kill", "wait" (honours its context)
	Kid  bool     // start a grandchild first, in the worker's process group
}

var (
	hangTask = mp.Register("test.pool.hang", func(ctx context.Context, h hang) (int, error) {
		defer h.Conn.Close()
		kid := 0
		if h.Kid {
			cmd := exec.Command("sleep", "1000")
			if err := cmd.Start(); err != nil {
				return 0, err
			}
			kid = cmd.Process.Pid
		}
		if err := h.Conn.Send(ctx, [2]int{os.Getpid(), kid}); err != nil {
			return 0, err
		}
		switch h.How {
		case "exit":
			os.Exit(3)
		case "crash":
			go func() { panic("a crash in a goroutine the task started") }()
		case "kill":
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		case "wait":
			<-ctx.Done()
			return 0, ctx.Err()
		}
		time.Sleep(time.Hour)
		return 0, nil
	})
	appendLine = mp.Register("test.pool.appendLine", func(_ context.Context, a lineArg) (int, error) {
		f, err := os.OpenFile(a.Path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		_, err = fmt.Fprintf(f, "%d\n", a.N)
		return os.Getpid(), err
	})
	poolParent = mp.Register("test.pool.parent", func(ctx context.Context, n int) (struct{}, error) {
		p, err := mp.NewPool(mp.PoolOptions{Processes: n})
		if err != nil {
			return struct{}{}, err
		}
		pids := map[int]bool{}
		for len(pids) < n {
			fs := make([]*mp.Future[int], 4*n)
			for i := range fs {
				fs[i] = mp.Submit(ctx, p, poolSleep, 50*time.Millisecond)
			}
			for _, f := range fs {
				v, err := f.Get(ctx)
				if err != nil {
					return struct{}{}, err
				}
				pids[v] = true
			}
		}
		for pid := range pids {
			fmt.Println("worker", pid)
		}
		fmt.Println("done")
		time.Sleep(time.Hour)
		return struct{}{}, nil
	})
)

// syncWriter makes a writer safe for the pool's concurrent output copies.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// String returns what was written, when w is a *bytes.Buffer.
func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.w)
}

type lineArg struct {
	Path string
	N    int
}

// startHang submits a hang task and returns its future and the pids it
// reports once running.
func startHang(t *testing.T, ctx context.Context, p *mp.Pool, how string, kid bool) (*mp.Future[int], int, int) {
	t.Helper()
	r, w, err := mp.Pipe(false) // created after the pool started: it travels as a handle
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := mp.Submit(ctx, p, hangTask, hang{Conn: w, How: how, Kid: kid})
	w.Close()
	var pids [2]int
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Recv(rctx, &pids); err != nil {
		v, ferr := f.Get(rctx)
		t.Fatalf("the task never reported its pid: %v (task: %v, %v)", err, v, ferr)
	}
	return f, pids[0], pids[1]
}

// waitRunning waits until n of p's workers run a task.
func waitRunning(t *testing.T, p *mp.Pool, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d workers run a task", n), func() bool { return mp.PoolRunning(p) >= n })
}

// waitGone waits for pid to exit, failing the test after limit.
func waitGone(t *testing.T, pid int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !gone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still alive after %v", pid, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPoolWorkerDeath(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	var stderr strings.Builder
	p := newPool(t, mp.PoolOptions{Processes: 2, Stderr: &syncWriter{w: &stderr}})
	for _, c := range []struct {
		how  string
		code int
		sig  syscall.Signal
	}{
		{"external", -9, syscall.SIGKILL},
		{"kill", -9, syscall.SIGKILL},
		{"exit", 3, 0},
		{"crash", 2, 0},
	} {
		t.Run(c.how, func(t *testing.T) {
			var others []*mp.Future[int]
			for i := range 20 {
				others = append(others, mp.Submit(ctx, p, square, i))
			}
			f, wpid, _ := startHang(t, ctx, p, c.how, false)
			for i := range 20 {
				others = append(others, mp.Submit(ctx, p, square, i))
			}
			if c.how == "external" {
				syscall.Kill(wpid, syscall.SIGKILL)
			}
			_, err := f.Get(ctx)
			var wd *mp.WorkerDiedError
			if !errors.As(err, &wd) || !errors.Is(err, mp.ErrWorkerDied) {
				t.Fatalf("task whose worker died: %v, want a WorkerDiedError", err)
			}
			if wd.Pid != wpid || wd.Exit == nil || wd.Exit.Code != c.code || wd.Exit.Signal != c.sig {
				t.Errorf("WorkerDiedError{Pid: %d, Exit: %+v}, want pid %d, code %d, signal %d", wd.Pid, wd.Exit, wpid, c.code, c.sig)
			}
			if c.how == "crash" && !strings.Contains(string(wd.Exit.Stderr), "a crash in a goroutine the task started") {
				t.Errorf("the crash's stderr tail is %q", wd.Exit.Stderr)
			}
			for i, o := range others {
				if v, err := o.Get(ctx); err != nil || v != (i%20)*(i%20) {
					t.Errorf("other task %d = %v, %v", i, v, err)
				}
			}
			// The pool replaced the worker: both workers answer.
			if _, err := mp.Map(ctx, p, poolSleep, []time.Duration{30 * time.Millisecond, 30 * time.Millisecond}, 1); err != nil {
				t.Errorf("after the death: %v", err)
			}
		})
	}
}

func TestPoolDeadlineKills(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	// The deadline runs from Submit: let the worker start first, and leave
	// a loaded machine time to hand the task over and run it.
	if v, err := mp.Apply(ctx, p, square, 2); v != 4 || err != nil {
		t.Fatalf("warm-up: %v, %v", v, err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	f, wpid, kid := startHang(t, short, p, "sleep", true)
	_, err := f.Get(ctx)
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("task past its deadline: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the deadline took %v to fail the task", d)
	}
	waitGone(t, wpid, 5*time.Second)
	waitGone(t, kid, 5*time.Second) // the worker's process group went with it
	if v, err := mp.Apply(ctx, p, square, 5); v != 25 || err != nil {
		t.Errorf("after the kill: %v, %v", v, err)
	}
}

func TestPoolTaskTimeout(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1, TaskTimeout: 200 * time.Millisecond})
	f, wpid, _ := startHang(t, ctx, p, "sleep", false)
	if _, err := f.Get(ctx); !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("task past the pool's task timeout: %v", err)
	}
	waitGone(t, wpid, 5*time.Second)
	// A cooperative task returns by itself at the timeout: no kill. The
	// grace is widened, so that a loaded machine's scheduling delay between
	// the return and the worker's report does not count as a stubborn task.
	t.Cleanup(mp.SetKillGrace(10 * time.Second))
	p = newPool(t, mp.PoolOptions{Processes: 1, TaskTimeout: 200 * time.Millisecond})
	f, wpid, _ = startHang(t, ctx, p, "wait", false)
	if _, err := f.Get(ctx); !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("cooperative task past the task timeout: %v", err)
	}
	if v, err := mp.Apply(ctx, p, pid, struct{}{}); err != nil || v != wpid {
		t.Errorf("after a cooperative timeout the worker changed: %v (was %d), %v", v, wpid, err)
	}
}

func TestPoolCancelRunning(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	cctx, cancel := context.WithCancel(ctx)
	f, wpid, _ := startHang(t, cctx, p, "sleep", false)
	cancel()
	if _, err := f.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled task: %v", err)
	}
	waitGone(t, wpid, 5*time.Second)
	if v, err := mp.Apply(ctx, p, square, 6); v != 36 || err != nil {
		t.Errorf("after the cancel: %v, %v", v, err)
	}
}

func TestPoolMaxTasksPerChild(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 2, MaxTasksPerChild: 3})
	path := filepath.Join(t.TempDir(), "runs")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const n = 60
	in := make([]lineArg, n)
	for i := range in {
		in[i] = lineArg{Path: path, N: i}
	}
	pids, err := mp.Map(ctx, p, appendLine, in, 1)
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[int]int{}
	for _, pid := range pids {
		distinct[pid]++
	}
	for pid, k := range distinct {
		if k > 3 {
			t.Errorf("worker %d ran %d tasks, at most 3", pid, k)
		}
	}
	if len(distinct) < n/3 {
		t.Errorf("%d workers ran %d tasks", len(distinct), n)
	}
	data, _ := os.ReadFile(path)
	runs := strings.Fields(string(data))
	slices.SortFunc(runs, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	if len(runs) != n {
		t.Fatalf("%d runs for %d tasks", len(runs), n)
	}
	for i, r := range runs {
		if r != strconv.Itoa(i) {
			t.Fatalf("runs %v: task %d lost or duplicated", runs, i)
		}
	}
}

func TestPoolTerminateDuringMap(t *testing.T) {
	mptest.CheckLeaks(t)
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		in := slices.Repeat([]time.Duration{time.Hour}, 10)
		_, err := mp.Map(context.Background(), p, poolSleep, in, 1)
		errc <- err
	}()
	waitRunning(t, p, 2)
	start := time.Now()
	p.Terminate()
	select {
	case err := <-errc:
		if !errors.Is(err, mp.ErrPoolClosed) {
			t.Errorf("Map cut short by Terminate: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Map still running 10 s after Terminate")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Terminate took %v", d)
	}
}

func TestPoolWorkersDieWithParent(t *testing.T) {
	mptest.CheckLeaks(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	parent := mp.Command(poolParent, 2)
	parent.Stdout = pw
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var workers []int
	sc := bufio.NewScanner(pr)
	for sc.Scan() && sc.Text() != "done" {
		pid, _ := strconv.Atoi(strings.TrimPrefix(sc.Text(), "worker "))
		workers = append(workers, pid)
	}
	if len(workers) != 2 {
		parent.Kill()
		parent.Wait(context.Background())
		t.Fatalf("workers %v", workers)
	}
	killed := time.Now()
	parent.Kill()
	parent.Wait(context.Background())
	for _, w := range workers {
		waitGone(t, w, time.Second-time.Since(killed)+50*time.Millisecond)
	}
	t.Logf("workers gone %v after their pool's process was killed", time.Since(killed))
}

var readFile = mp.Register("test.pool.readFile", func(_ context.Context, f mp.File) (string, error) {
	defer f.Close()
	b := make([]byte, 64)
	n, err := f.Read(b)
	return string(b[:n]), err
})

func TestPoolHandlesAfterStart(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 2})
	if _, err := mp.Apply(ctx, p, square, 1); err != nil { // the workers are up
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("through a pipe made later")
	w.Close()
	f := mp.Submit(ctx, p, readFile, mp.File{File: r})
	r.Close()
	if got, err := f.Get(ctx); got != "through a pipe made later" || err != nil {
		t.Errorf("readFile = %q, %v", got, err)
	}
	// Conns, in startHang, and in a Map.
	f2, _, _ := startHang(t, ctx, p, "kill", false)
	f2.Wait(ctx)
}
