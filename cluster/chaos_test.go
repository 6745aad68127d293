package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// The chaos experiments kill, flood and corrupt the cluster module's
// processes at the worst moments and count what comes out: tasks and items
// lost, duplicated, run twice, failed and with which error. They run in
// the normal test suite in a short form; MP_CHAOS=long runs them large:
//
//	MP_CHAOS=long go test -race -count=3 -v -run TestChaos ./
//
// Each prints its counts with t.Logf and fails on a count that is not
// what it must be.

// chaosLong reports whether the large form was asked for.
func chaosLong() bool { return os.Getenv("MP_CHAOS") == "long" }

// pick returns short, or long in the large form.
func pick(short, long int) int {
	if chaosLong() {
		return long
	}
	return short
}

// tally holds an experiment's counts: some only reported, some that must
// have a value or stay within a bound.
type tally struct {
	t     *testing.T
	parts []string
	fails []string
}

func newTally(t *testing.T) *tally { return &tally{t: t} }

// count records a number that is reported only.
func (c *tally) count(name string, n int) {
	c.parts = append(c.parts, fmt.Sprintf("%s=%d", name, n))
}

// expect records a number that must equal want.
func (c *tally) expect(name string, n, want int) {
	c.count(name, n)
	if n != want {
		c.parts[len(c.parts)-1] += fmt.Sprintf("(want %d)", want)
		c.fails = append(c.fails, fmt.Sprintf("%s = %d, want %d", name, n, want))
	}
}

// atMost records a number that must not exceed limit.
func (c *tally) atMost(name string, n, limit int) {
	c.count(name, n)
	if n > limit {
		c.parts[len(c.parts)-1] += fmt.Sprintf("(want <= %d)", limit)
		c.fails = append(c.fails, fmt.Sprintf("%s = %d, want at most %d", name, n, limit))
	}
}

// report prints the counts on one line and fails the test on each count
// out of bounds.
func (c *tally) report() {
	c.t.Helper()
	c.t.Logf("counts: %s", strings.Join(c.parts, " "))
	for _, f := range c.fails {
		c.t.Error(f)
	}
}

// bounded returns a context that ends after d: an experiment that is still
// running then is hung, and the test fails with every goroutine's stack,
// taken at that moment.
func bounded(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var stacks []byte
	timer := time.AfterFunc(d, func() {
		var b bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
		mu.Lock()
		stacks = b.Bytes()
		mu.Unlock()
		cancel()
	})
	t.Cleanup(func() {
		timer.Stop()
		cancel()
		mu.Lock()
		defer mu.Unlock()
		if stacks != nil {
			t.Errorf("hung: still running after %v; the stacks then:\n%s", d, stacks)
		}
	})
	return ctx
}

// runLog is a file that tasks append one line to each time they run: one
// write of a whole line, so a kill leaves the line whole or absent.
type runLog string

func newRunLog(t *testing.T) runLog {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return runLog(path)
}

// add appends line.
func (l runLog) add(line string) error {
	f, err := os.OpenFile(string(l), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line + "\n")
	return errors.Join(err, f.Close())
}

// lines returns the log's lines.
func (l runLog) lines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(string(l))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// fail appends an error line: "E " and the error's text on one line.
func (l runLog) fail(err error) error {
	return l.add("E " + strings.ReplaceAll(err.Error(), "\n", " "))
}

// errors returns the texts of the error lines.
func (l runLog) errors(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, s := range l.lines(t) {
		if text, ok := strings.CutPrefix(s, "E "); ok {
			out = append(out, text)
		}
	}
	return out
}

// counts returns how many times each of the indices 0..n-1 was logged.
func (l runLog) counts(t *testing.T, n int) []int {
	t.Helper()
	out := make([]int, n)
	for _, s := range l.lines(t) {
		if strings.HasPrefix(s, "E ") || strings.HasPrefix(s, "S ") {
			continue // an error (see errors), or a slow call's time
		}
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= n {
			t.Fatalf("run log holds %q", s)
		}
		out[i]++
	}
	return out
}

