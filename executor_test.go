package mp_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/wire"
	"github.com/mpgo/mp/mptest"
)

// forwarder is an Executor built, outside package mp, on its exported API
// alone, the way one that spreads tasks over machines would be: it takes
// each task apart into the self-contained message it is (function name,
// encoded argument, chunk size, deadline), gives that to a local Pool as a
// new task, and sends the outcome back by task id. Like an engine that
// delivers at least once, it reports every outcome twice; like one that
// crosses machines, it cannot carry handles.
type forwarder struct {
	local *mp.Pool

	// mu guards the fields below.
	mu       sync.Mutex
	running  map[uint64]forwarded // by the id of the task given to Execute
	executed int
	dropped  int // not wanted when their turn came
	cancels  int
	closed   bool // callbacks is closed

	callbacks chan func()
	stopped   chan struct{}
}

// forwarded is a task given to the forwarder and its copy in the local
// pool.
type forwarded struct{ outer, inner *mp.Task }

func newForwarder(t *testing.T, local *mp.Pool) *forwarder {
	f := &forwarder{local: local, running: map[uint64]forwarded{}, callbacks: make(chan func(), 1024), stopped: make(chan struct{})}
	go f.runCallbacks()
	t.Cleanup(f.close)
	return f
}

func (f *forwarder) Execute(ts ...*mp.Task) {
	for _, t := range ts {
		f.mu.Lock()
		f.executed++
		if !t.Wanted() {
			f.dropped++
			f.mu.Unlock()
			closeAll(t.FDs) // the executor's from Execute on
			continue
		}
		f.mu.Unlock()
		if len(t.FDs) > 0 {
			t.Finish(mp.TaskResult{FDs: t.FDs, Err: mp.ErrHandles}) // closes them
			continue
		}
		id := t.ID // what would travel to another machine, and back
		inner := mp.NewTask(t.Func, t.Arg, nil, t.Items, t.Deadline, func(r mp.TaskResult) { f.deliver(id, r) })
		f.mu.Lock()
		f.running[id] = forwarded{t, inner}
		f.mu.Unlock()
		f.local.Execute(inner)
	}
}

// deliver reports a result that came back for task id, twice.
func (f *forwarder) deliver(id uint64, r mp.TaskResult) {
	f.mu.Lock()
	fw, ok := f.running[id]
	delete(f.running, id)
	f.mu.Unlock()
	if !ok {
		closeAll(r.FDs)
		return
	}
	t := fw.outer
	t.Finish(r)
	if t.Finish(mp.TaskResult{Err: errors.New("a duplicate that must be dropped")}) {
		panic("a second Finish of a task won")
	}
}

func (f *forwarder) Cancel(t *mp.Task) {
	f.mu.Lock()
	f.cancels++
	fw, ok := f.running[t.ID]
	delete(f.running, t.ID)
	f.mu.Unlock()
	if ok {
		f.local.Cancel(fw.inner)
	}
}

func closeAll(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

func (f *forwarder) Parallelism() int { return f.local.Parallelism() }

func (f *forwarder) RunCallback(fn func()) {
	f.mu.Lock()
	if !f.closed {
		f.callbacks <- fn // buffered: the goroutine below takes them in order
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	fn()
}

func (f *forwarder) runCallbacks() {
	for fn := range f.callbacks {
		fn()
	}
	close(f.stopped)
}

func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	close(f.callbacks)
	f.mu.Unlock()
	<-f.stopped
}

func (f *forwarder) counts() (executed, dropped, cancels int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.executed, f.dropped, f.cancels
}

// Every typed call runs on an Executor from outside package mp, duplicates
// are dropped, and callbacks run once each.
func TestExecutorOutsideMP(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	f := newForwarder(t, newPool(t, mp.PoolOptions{Processes: 2}))
	if got, err := mp.Apply(ctx, f, square, 7); err != nil || got != 49 {
		t.Fatalf("Apply = %d, %v", got, err)
	}
	var calls atomic.Int32
	fut := mp.Submit(ctx, f, square, 8, mp.Callback[int]{Result: func(int) { calls.Add(1) }})
	if got, err := fut.Get(ctx); err != nil || got != 64 {
		t.Fatalf("Submit = %d, %v", got, err)
	}
	in := make([]int, 1000)
	for i := range in {
		in[i] = i
	}
	got, err := mp.Map(ctx, f, square, in, 7)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != i*i {
			t.Fatalf("Map[%d] = %d", i, v)
		}
	}
	mapped, err := mp.MapAsync(ctx, f, square, in[:10], 0, mp.Callback[[]int]{Result: func([]int) { calls.Add(1) }}).Get(ctx)
	if err != nil || len(mapped) != 10 || mapped[9] != 81 {
		t.Fatalf("MapAsync = %v, %v", mapped, err)
	}
	var ordered, unordered []int
	for _, r := range mp.Imap(ctx, f, square, slices.Values(in[:100]), mp.ImapOptions{Chunk: 3}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		ordered = append(ordered, r.Value)
	}
	for _, r := range mp.ImapUnordered(ctx, f, square, slices.Values(in[:100]), mp.ImapOptions{}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		unordered = append(unordered, r.Value)
	}
	slices.Sort(unordered)
	if !slices.Equal(ordered, got[:100]) || !slices.Equal(unordered, got[:100]) {
		t.Fatalf("Imap = %v…, ImapUnordered = %v…", ordered[:5], unordered[:5])
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("callbacks ran %d times, want 2", n)
	}
}

