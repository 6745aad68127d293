package mp_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

var (
	square    = mp.Register("test.pool.square", func(_ context.Context, x int) (int, error) { return x * x, nil })
	pid       = mp.Register("test.pool.pid", func(_ context.Context, _ struct{}) (int, error) { return os.Getpid(), nil })
	poolSleep = mp.Register("test.pool.sleep", func(ctx context.Context, d time.Duration) (int, error) {
		time.Sleep(d)
		return os.Getpid(), nil
	})
	failOdd = mp.Register("test.pool.failOdd", func(_ context.Context, x int) (int, error) {
		if x%2 == 1 {
			return 0, fmt.Errorf("odd %d: %w", x, mp.ErrEmpty)
		}
		return x, nil
	})
	panicky = mp.Register("test.pool.panic", func(_ context.Context, msg string) (int, error) { panic(msg) })
	add     = mp.Register("test.pool.add", func(_ context.Context, a pair) (int, error) { return a.X + a.Y, nil })
	initVal = mp.Register("test.pool.init", func(_ context.Context, v string) (struct{}, error) {
		os.Setenv("MP_POOL_TEST_INIT", v)
		return struct{}{}, nil
	})
	initBad = mp.Register("test.pool.initBad", func(_ context.Context, _ struct{}) (struct{}, error) {
		return struct{}{}, errors.New("no database")
	})
	readInit = mp.Register("test.pool.readInit", func(_ context.Context, _ struct{}) (string, error) {
		return os.Getenv("MP_POOL_TEST_INIT"), nil
	})
)

// pair is starmap's argument: one field per argument.
type pair struct{ X, Y int }

// newPool starts a pool and stops it at the end of the test.
func newPool(t *testing.T, opts mp.PoolOptions) *mp.Pool {
	t.Helper()
	p, err := mp.NewPool(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Terminate() })
	return p
}

func TestPoolApplyMap(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, m := range []mp.StartMethod{mp.Spawn, mp.Forkserver, mp.Goroutine} {
		t.Run(string(m), func(t *testing.T) {
			ctx := context.Background()
			p := newPool(t, mp.PoolOptions{Processes: 2, StartMethod: m})
			if got, err := mp.Apply(ctx, p, square, 7); got != 49 || err != nil {
				t.Fatalf("Apply = %v, %v; want 49", got, err)
			}
			in := make([]int, 1000)
			for i := range in {
				in[i] = i
			}
			for _, chunk := range []int{0, 1, 7, 5000} {
				out, err := mp.Map(ctx, p, square, in, chunk)
				if err != nil {
					t.Fatalf("Map(chunk %d): %v", chunk, err)
				}
				for i, v := range out {
					if v != i*i {
						t.Fatalf("Map(chunk %d)[%d] = %d", chunk, i, v)
					}
				}
			}
			p.Close()
			if err := p.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPoolStarmap(t *testing.T) {
	mptest.CheckLeaks(t)
	p := newPool(t, mp.PoolOptions{Processes: 2})
	out, err := mp.Map(context.Background(), p, add, []pair{{1, 2}, {3, 4}, {5, 6}}, 0)
	if err != nil || !slices.Equal(out, []int{3, 7, 11}) {
		t.Fatalf("starmap = %v, %v", out, err)
	}
}

func TestPoolSubmitFutures(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 3})
	var fs []*mp.Future[int]
	for i := range 100 {
		fs = append(fs, mp.Submit(ctx, p, square, i))
	}
	for i, f := range fs {
		if v, err := f.Get(ctx); v != i*i || err != nil {
			t.Fatalf("future %d = %v, %v", i, v, err)
		}
		if ok, err := f.Successful(); !ok || err != nil {
			t.Fatalf("Successful = %v, %v", ok, err)
		}
	}
	slow := mp.Submit(ctx, p, poolSleep, 300*time.Millisecond)
	if _, err := slow.Successful(); !errors.Is(err, mp.ErrNotReady) {
		t.Errorf("Successful before ready: %v, want ErrNotReady", err)
	}
	if slow.Ready() {
		t.Error("Ready before the task could finish")
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := slow.Get(short); !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with an expired deadline: %v", err)
	}
	if err := slow.Wait(ctx); err != nil || !slow.Ready() {
		t.Errorf("Wait = %v, Ready %v", err, slow.Ready())
	}
	<-slow.Done()
}

func TestPoolErrors(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 2})
	_, err := mp.Apply(ctx, p, failOdd, 3)
	var re *mp.RemoteError
	if !errors.As(err, &re) || !errors.Is(err, mp.ErrEmpty) || !strings.Contains(re.Message, "odd 3") {
		t.Errorf("Apply(failOdd, 3) = %v, want a RemoteError matching ErrEmpty", err)
	}
	_, err = mp.Apply(ctx, p, panicky, "oops")
	if !errors.As(err, &re) || !re.Panic || !strings.Contains(re.Stack, "pool_test.go") {
		t.Errorf("Apply(panicky) = %#v, want a panic RemoteError with the stack", err)
	}
	if _, err := mp.Map(ctx, p, failOdd, []int{0, 2, 4, 5, 6}, 1); !errors.Is(err, mp.ErrEmpty) {
		t.Errorf("Map with a failing item: %v", err)
	}
	f := mp.Submit(ctx, p, failOdd, 1)
	f.Wait(ctx)
	if ok, err := f.Successful(); ok || err != nil {
		t.Errorf("Successful of a failed task = %v, %v", ok, err)
	}
	// The pool still works.
	if v, err := mp.Apply(ctx, p, square, 3); v != 9 || err != nil {
		t.Errorf("Apply after errors = %v, %v", v, err)
	}
}