// chaosArg is one task of the pool experiments.
type chaosArg struct {
	I     int
	Log   runLog
	Sleep time.Duration
	// Kill makes the task SIGKILL its own process once it has logged.
	Kill bool
}

func chaosAnswer(i int) int { return i*i + 7 }

// chaosTask logs its index, kills its process if told to, works for a
// while and returns chaosAnswer of its index.
var chaosTask = mp.Register("cluster_test.chaosTask", func(ctx context.Context, a chaosArg) (int, error) {
	if err := a.Log.add(strconv.Itoa(a.I)); err != nil {
		return 0, err
	}
	if a.Kill {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	t := time.NewTimer(a.Sleep)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return chaosAnswer(a.I), nil
})

// chaosWorkerArg is what a chaos experiment's worker machine is started
// with.
type chaosWorkerArg struct {
	URL       string
	Pool      string
	Processes int
	Prefetch  int
}

// chaosWorker is a worker machine: a process that connects with the
// worker identity and works until it is killed or its parent dies.
var chaosWorker = mp.Register("cluster_test.chaosWorker", func(ctx context.Context, a chaosWorkerArg) (struct{}, error) {
	// Started while the engine's process is being started again, it
	// tries again (see TestChaosWorkerBeforeEngine for Main's workers).
	c, err := connectAgain(ctx, a.URL, &cluster.ConnectOptions{Worker: true})
	if err != nil {
		return struct{}{}, err
	}
	defer c.Close()
	return struct{}{}, cluster.Work(ctx, c, &cluster.WorkerOptions{Pool: a.Pool, Prefetch: a.Prefetch,
		Local: mp.PoolOptions{Processes: a.Processes}})
})

// machines are the worker machines of an experiment, which it kills and
// replaces.
type machines struct {
	t   *testing.T
	arg chaosWorkerArg

	// mu guards live.
	mu   sync.Mutex
	live []*mp.Process
}

// startMachines starts n worker machines; every one still alive is killed
// at the end of the test.
func startMachines(t *testing.T, n int, arg chaosWorkerArg) *machines {
	t.Helper()
	m := &machines{t: t, arg: arg}
	for range n {
		if err := m.add(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, p := range m.live {
			_ = p.Kill()
			_ = p.Wait(context.Background())
			p.Close()
		}
	})
	return m
}

// add starts one more worker machine.
func (m *machines) add() error {
	p := mp.Command(chaosWorker, m.arg)
	if err := p.Start(); err != nil {
		return err
	}
	m.mu.Lock()
	m.live = append(m.live, p)
	m.mu.Unlock()
	return nil
}

// killOne SIGKILLs a random worker machine, reaps it and starts another.
func (m *machines) killOne() error {
	m.mu.Lock()
	i := rand.IntN(len(m.live))
	p := m.live[i]
	m.live = append(m.live[:i], m.live[i+1:]...)
	m.mu.Unlock()
	if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
		return err
	}
	_ = p.Wait(context.Background())
	p.Close()
	return m.add()
}

// alive counts the worker machines that have not exited on their own.
func (m *machines) alive() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, p := range m.live {
		select {
		case <-p.Done():
		default:
			n++
		}
	}
	return n
}

// outcomes classifies the outcomes of a pool experiment's tasks.
type outcomes struct {
	seen                  []int // outcomes per index
	ok, wrong, delivery   int
	died, canceled, other int
	deliveries            map[int]int // DeliveryError.Deliveries → tasks
	errs                  []string    // the first few errors, for the log
	failedIdx             []int       // indices that failed
}

func newOutcomes(n int) *outcomes {
	return &outcomes{seen: make([]int, n), deliveries: map[int]int{}}
}