// A task whose deadline passes fails with ErrTimeout at once; the executor
// hears Cancel. A Map whose first chunk fails abandons the chunks not yet
// run: the executor sees them unwanted.
func TestExecutorCancelAndAbandon(t *testing.T) {
	mptest.CheckLeaks(t)
	t.Cleanup(mp.SetKillGrace(10 * time.Millisecond))
	f := newForwarder(t, newPool(t, mp.PoolOptions{Processes: 1}))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := mp.Apply(ctx, f, poolSleep, time.Minute); !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply past its deadline = %v", err)
	}
	// mp calls Cancel once it has finished the task, after Apply may have
	// returned: wait for it.
	waitUntil(t, "one Cancel", func() bool { _, _, cancels := f.counts(); return cancels == 1 })
	// The Map fails on its first chunk, which the gate lets through
	// first; the others reach the forwarder once it has failed, abandoned.
	gate := &gatedForwarder{forwarder: f}
	_, err := mp.Map(context.Background(), gate, failOdd, []int{1, 2, 3, 4, 5, 6}, 1)
	if !errors.Is(err, mp.ErrEmpty) {
		t.Fatalf("Map with a failing item = %v", err)
	}
	gate.wg.Wait()
	if executed, dropped, _ := f.counts(); executed != 7 || dropped != 5 {
		t.Fatalf("%d tasks executed, %d dropped as unwanted; want 7 and 5", executed, dropped)
	}
}

// gatedForwarder gives the first task of a call to Execute at once, and
// the others once the first is finished.
type gatedForwarder struct {
	*forwarder
	wg sync.WaitGroup
}

func (g *gatedForwarder) Execute(ts ...*mp.Task) {
	g.forwarder.Execute(ts[0])
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for ts[0].Wanted() {
			time.Sleep(time.Millisecond)
		}
		g.forwarder.Execute(ts[1:]...)
	}()
}

// An executor that cannot carry handles refuses a task whose argument
// holds one, with ErrHandles, and closes its descriptors.
func TestExecutorRefusesHandles(t *testing.T) {
	mptest.CheckLeaks(t)
	f := newForwarder(t, newPool(t, mp.PoolOptions{Processes: 1}))
	a, b, err := mp.Pipe(true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	if _, err := mp.Apply(context.Background(), f, connEcho, job{Conn: b, Times: 1}); !errors.Is(err, mp.ErrHandles) {
		t.Fatalf("Apply with a Conn in the argument = %v, want ErrHandles", err)
	}
}

// Pool.Cancel of a task made with NewTask finishes it, with an error that
// matches context.Canceled, whether it comes before Execute or while the
// task runs; a task cancelled before Execute never runs.
func TestPoolCancelOfNewTask(t *testing.T) {
	mptest.CheckLeaks(t)
	t.Cleanup(mp.SetKillGrace(10 * time.Millisecond))
	p := newPool(t, mp.PoolOptions{Processes: 1})
	arg := func(d time.Duration) []byte {
		b, _, err := wire.Marshal(d) // what a forwarding executor receives
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	got := make(chan mp.TaskResult, 2)
	early := mp.NewTask(poolSleep.Name(), arg(time.Minute), nil, 0, time.Time{}, func(r mp.TaskResult) { got <- r })
	p.Cancel(early)
	p.Execute(early)
	if r := <-got; !errors.Is(r.Err, context.Canceled) {
		t.Fatalf("a task cancelled before Execute: %v", r.Err)
	}
	running := mp.NewTask(poolSleep.Name(), arg(time.Minute), nil, 0, time.Time{}, func(r mp.TaskResult) { got <- r })
	p.Execute(running)
	waitRunning(t, p, 1)
	p.Cancel(running)
	if r := <-got; !errors.Is(r.Err, context.Canceled) || running.Wanted() {
		t.Fatalf("a running task cancelled: %v (still wanted: %v)", r.Err, running.Wanted())
	}
	if v, err := mp.Apply(context.Background(), p, square, 5); err != nil || v != 25 {
		t.Fatalf("the pool after the cancels: %d, %v", v, err)
	}
}