func TestPoolCallbacks(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 2})
	var mu sync.Mutex
	var got []int
	var errs []error
	cb := mp.Callback[int]{
		Result: func(v int) { mu.Lock(); got = append(got, v); mu.Unlock() },
		Error:  func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() },
	}
	var fs []*mp.Future[int]
	for i := range 10 {
		fs = append(fs, mp.Submit(ctx, p, failOdd, i, cb))
	}
	var mapped []int
	mf := mp.MapAsync(ctx, p, square, []int{1, 2, 3}, 0, mp.Callback[[]int]{Result: func(v []int) { mapped = v }})
	for _, f := range fs {
		f.Wait(ctx) // ready only after its callback ran
	}
	mf.Wait(ctx)
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(got)
	if !slices.Equal(got, []int{0, 2, 4, 6, 8}) || len(errs) != 5 {
		t.Errorf("callbacks got %v and %d errors", got, len(errs))
	}
	if !slices.Equal(mapped, []int{1, 4, 9}) {
		t.Errorf("map callback got %v", mapped)
	}
}

func TestPoolInitializer(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 2, Initializer: mp.NewInitializer(initVal, "ready")})
	if v, err := mp.Apply(ctx, p, readInit, struct{}{}); v != "ready" || err != nil {
		t.Errorf("after the initializer: %q, %v", v, err)
	}
	bad := newPool(t, mp.PoolOptions{Processes: 2, Initializer: mp.NewInitializer(initBad, struct{}{})})
	_, err := mp.Apply(ctx, bad, square, 2)
	var re *mp.RemoteError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "no database") {
		t.Errorf("task of a pool whose initializer fails: %v", err)
	}
}