// add records item i's outcome.
func (o *outcomes) add(i int, out mp.Outcome[int]) {
	o.seen[i]++
	var de *cluster.DeliveryError
	switch {
	case out.Err == nil && out.Value == chaosAnswer(i):
		o.ok++
		return
	case out.Err == nil:
		o.wrong++
		return
	case errors.As(out.Err, &de):
		o.delivery++
		o.deliveries[de.Deliveries]++
	case errors.Is(out.Err, mp.ErrWorkerDied):
		o.died++
	case errors.Is(out.Err, context.Canceled) || errors.Is(out.Err, context.DeadlineExceeded):
		o.canceled++
	default:
		o.other++
	}
	o.failedIdx = append(o.failedIdx, i)
	if len(o.errs) < 5 {
		o.errs = append(o.errs, fmt.Sprintf("item %d: %v", i, out.Err))
	}
}

// lostAndTwice counts the items with no outcome and those with more than
// one.
func (o *outcomes) lostAndTwice() (lost, twice int) {
	for _, n := range o.seen {
		switch {
		case n == 0:
			lost++
		case n > 1:
			twice++
		}
	}
	return lost, twice
}

// runTasks runs n chaosTasks through p, unordered and one item per task,
// and calls between each time k results have come (k at least 1). kill
// says which items kill their process.
func runTasks(ctx context.Context, p *cluster.Pool, log runLog, n int, sleep time.Duration, kill func(int) bool, between func(got int)) *outcomes {
	o := newOutcomes(n)
	in := func(yield func(chaosArg) bool) {
		for i := range n {
			a := chaosArg{I: i, Log: log, Sleep: time.Duration(rand.Int64N(int64(sleep) + 1)), Kill: kill != nil && kill(i)}
			if !yield(a) {
				return
			}
		}
	}
	got := 0
	for i, out := range mp.ImapUnordered(ctx, p, chaosTask, in, mp.ImapOptions{Chunk: 1}) {
		o.add(i, out)
		got++
		if between != nil {
			between(got)
		}
	}
	return o
}

// TestChaosPoolMachinesKilled runs a few hundred tasks (60 in the short
// form) on worker machines that it SIGKILLs at random moments, starting a
// new one each time: every item comes back once, with its right value, or
// with a *DeliveryError whose deliveries were all spent; nothing hangs.
func TestChaosPoolMachinesKilled(t *testing.T) {
	ctx := bounded(t, time.Duration(pick(60, 300))*time.Second)
	c := start(t, nil)
	const deliveries = 3
	p := newPool(t, c, &cluster.PoolOptions{Name: "chaoskill", AckWait: 500 * time.Millisecond, Deliveries: deliveries})
	n, kills := pick(60, 400), pick(3, 20)
	m := startMachines(t, pick(2, 3), chaosWorkerArg{URL: c.URL(), Pool: "chaoskill", Processes: pick(1, 2), Prefetch: 1})
	log := newRunLog(t)

	// The killer waits a random moment, up to the time the tasks should
	// take between two kills, then kills a machine; until the Map ends.
	stop := make(chan struct{})
	killed := make(chan int, 1)
	var killErr error
	go func() {
		k := 0
		defer func() { killed <- k }()
		for k < kills {
			select {
			case <-time.After(time.Duration(rand.Int64N(int64(time.Duration(n/kills) * 10 * time.Millisecond)))):
			case <-stop:
				return
			}
			if killErr = m.killOne(); killErr != nil {
				return
			}
			k++
		}
	}()
	start := time.Now()
	o := runTasks(ctx, p, log, n, 20*time.Millisecond, nil, nil)
	elapsed := time.Since(start)
	close(stop)
	k := <-killed
	if killErr != nil {
		t.Fatalf("kill a worker machine: %v", killErr)
	}
	runs := log.counts(t, n)
	twiceRun, spentRuns := 0, 0
	for i, r := range runs {
		if r > 1 {
			twiceRun++
		}
		if o.seen[i] == 1 && r == 0 && !slices.Contains(o.failedIdx, i) {
			o.wrong++ // a value from a task that never ran
		}
	}
	for _, i := range o.failedIdx {
		spentRuns += runs[i]
	}
	lost, twice := o.lostAndTwice()
	s := p.Stats()
	tl := newTally(t)
	tl.count("tasks", n)
	tl.count("kills", k)
	tl.count("ok", o.ok)
	tl.expect("lost", lost, 0)
	tl.expect("duplicated", twice, 0)
	tl.expect("wrong", o.wrong, 0)
	tl.count("deliveryErrors", o.delivery)
	tl.expect("deliveryErrorsNotSpent", o.delivery-o.deliveries[deliveries], 0)
	tl.expect("workerDiedOther", o.died, 0)
	tl.expect("otherErrors", o.other+o.canceled, 0)
	tl.count("ranTwice", twiceRun)
	tl.count("runsOfFailed", spentRuns)
	tl.count("statsDuplicates", int(s.Duplicates))
	tl.expect("machinesExited", pick(2, 3)-m.alive(), 0)
	tl.report()
	t.Logf("%d tasks in %v; errors: %v", n, elapsed.Round(time.Millisecond), o.errs)
	if k == 0 {
		t.Errorf("no worker machine was killed")
	}
}

