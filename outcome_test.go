package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// eachArg is an item of the MapEach tests: X is squared, unless How says
// to fail, panic, or report the worker's pid on Report and wait for the
// item's context to end.
type eachArg struct {
	X      int
	How    string
	Report *mp.Conn
}

var eachItem = mp.Register("test.each.item", func(ctx context.Context, a eachArg) (int, error) {
	switch a.How {
	case "fail":
		return 0, fmt.Errorf("item %d: %w", a.X, mp.ErrFull)
	case "panic":
		panic(fmt.Sprintf("item %d panics", a.X))
	case "wait":
		if a.Report != nil {
			a.Report.Send(ctx, os.Getpid())
		}
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return a.X * a.X, nil
})

// eachItems returns n plain items.
func eachItems(n int) []eachArg {
	in := make([]eachArg, n)
	for i := range in {
		in[i].X = i
	}
	return in
}

// reportPipe returns a pipe whose write end an item sends its worker's pid
// on, and a function that receives it (0 if it does not come).
func reportPipe(t *testing.T) (*mp.Conn, func() int) {
	t.Helper()
	r, w, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return w, func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var pid int
		if err := r.Recv(ctx, &pid); err != nil {
			t.Errorf("the waiting item never reported its worker: %v", err)
			return 0
		}
		return pid
	}
}

// bounded returns a context that ends the test's waits if an item that
// waits for its context is never released, so that a failure cannot hang.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// One item that fails, one that panics and a worker killed with SIGKILL
// in the middle of a chunk: the first two fail alone, the killed chunk's
// items fail with a WorkerDiedError, and every other item has its result.
func TestMapEachKeepsEveryOutcome(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := bounded(t)
	p := newPool(t, mp.PoolOptions{Processes: 2})
	w, workerPid := reportPipe(t)
	const chunk = 4
	in := eachItems(40)
	in[5].How = "fail"
	in[13].How = "panic"
	in[22].How, in[22].Report = "wait", w
	killed := make(chan int, 1)
	go func() {
		pid := workerPid()
		if pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		killed <- pid
	}()
	out := mp.MapEach(ctx, p, eachItem, in, chunk)
	pid := <-killed
	if len(out) != len(in) {
		t.Fatalf("MapEach returned %d outcomes for %d items", len(out), len(in))
	}
	for i, o := range out {
		var re *mp.RemoteError
		var wd *mp.WorkerDiedError
		switch {
		case i == 5:
			if !errors.As(o.Err, &re) || re.Panic || !errors.Is(o.Err, mp.ErrFull) || re.Message != "item 5: mp: queue full" {
				t.Errorf("item 5 = %+v, want its RemoteError", o)
			}
		case i == 13:
			if !errors.As(o.Err, &re) || !re.Panic || re.Message != "item 13 panics" || re.Stack == "" {
				t.Errorf("item 13 = %+v, want its panic", o)
			}
		case i/chunk == 22/chunk:
			if !errors.As(o.Err, &wd) || wd.Pid != pid || wd.Exit == nil || wd.Exit.Signal != syscall.SIGKILL {
				t.Errorf("item %d of the killed chunk = %+v, want a WorkerDiedError of %d", i, o, pid)
			}
		case o.Err != nil || o.Value != i*i:
			t.Errorf("item %d = %+v, want %d", i, o, i*i)
		}
		if o.Err != nil && o.Value != 0 {
			t.Errorf("item %d failed with the value %d, want the zero value", i, o.Value)
		}
	}
	if out := mp.MapEach(ctx, p, eachItem, nil, 0); out == nil || len(out) != 0 {
		t.Errorf("MapEach(empty) = %#v", out)
	}
}

// An item whose own time runs out (PoolOptions.TaskTimeout) fails with an
// error matching ErrTimeout; its chunk-mates run on.
func TestMapEachItemTimeout(t *testing.T) {
	mptest.CheckLeaks(t)
	// The item returns as soon as its time is out: only a loaded machine
	// could make it miss the grace before its worker is killed.
	defer mp.SetKillGrace(10 * time.Second)()
	p := newPool(t, mp.PoolOptions{Processes: 1, TaskTimeout: 100 * time.Millisecond})
	in := eachItems(4)
	in[1].How = "wait"
	out := mp.MapEach(context.Background(), p, eachItem, in, 4)
	for i, o := range out {
		if i == 1 {
			var re *mp.RemoteError
			if !errors.As(o.Err, &re) || !errors.Is(o.Err, mp.ErrTimeout) || !errors.Is(o.Err, context.DeadlineExceeded) {
				t.Errorf("the item past its time = %+v, want a timeout", o)
			}
			continue
		}
		if o.Err != nil || o.Value != i*i {
			t.Errorf("item %d = %+v, want %d", i, o, i*i)
		}
	}
}