func TestPoolEmptyAndMisuse(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	out, err := mp.Map(ctx, p, square, nil, 0)
	if err != nil || out == nil || len(out) != 0 {
		t.Errorf("Map(empty) = %#v, %v", out, err)
	}
	for i, r := range mp.Imap(ctx, p, square, slices.Values([]int{}), mp.ImapOptions{}) {
		t.Errorf("Imap(empty) yielded %d: %+v", i, r)
	}
	if err := p.Wait(ctx); !errors.Is(err, mp.ErrPoolRunning) {
		t.Errorf("Wait on a running pool: %v", err)
	}
	p.Close()
	if _, err := mp.Apply(ctx, p, square, 2); !errors.Is(err, mp.ErrPoolClosed) {
		t.Errorf("Apply after Close: %v", err)
	}
	if _, err := mp.Map(ctx, p, square, []int{1}, 0); !errors.Is(err, mp.ErrPoolClosed) {
		t.Errorf("Map after Close: %v", err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Errorf("Wait after Close: %v", err)
	}
	p.Close()
	p.Terminate()
}

func TestPoolImap(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 2})
	in := func(yield func(int) bool) {
		for i := range 200 {
			if !yield(i) {
				return
			}
		}
	}
	for _, chunk := range []int{0, 1, 3} {
		i := 0
		for j, r := range mp.Imap(ctx, p, square, in, mp.ImapOptions{Chunk: chunk, ReadAhead: 10}) {
			if j != i || r.Err != nil || r.Value != i*i {
				t.Fatalf("Imap item %d = %d, %+v", i, j, r)
			}
			i++
		}
		if i != 200 {
			t.Errorf("Imap yielded %d items", i)
		}
		got := make([]int, 200)
		for j, r := range mp.ImapUnordered(ctx, p, square, in, mp.ImapOptions{Chunk: chunk}) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			got[j]++
			if r.Value != j*j {
				t.Errorf("ImapUnordered item %d = %d", j, r.Value)
			}
		}
		for j, n := range got {
			if n != 1 {
				t.Fatalf("ImapUnordered (chunk %d) yielded item %d %d times", chunk, j, n)
			}
		}
	}
	// Breaking out early stops reading the input.
	read := 0
	counting := func(yield func(int) bool) {
		for i := range 100000 {
			read++
			if !yield(i) {
				return
			}
		}
	}
	for i := range mp.Imap(ctx, p, square, counting, mp.ImapOptions{ReadAhead: 8}) {
		if i == 4 {
			break
		}
	}
	if read > 20 {
		t.Errorf("read %d items ahead with ReadAhead 8", read)
	}
	// Item errors come with their items, and fail no others, whatever
	// the chunk.
	for _, chunk := range []int{0, 1, 4} {
		n := 0
		for i, r := range mp.Imap(ctx, p, failOdd, slices.Values([]int{0, 1, 2, 3}), mp.ImapOptions{Chunk: chunk}) {
			var re *mp.RemoteError
			if i%2 == 1 && (!errors.As(r.Err, &re) || !errors.Is(r.Err, mp.ErrEmpty) || !strings.Contains(r.Err.Error(), fmt.Sprint("odd ", i))) {
				t.Errorf("Imap(chunk %d) item %d: %v, want its own RemoteError", chunk, i, r.Err)
			}
			if i%2 == 0 && (r.Err != nil || r.Value != i) {
				t.Errorf("Imap(chunk %d) item %d = %+v", chunk, i, r)
			}
			n++
		}
		if n != 4 {
			t.Errorf("Imap(chunk %d) with failing items: %d items", chunk, n)
		}
	}
}

func TestPoolImapTimeout(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	timeouts, values := 0, 0
	for i, r := range mp.Imap(ctx, p, poolSleep, slices.Values([]time.Duration{300 * time.Millisecond}), mp.ImapOptions{Timeout: 50 * time.Millisecond}) {
		if i != 0 {
			t.Fatalf("Imap yielded index %d of a single item", i)
		}
		if errors.Is(r.Err, mp.ErrTimeout) && errors.Is(r.Err, context.DeadlineExceeded) {
			timeouts++
			continue
		}
		if r.Err != nil || r.Value == 0 {
			t.Fatalf("Imap = %+v", r)
		}
		values++
	}
	if timeouts == 0 || values != 1 {
		t.Errorf("%d timeouts, %d values; want some timeouts, then the value", timeouts, values)
	}
}

var (
	badResult = mp.Register("test.pool.badResult", func(_ context.Context, _ int) (any, error) {
		return make(chan int), nil
	})
	takeAny = mp.Register("test.pool.takeAny", func(_ context.Context, _ any) (int, error) { return 1, nil })
)