// TestChaosPoolTaskKillsItself has every fifth task SIGKILL its own
// process: those fail with mp.ErrWorkerDied and run once; the others
// succeed, once each.
func TestChaosPoolTaskKillsItself(t *testing.T) {
	ctx := bounded(t, time.Duration(pick(60, 300))*time.Second)
	c := start(t, nil)
	p := newPool(t, c, &cluster.PoolOptions{Name: "chaosself", AckWait: 500 * time.Millisecond})
	n := pick(40, 300)
	startMachines(t, 2, chaosWorkerArg{URL: c.URL(), Pool: "chaosself", Processes: 2, Prefetch: 2})
	log := newRunLog(t)
	kill := func(i int) bool { return i%5 == 2 }
	o := runTasks(ctx, p, log, n, 5*time.Millisecond, kill, nil)

	runs := log.counts(t, n)
	var killers, killersDied, killersOther, killersTwice, othersOK, othersBad, othersTwice int
	for i, r := range runs {
		failed := slices.Contains(o.failedIdx, i)
		if kill(i) {
			killers++
			if failed {
				killersDied++
			}
			if r != 1 {
				killersTwice++
			}
			continue
		}
		if failed {
			othersBad++
		} else {
			othersOK++
		}
		if r != 1 {
			othersTwice++
		}
	}
	killersOther = killers - killersDied
	lost, twice := o.lostAndTwice()
	tl := newTally(t)
	tl.count("tasks", n)
	tl.count("selfKillers", killers)
	tl.expect("selfKillersWorkerDied", o.died, killers)
	tl.expect("selfKillersNotFailed", killersOther, 0)
	tl.expect("selfKillersRunsNotOne", killersTwice, 0)
	tl.expect("othersOK", othersOK, n-killers)
	tl.expect("othersFailed", othersBad, 0)
	tl.expect("othersRunsNotOne", othersTwice, 0)
	tl.expect("lost", lost, 0)
	tl.expect("duplicated", twice, 0)
	tl.expect("wrong", o.wrong, 0)
	tl.expect("deliveryErrors", o.delivery, 0)
	tl.expect("otherErrors", o.other+o.canceled, 0)
	tl.report()
	t.Logf("errors: %v", o.errs)
}

// TestChaosPoolEngineKilled runs a Map on an engine in a child process and
// SIGKILLs that process once (three times in the long form) while the
// tasks run: the engine starts again on the same store and port; no item
// is lost, none comes twice to the caller, each completes or fails with a
// specific error; tasks run twice are counted (at least once allows them).
// The second form also kills a worker machine with each engine kill, and
// its tasks outlast AckWait, so that they live on the workers'
// confirmations across the restart.
func TestChaosPoolEngineKilled(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		sleep    time.Duration
		ackWait  time.Duration
		machines bool
	}{
		{"short tasks", pick(60, 400), 20 * time.Millisecond, time.Second, false},
		{"long tasks and machines", pick(16, 60), 1500 * time.Millisecond, 500 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chaosEngine(t, tc.n, tc.sleep, tc.ackWait, tc.machines)
		})
	}
}