// When ctx ends, MapEach returns: the items not done fail with ctx's
// error, those done keep their results.
func TestMapEachCancel(t *testing.T) {
	mptest.CheckLeaks(t)
	p := newPool(t, mp.PoolOptions{Processes: 2})
	w, workerPid := reportPipe(t)
	in := eachItems(20)
	in[7].How, in[7].Report = "wait", w
	ctx, cancel := context.WithCancel(bounded(t))
	defer cancel()
	go func() {
		workerPid()
		cancel()
	}()
	out := mp.MapEach(ctx, p, eachItem, in, 1)
	if !errors.Is(out[7].Err, context.Canceled) {
		t.Errorf("the waiting item = %+v, want context.Canceled", out[7])
	}
	for i, o := range out {
		if o.Err == nil && o.Value != i*i || o.Err != nil && !errors.Is(o.Err, context.Canceled) {
			t.Errorf("item %d = %+v, want %d or context.Canceled", i, o, i*i)
		}
	}
	// The pool goes on.
	if v, err := mp.Apply(context.Background(), p, square, 3); v != 9 || err != nil {
		t.Errorf("Apply after a cancelled MapEach = %v, %v", v, err)
	}
}

// A chunk whose argument cannot be encoded fails alone.
func TestMapEachUnencodable(t *testing.T) {
	mptest.CheckLeaks(t)
	p := newPool(t, mp.PoolOptions{Processes: 1})
	in := []any{1, 2, make(chan int), 4}
	out := mp.MapEach(context.Background(), p, takeAny, in, 2)
	for i, o := range out {
		if bad := i/2 == 1; bad != (o.Err != nil) || !bad && o.Value != 1 {
			t.Errorf("item %d = %+v", i, o)
		}
	}
}

// MapAsync's Progress callbacks come in this process, one at a time, with
// a growing count of the items done, before Result; with the default
// chunk there are at least 100 of them.
func TestMapAsyncProgress(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 2})
	var calls []int // only the callbacks touch it, one at a time
	resulted := false
	in := make([]int, 1000)
	f := mp.MapAsync(ctx, p, square, in, 0, mp.Callback[[]int]{
		Progress: func(done, total int) {
			if resulted || total != len(in) {
				t.Errorf("Progress(%d, %d) after Result, or of the wrong total", done, total)
			}
			calls = append(calls, done)
		},
		Result: func([]int) { resulted = true },
	})
	if _, err := f.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if len(calls) < 100 || calls[len(calls)-1] != len(in) {
		t.Fatalf("%d Progress calls ending at %v, want at least 100 ending at %d", len(calls), calls[len(calls)-1:], len(in))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] <= calls[i-1] {
			t.Fatalf("Progress went from %d to %d", calls[i-1], calls[i])
		}
	}
	// A failed Map reports no progress after its error.
	failed, after := false, 0
	_, err := mp.MapAsync(ctx, p, failOdd, []int{0, 2, 1, 4, 6, 8}, 1, mp.Callback[[]int]{
		Progress: func(done, total int) {
			if failed {
				after++
			}
		},
		Error: func(error) { failed = true },
	}).Get(ctx)
	if err == nil || !failed || after != 0 {
		t.Errorf("failed MapAsync: %v, Error called %v, %d Progress calls after it", err, failed, after)
	}
}

// ImapUnordered says which items failed: a failing item, a panicking one
// and the chunk of a worker killed with SIGKILL come with their indexes,
// and every other item with its result.
func TestImapUnorderedFailuresKeepTheirIndex(t *testing.T) {
	mptest.CheckLeaks(t)
	p := newPool(t, mp.PoolOptions{Processes: 2})
	w, workerPid := reportPipe(t)
	const chunk = 3
	in := eachItems(30)
	in[4].How = "fail"
	in[9].How = "panic"
	in[16].How, in[16].Report = "wait", w
	go func() {
		if pid := workerPid(); pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}()
	seen := map[int]bool{}
	for i, r := range mp.ImapUnordered(bounded(t), p, eachItem, slices.Values(in), mp.ImapOptions{Chunk: chunk}) {
		if seen[i] {
			t.Errorf("item %d yielded twice", i)
		}
		seen[i] = true
		var re *mp.RemoteError
		switch {
		case i == 4:
			if !errors.As(r.Err, &re) || re.Message != "item 4: mp: queue full" {
				t.Errorf("item 4 = %+v, want its error", r)
			}
		case i == 9:
			if !errors.As(r.Err, &re) || !re.Panic {
				t.Errorf("item 9 = %+v, want its panic", r)
			}
		case i/chunk == 16/chunk:
			if !errors.Is(r.Err, mp.ErrWorkerDied) {
				t.Errorf("item %d of the killed chunk = %+v, want ErrWorkerDied", i, r)
			}
		case r.Err != nil || r.Value != i*i:
			t.Errorf("item %d = %+v, want %d", i, r, i*i)
		}
	}
	if len(seen) != len(in) {
		t.Errorf("%d items yielded, want %d", len(seen), len(in))
	}
}