func TestPoolUnencodable(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	// Python: a result that cannot be pickled fails the task (MaybeEncodingError).
	if _, err := mp.Apply(ctx, p, badResult, 1); err == nil {
		t.Error("a result that cannot be encoded gave no error")
	}
	// An argument that cannot be encoded fails at once, in this process.
	f := mp.Submit(ctx, p, takeAny, any(make(chan int)))
	if !f.Ready() {
		t.Error("the future of an argument that cannot be encoded is not ready at once")
	}
	if _, err := f.Get(ctx); err == nil {
		t.Error("an argument that cannot be encoded gave no error")
	}
	if v, err := mp.Apply(ctx, p, square, 4); v != 16 || err != nil {
		t.Errorf("the pool after encoding errors: %v, %v", v, err)
	}
}

func TestPoolImapUnorderedErrors(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 2})
	seen := map[int]bool{}
	for i, r := range mp.ImapUnordered(ctx, p, failOdd, slices.Values([]int{0, 1, 2, 3, 4, 5}), mp.ImapOptions{Chunk: 2}) {
		var re *mp.RemoteError
		switch {
		case seen[i]:
			t.Errorf("item %d yielded twice", i)
		case i%2 == 0 && r.Err == nil && r.Value == i:
		case i%2 == 1 && errors.As(r.Err, &re) && strings.Contains(re.Message, fmt.Sprint("odd ", i)):
		default:
			t.Errorf("item %d: %+v", i, r)
		}
		seen[i] = true
	}
	if len(seen) != 6 {
		t.Errorf("%d items yielded, want 6", len(seen))
	}
	// A cancelled context ends the iteration: every item read is yielded,
	// those not done with the context's error.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var got []int
	for i, r := range mp.Imap(cctx, p, poolSleep, slices.Values([]time.Duration{time.Millisecond, time.Hour, time.Hour}), mp.ImapOptions{}) {
		got = append(got, i)
		if i == 0 {
			if r.Err != nil {
				t.Errorf("item 0: %v", r.Err)
			}
			cancel()
			continue
		}
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("item %d after cancel: %v", i, r.Err)
		}
	}
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("yielded items %v, want [0 1 2]", got)
	}
}

// A context that ends while the input is still being read stops the
// reading: the items read are yielded, the last one read with the
// context's error, and the input is read no further.
func TestPoolImapCancelStopsReading(t *testing.T) {
	mptest.CheckLeaks(t)
	p := newPool(t, mp.PoolOptions{Processes: 1})
	for _, ordered := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		read := 0
		in := func(yield func(int) bool) {
			for i := range 1000 {
				read++
				if !yield(i) {
					return
				}
			}
		}
		imap := mp.Imap[int, int]
		if !ordered {
			imap = mp.ImapUnordered[int, int]
		}
		seen := map[int]error{}
		for i, r := range imap(ctx, p, square, in, mp.ImapOptions{ReadAhead: 4, Chunk: 1}) {
			if _, dup := seen[i]; dup {
				t.Errorf("item %d yielded twice", i)
			}
			seen[i] = r.Err
			if len(seen) == 10 {
				cancel()
			}
		}
		cancel()
		if len(seen) != read {
			t.Errorf("ordered %v: %d items read, %d yielded", ordered, read, len(seen))
		}
		if err := seen[read-1]; !errors.Is(err, context.Canceled) {
			t.Errorf("ordered %v: the last item read (%d) yielded %v, want context.Canceled", ordered, read-1, err)
		}
		if read > 10+4+1 {
			t.Errorf("ordered %v: %d items read after a cancel at the 10th result with ReadAhead 4", ordered, read)
		}
	}
}

// checksum is the argument's length and FNV-1a hash, computed where the
// task runs.
var checksum = mp.Register("test.pool.checksum", func(_ context.Context, b []byte) (string, error) {
	return sumOf(b), nil
})