func chaosEngine(t *testing.T, n int, sleep, ackWait time.Duration, killMachines bool) {
	ctx := bounded(t, time.Duration(pick(90, 300))*time.Second)
	c := start(t, &cluster.Options{Process: true})
	p := newPool(t, c, &cluster.PoolOptions{Name: "chaosengine", AckWait: ackWait})
	kills := pick(1, 3)
	m := startMachines(t, 2, chaosWorkerArg{URL: c.URL(), Pool: "chaosengine", Processes: 2, Prefetch: 2})
	log := newRunLog(t)

	k, mk := 0, 0
	var killErr error
	o := runTasks(ctx, p, log, n, sleep, nil, func(got int) {
		// A kill after each n/(kills+1) results, at a random moment
		// within the next few tasks.
		if k < kills && got >= (k+1)*n/(kills+1) {
			pid := cluster.EnginePID(c)
			if pid == 0 {
				return // being started again
			}
			time.Sleep(time.Duration(rand.Int64N(int64(20 * time.Millisecond))))
			if killErr = syscall.Kill(pid, syscall.SIGKILL); killErr != nil {
				return
			}
			k++
			if killMachines {
				if killErr = m.killOne(); killErr == nil {
					mk++
				}
			}
		}
	})
	if killErr != nil {
		t.Fatalf("kill: %v", killErr)
	}
	runs := log.counts(t, n)
	twiceRun := 0
	for _, r := range runs {
		if r > 1 {
			twiceRun++
		}
	}
	lost, twice := o.lostAndTwice()
	tl := newTally(t)
	tl.count("tasks", n)
	tl.expect("engineKills", k, kills)
	tl.count("machineKills", mk)
	tl.count("ok", o.ok)
	tl.expect("lost", lost, 0)
	tl.expect("duplicated", twice, 0)
	tl.expect("wrong", o.wrong, 0)
	tl.count("deliveryErrors", o.delivery)
	tl.count("workerDied", o.died)
	tl.expect("otherErrors", o.other+o.canceled, 0)
	tl.count("ranTwice", twiceRun)
	tl.expect("machinesExited", 2-m.alive(), 0)
	tl.report()
	t.Logf("errors: %v", o.errs)
}

// TestChaosWorkerBeforeEngine starts a worker machine in Main's worker
// mode while its engine is down — as after a power cut, when the machines
// come up before the engine's, or while an engine's process is being
// started again — and starts the engine only once the worker has tried
// to connect and been turned away. Main gives its first connection 30
// seconds: the worker must wait for the engine, join it and run tasks,
// not exit.
func TestChaosWorkerBeforeEngine(t *testing.T) {
	ctx := bounded(t, 60*time.Second)
	key := []byte("a key for the early worker")
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	// The engine's address, held by a listener that turns every
	// connection away, as a port nobody serves yet would.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cluster.EnvJoin+"=nats://"+addr, cluster.EnvKeyFile+"="+keyFile,
		cluster.EnvPool+"=early", cluster.EnvProcesses+"=1")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	turnedAway := 0
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	turnedAway++
	l.Close()

	c := start(t, &cluster.Options{Key: key, Listen: addr})
	p := newPool(t, c, &cluster.PoolOptions{Name: "early"})
	done := make(chan error, 1)
	go func() {
		got, err := mp.Apply(ctx, p, double, 21)
		if err == nil && got != 42 {
			err = fmt.Errorf("Apply = %d, want 42", got)
		}
		done <- err
	}()
	workerExited, tasksDone := 0, 0
	select {
	case err := <-exited:
		workerExited++
		t.Logf("the worker exited: %v; its stderr: %s", err, bytes.TrimSpace(stderr.Bytes()))
		exited <- err // for the cleanup
	case err := <-done:
		if err != nil {
			t.Errorf("Apply: %v", err)
		} else {
			tasksDone++
		}
	}
	tl := newTally(t)
	tl.count("connectionsTurnedAway", turnedAway)
	tl.expect("workerExited", workerExited, 0)
	tl.expect("tasksDone", tasksDone, 1)
	tl.report()
}