func sumOf(b []byte) string {
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("%d:%x", len(b), h.Sum64())
}

// Arguments of 64 KiB or more travel apart from their task's record: they
// arrive whole, one by one and in chunks, beside small ones.
func TestPoolLargeArguments(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	var items [][]byte
	for i, size := range []int{10, 64<<10 - 1, 64 << 10, 200 << 10, 1 << 20, 3, 5 << 20} {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(i*31 + j*7)
		}
		items = append(items, b)
	}
	want := make([]string, len(items))
	for i, b := range items {
		want[i] = sumOf(b)
	}
	for _, m := range []mp.StartMethod{mp.Spawn, mp.Goroutine} {
		t.Run(string(m), func(t *testing.T) {
			p := newPool(t, mp.PoolOptions{Processes: 2, StartMethod: m})
			for _, chunk := range []int{1, 2} {
				got, err := mp.Map(ctx, p, checksum, items, chunk)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("Map(chunk %d) = %v, %v; want %v", chunk, got, err, want)
				}
			}
			if got, err := mp.Apply(ctx, p, checksum, items[4]); got != want[4] || err != nil {
				t.Errorf("Apply = %v, %v; want %v", got, err, want[4])
			}
		})
	}
}

// grow appends to its argument, which in a chunk of byte slices is the
// message's own memory: the append must not reach the next item.
var grow = mp.Register("test.pool.grow", func(_ context.Context, b []byte) (string, error) {
	isNil := b == nil
	b = append(b, strings.Repeat("!", 100)...)
	return fmt.Sprintf("nil=%v %s", isNil, sumOf(b)), nil
})

// Items of a chunk of byte slices reach the function where they arrived:
// each one whole, nil and empty kept apart, and an append to one leaving
// the others as they were.
func TestPoolByteItemsInPlace(t *testing.T) {
	ctx := context.Background()
	items := [][]byte{nil, {}, []byte("a"), []byte("bb"), nil, make([]byte, 70<<10), []byte("ccc"), make([]byte, 300)}
	want := make([]string, len(items))
	for i, b := range items {
		want[i] = fmt.Sprintf("nil=%v %s", b == nil, sumOf(append(slices.Clone(b), strings.Repeat("!", 100)...)))
	}
	p := newPool(t, mp.PoolOptions{Processes: 2})
	for _, chunk := range []int{1, 3, len(items)} {
		got, err := mp.Map(ctx, p, grow, items, chunk)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Map(chunk %d) = %q, %v; want %q", chunk, got, err, want)
		}
	}
}

// growFirst appends to the first of its byte slices and reports them all:
// the append must leave the second as it was.
var growFirst = mp.Register("test.pool.growFirst", func(_ context.Context, bs [][]byte) ([]string, error) {
	bs[0] = append(bs[0], strings.Repeat("!", 100)...)
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = sumOf(b)
	}
	return out, nil
})

// A single task's byte slices, too, reach the function where they arrived,
// in a worker, a process and a goroutine.
func TestByteArgumentInPlace(t *testing.T) {
	ctx := context.Background()
	arg := [][]byte{[]byte("first"), []byte("second"), make([]byte, 100<<10)}
	want := []string{sumOf([]byte("first" + strings.Repeat("!", 100))), sumOf(arg[1]), sumOf(arg[2])}
	p := newPool(t, mp.PoolOptions{Processes: 1})
	if got, err := mp.Apply(ctx, p, growFirst, arg); err != nil || !slices.Equal(got, want) {
		t.Errorf("pool: %q, %v; want %q", got, err, want)
	}
	for _, m := range []mp.StartMethod{mp.Spawn, mp.Goroutine} {
		pr := mp.Command(growFirst, arg)
		pr.StartMethod = m
		if err := pr.Run(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := mp.Result[[]string](pr)
		pr.Close()
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %q, %v; want %q", m, got, err, want)
		}
	}
	if string(arg[0]) != "first" {
		t.Errorf("the caller's argument changed: %q", arg[0])
	}
}
